"""Download every pinned file and compare its sha256 with versions.yaml (needs internet).

Run after every bump of components/steps/versions.yaml and before the first real build:

    python -m components.steps.pins_check            # every pin
    python -m components.steps.pins_check datadog-agent otelcol-contrib

It prints one line per download and exits 1 when any file cannot be fetched or its
sha256 differs from the pin, 0 when every one matches. Nothing is installed or run.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import urllib.request
from dataclasses import dataclass
from typing import Callable, Optional

from components.model.errors import ValidationFailed
from components.model.steps import load_catalogue


@dataclass(frozen=True)
class Result:
    pin: str
    os: str
    url: str
    expected: str
    actual: Optional[str] = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.actual == self.expected

    def __str__(self) -> str:
        head = f"{self.pin} ({self.os}) {self.url}"
        if self.error:
            return f"FAIL {head}: {self.error}"
        if not self.ok:
            return f"FAIL {head}: sha256 {self.actual}, versions.yaml says {self.expected}"
        return f"ok   {head}"


def sha256_of(url: str, timeout: float = 120.0) -> str:
    """The sha256 of what the URL serves, streamed (installers can be large)."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "golden-images-pins-check"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https pins only)
        for chunk in iter(lambda: response.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check(pins: dict, only: Optional[list] = None, fetch: Callable[[str], str] = sha256_of) -> list:
    """One Result per (pin, OS) download, in versions.yaml order."""
    results = []
    for name, pin in pins.items():
        if only and name not in only:
            continue
        for os, download in pin.downloads.items():
            expected = str(download["sha256"]).lower()
            try:
                actual = fetch(download["url"]).lower()
            except Exception as err:  # any failure to fetch is a failed check, reported, never hidden
                results.append(Result(name, os, download["url"], expected, error=f"{type(err).__name__}: {err}"))
                continue
            results.append(Result(name, os, download["url"], expected, actual=actual))
    return results


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pins", nargs="*", help="pin names to check (default: all)")
    args = parser.parse_args(argv)
    try:
        catalogue = load_catalogue()
    except ValidationFailed as failed:
        print(failed.report(), file=sys.stderr)
        return 1
    unknown = [name for name in args.pins if name not in catalogue.pins]
    if unknown:
        print(f"unknown pin(s): {', '.join(unknown)} (known: {', '.join(catalogue.pins)})", file=sys.stderr)
        return 1
    results = check(catalogue.pins, args.pins or None)
    for result in results:
        print(result)
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} pinned downloads match versions.yaml")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
