"""Tags: the one rule for the tags a flavour or a stack sets, which land on both clouds' resources."""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from .errors import EntryErrors


def check_tags(value: dict[str, str]) -> dict[str, str]:
    """Tags both clouds accept: AWS's and Azure's limits and reserved prefixes; every bad tag named."""
    bad: list[tuple[str, str]] = []
    for key, item in value.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith(("aws:", "azure", "microsoft", "windows")):
            bad.append((key, f"tag key '{key}' must be 1-128 characters and not start with aws:, azure, "
                             "microsoft or windows (reserved by the clouds)"))
        elif len(item) > 256:
            bad.append((key, f"tag '{key}' value is longer than 256 characters"))
        elif any(c in key for c in "<>%&\\?/"):
            bad.append((key, f"tag key '{key}' contains a character Azure forbids (<>%&\\?/)"))
        # Image Builder's TagKey pattern (botocore model): ^(?!aws:)[a-zA-Z0-9\s_.:/=+\-@]*$
        elif not re.fullmatch(r"[a-zA-Z0-9 _.:=+@-]+", key):
            bad.append((key, f"tag key '{key}' may hold only letters, digits, spaces and _ . : = + - @ "
                             "(what EC2 Image Builder and Azure both accept)"))
        elif any("{{" in text or "${" in text for text in (key, item)):
            bad.append((key, f"tag '{key}' contains '{{{{' or '${{', which Image Builder substitutes as a variable"))
    seen: dict[str, str] = {}
    for key in value:
        if key.lower() in seen:
            bad.append((key, f"tag keys '{seen[key.lower()]}' and '{key}' differ only in case; Azure treats them as one"))
        seen[key.lower()] = key
    if bad:
        raise EntryErrors(bad)
    return value


Tags = Annotated[dict[str, str], AfterValidator(check_tags)]
