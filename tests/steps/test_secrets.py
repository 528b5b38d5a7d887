"""No step file, pin file or flavour suite carries anything detect-secrets recognises."""
from __future__ import annotations

import re

import pytest

from components.model.secrets import scan_text
from components.model.steps import STEPS_DIR
from tests.steps.conftest import FLAVOURS_DIR, ROOT

FILES = sorted(p for p in STEPS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
SUITES = sorted(p for p in (FLAVOURS_DIR / "tests").glob("*") if p.is_file())
CHECKSUM_LINE = re.compile(r"^\s*sha256:\s*[0-9a-f]{64}\s*$")


def findings(path, root=ROOT) -> list[str]:
    text = path.read_text()
    lines = text.splitlines()
    found = []
    for number, kind in scan_text(text, suffix=path.suffix or ".txt"):
        # Pins are checksums by design: high-entropy hex on a `sha256:` line is expected there only.
        if path.name == "versions.yaml" and kind == "Hex High Entropy String" and CHECKSUM_LINE.match(lines[number - 1]):
            continue
        found.append(f"{path.relative_to(root)}:{number}: {kind}")
    return found


def test_the_scanner_finds_a_planted_secret(tmp_path):
    planted = tmp_path / "install.sh"
    planted.write_text('#!/usr/bin/env bash\naws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"\n')
    assert findings(planted, tmp_path)


def test_a_checksum_outside_a_sha256_line_is_still_reported(tmp_path):
    fake = tmp_path / "versions.yaml"
    fake.write_text("tool:\n  version: 1.0.0\n  token: 5ffceed6310cba814cdbae857a3e58b6107ac5fe32295dd98db9e07efdb8f1ad\n")
    assert findings(fake, tmp_path) == ["versions.yaml:3: Hex High Entropy String"]


def test_every_file_of_every_step_is_scanned():
    scanned = {p.parent.name for p in FILES}
    assert {p.parent.name for p in STEPS_DIR.glob("*/step.yaml")} <= scanned
    assert any(p.name == "versions.yaml" for p in FILES)


@pytest.mark.parametrize("path", FILES + SUITES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_secret_in_step_files(path):
    assert findings(path) == []
