"""Tags: the one rule for the tags a flavour or a stack sets, which land on both clouds' resources."""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


def check_tags(value: dict[str, str]) -> dict[str, str]:
    """Tags both clouds accept: AWS's and Azure's limits and reserved prefixes."""
    for key, item in value.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith(("aws:", "azure", "microsoft", "windows")):
            raise ValueError(
                f"tag key '{key}' must be 1-128 characters and not start with aws:, azure, "
                "microsoft or windows (reserved by the clouds)"
            )
        if len(item) > 256:
            raise ValueError(f"tag '{key}' value is longer than 256 characters")
        if any(c in key for c in "<>%&\\?/"):
            raise ValueError(f"tag key '{key}' contains a character Azure forbids (<>%&\\?/)")
        # Image Builder's TagKey pattern (botocore model): ^(?!aws:)[a-zA-Z0-9\s_.:/=+\-@]*$
        if not re.fullmatch(r"[a-zA-Z0-9 _.:=+@-]+", key):
            raise ValueError(f"tag key '{key}' may hold only letters, digits, spaces and _ . : = + - @ "
                             "(what EC2 Image Builder and Azure both accept)")
        for text in (key, item):
            if "{{" in text or "${" in text:
                raise ValueError(f"tag '{key}' contains '{{{{' or '${{', which Image Builder substitutes as a variable")
    seen: dict[str, str] = {}
    for key in value:
        if key.lower() in seen:
            raise ValueError(f"tag keys '{seen[key.lower()]}' and '{key}' differ only in case; Azure treats them as one")
        seen[key.lower()] = key
    return value


Tags = Annotated[dict[str, str], AfterValidator(check_tags)]
