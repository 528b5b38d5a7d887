"""Secret-looking values, found by detect-secrets (the same scanner the test gate runs)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from typing import Any

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


# Findings depend only on the text, its suffix and the scanner, and flavours share test suites,
# tags and parameter values. A scan costs milliseconds, the first one a third of a second
# (importing detect-secrets); a lookup nothing. `make plan` keeps these between runs with the
# guardrails' findings (policy/offline.py).
# Lists, not tuples: policy/secret_scan.py keeps the findings between runs as JSON.
FOUND: dict[str, list[list[Any]]] = {}  # sha256 of suffix and text -> [[line number, detector], ...]


def scan_text(text: str, suffix: str = ".txt") -> list[tuple[int, str]]:
    """(line number, detector) for every finding in a text, scanned as a file of that suffix."""
    key = hashlib.sha256(f"{suffix}\0{text}".encode()).hexdigest()
    if key not in FOUND:
        FOUND[key] = _scan(text, suffix)
    return [(line, kind) for line, kind in FOUND[key]]


def _scan(text: str, suffix: str) -> list[list[Any]]:
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "scan" + suffix)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        with default_settings():
            collection = SecretsCollection()
            collection.scan_file(path)
        return [
            [line, kind]
            for line, kind in sorted(
                {(secret.line_number, secret.type) for secrets in collection.data.values() for secret in secrets}
            )
        ]


def _safe_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key) or "value"
