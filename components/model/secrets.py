"""Secret-looking values, found by detect-secrets (the same scanner the test gate runs).

Findings depend only on the text, its suffix and the scanner, and flavours share test suites,
tags and parameter values. A scan costs milliseconds, the first one a third of a second
(importing detect-secrets); a lookup nothing. The caller owns the memory of findings, a
SecretCache, and hands it in: `make plan` shares one with the guardrails
(policy/secret_scan.py's ScanCache) and keeps it between runs; without one, nothing is
remembered.

The scan is bounded: detect-secrets takes up to about 25 s for a hostile megabyte (forty
thousand short lines), so one text is at most MAX_SCAN_BYTES and one cache scans at most
MAX_SCAN_BYTES_PER_RUN of new text; past either, ScanRefused (the caller reports the
field). A text too large to scan is refused, never passed unscanned.
"""
from __future__ import annotations

import codecs
import contextlib
import contextvars
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

# Checksums are high-entropy by design and are not secrets, in fields declared as one.
CHECKSUM = re.compile(r"^[0-9a-fA-F]{64}$")

MAX_SCAN_BYTES = 1_000_000
MAX_SCAN_BYTES_PER_RUN = 2_000_000


class ScanRefused(ValueError):
    """A text the scanner will not judge within its bounds; the message says why."""


class SecretCache:
    """What has been found: sha256 of suffix and text -> [[line number, detector], ...].

    `found` is what a runner saves and loads (plain JSON). The bounds live here too: a text
    scanned through this cache is at most `max_text` bytes, and `scanned` counts the bytes
    scanned anew, against `budget`. Without a cache a scan is unbounded: the caller bounds it.
    """

    def __init__(self, found: Optional[dict[str, list[list[Any]]]] = None, budget: int = MAX_SCAN_BYTES_PER_RUN,
                 max_text: int = MAX_SCAN_BYTES):
        self.found: dict[str, list[list[Any]]] = dict(found or {})
        self.scanned = 0
        self.budget = budget
        self.max_text = max_text


_ACTIVE: contextvars.ContextVar[Optional[SecretCache]] = contextvars.ContextVar("secret_cache", default=None)


@contextlib.contextmanager
def using(cache: SecretCache) -> Iterator[SecretCache]:
    """Make `cache` the one the flavour checks use while the program runs (components/plan.py
    runs __main__.py, which cannot take arguments)."""
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def active_cache() -> SecretCache:
    """The cache a runner handed in with `using`, else a new one for this run alone."""
    return _ACTIVE.get() or SecretCache()


def find_secret_values(entries: list[tuple[str, str, str]], cache: Optional[SecretCache] = None) -> dict[str, list[str]]:
    """Map each location whose (key, value) looks like a secret to the detectors that fired.

    entries: (location, key, value). Keys matter: `api_key: "..."` trips the keyword
    detector even when the value has low entropy. Every value is judged, checksums too:
    a caller exempts a 64-hex value only where the field is declared a checksum or commit.
    """
    candidates = [(loc, key, val) for loc, key, val in entries if val]
    if not candidates:
        return {}
    text = "".join(f"{_safe_key(key)}: {json.dumps(val)}\n" for _, key, val in candidates)
    found: dict[str, list[str]] = {}
    for line, kind in scan_text(text, suffix=".yaml", cache=cache):
        found.setdefault(candidates[line - 1][0], []).append(kind)
    return found


def scan_text(text: str, suffix: str = ".txt", cache: Optional[SecretCache] = None) -> list[tuple[int, str]]:
    """(line number, detector) for every finding in a text, scanned as a file of that suffix."""
    key = hashlib.sha256(f"{suffix}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
    if cache is not None and key in cache.found:
        return [(line, kind) for line, kind in cache.found[key]]
    if cache is not None:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > cache.max_text:
            raise ScanRefused(f"is {size} bytes; the secret scan reads at most {cache.max_text} bytes of one text")
        if cache.scanned + size > cache.budget:
            raise ScanRefused(f"would take the secret scan past {cache.budget} bytes in one run; "
                              "ship large files as pinned downloads")
        cache.scanned += size
    result = _scan(text, suffix)
    if cache is not None:
        cache.found[key] = result
    return [(line, kind) for line, kind in result]


def decode_for_scan(data: bytes) -> tuple[str, str]:
    """A file's bytes as text to scan, in any encoding, and how it was read.

    UTF-8 (with or without BOM) and UTF-16/32 with a BOM as such; UTF-16 without a BOM when
    every other byte is zero; other text with undecodable bytes replaced (one stray byte must
    not hide the rest of the file); binary files as their printable runs, one per line, as
    `strings` shows them. Nothing is ever skipped.
    """
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace"), codec
    if b"\x00" not in data:
        return data.decode("utf-8", "replace"), "utf-8"
    sample = data[:4096]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) * 0.4:
        return data.decode("utf-16-le", "replace"), "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) * 0.4:
        return data.decode("utf-16-be", "replace"), "utf-16-be"
    runs = re.findall(rb"[\x20-\x7e\t]{8,}", data)
    return "\n".join(run.decode("ascii") for run in runs) + "\n", "binary"


def mask(value: str) -> str:
    """A flagged value as it may be shown: its length and kind, never any of its characters."""
    return f"<{len(value)} characters withheld: looks like a secret>"


def scanner_version() -> str:
    """What findings depend on besides the text: detect-secrets and this module's way of calling it."""
    from importlib.metadata import version

    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return f"detect-secrets {version('detect-secrets')}, components/model/secrets.py {source}"


def _scan(text: str, suffix: str) -> list[list[Any]]:
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "scan" + suffix)
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
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
