"""Secret-looking values, found by detect-secrets (the same scanner the test gate runs)."""
from __future__ import annotations

import json
import os
import re
import tempfile

# Checksums are high-entropy by design and are not secrets.
_CHECKSUM = re.compile(r"^[0-9a-fA-F]{64}$")


def find_secret_values(entries: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    """Map each location whose (key, value) looks like a secret to the detectors that fired.

    entries: (location, key, value). Keys matter: `api_key: "..."` trips the keyword
    detector even when the value has low entropy.
    """
    candidates = [(loc, key, val) for loc, key, val in entries if val and not _CHECKSUM.match(val)]
    if not candidates:
        return {}
    text = "".join(f"{_safe_key(key)}: {json.dumps(val)}\n" for _, key, val in candidates)
    found: dict[str, list[str]] = {}
    for line, kind in scan_text(text, suffix=".yaml"):
        found.setdefault(candidates[line - 1][0], []).append(kind)
    return found


def scan_text(text: str, suffix: str = ".txt") -> list[tuple[int, str]]:
    """(line number, detector) for every finding in a text, scanned as a file of that suffix."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "scan" + suffix)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        with default_settings():
            collection = SecretsCollection()
            collection.scan_file(path)
        return sorted(
            {(secret.line_number, secret.type) for secrets in collection.data.values() for secret in secrets}
        )


def _safe_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key) or "value"
