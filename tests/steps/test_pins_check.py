"""pins_check downloads each pinned file and compares it with versions.yaml."""
from __future__ import annotations

import hashlib

from components.model.steps import Pin
from components.steps.pins_check import check, main, sha256_of

PINS = {
    "tool": Pin("tool", "1.0.0", {"windows": {"url": "https://example.invalid/tool-1.0.0.msi", "sha256": "a" * 64}}),
    "agent": Pin("agent", "2.0.0", {"linux": {"url": "https://example.invalid/agent-2.0.0.deb", "sha256": "b" * 64}}),
}


def test_matching_and_mismatching_downloads():
    results = check(PINS, fetch=lambda url: "a" * 64)
    assert [(r.pin, r.ok) for r in results] == [("tool", True), ("agent", False)]
    assert "versions.yaml says " + "b" * 64 in str(results[1])


def test_a_download_that_fails_is_a_failure():
    def broken(url):
        raise OSError("no route to host")

    results = check(PINS, only=["tool"], fetch=broken)
    assert len(results) == 1 and not results[0].ok
    assert "OSError: no route to host" in str(results[0])


def test_sha256_of_streams_what_the_url_serves(tmp_path):
    payload = b"x" * (3 * 1024 * 1024 + 7)
    target = tmp_path / "file.bin"
    target.write_bytes(payload)
    assert sha256_of(target.as_uri()) == hashlib.sha256(payload).hexdigest()


def test_unknown_pin_names_are_refused(capsys):
    assert main(["no-such-pin"]) == 1
    assert "unknown pin(s): no-such-pin" in capsys.readouterr().err
