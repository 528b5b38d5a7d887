"""A flavour folder written for a test, and the refusals a loader or `make plan` gives for it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from tests.samples import stack_config, ubuntu_flavour

UBUNTU = ubuntu_flavour() + "  - os-updates\n"
# A Windows flavour file up to `steps:`; the test appends its steps.
WINDOWS = """\
name: win
description: A Windows image
version: 1.0.0
os: windows
base_image:
  aws: ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-Base
  azure: {publisher: MicrosoftWindowsServer, offer: WindowsServer, sku: 2022-datacenter-core-g2}
steps:
"""


def folder_with(tmp_path: Path, files: dict) -> Path:
    """image_flavours/ under tmp_path holding these files (name -> text)."""
    folder = tmp_path / "image_flavours"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def refused(tmp_path: Path, files: dict, config: Optional[dict] = None) -> list[str]:
    """Every problem the loader reports for a folder of these files."""
    folder = folder_with(tmp_path, files)
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(config or stack_config(), "Pulumi.dev.yaml", folder, tmp_path)
    return [str(p) for p in caught.value.problems]


def planned_refusal(project, capsys) -> tuple[int, str]:
    """`make plan` on the broken copy: its exit code and what it printed to stderr."""
    from components.plan import main

    out = project.root / "build" / "plan" / "dev.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('{"stale": true}\n')  # a plan of an earlier run must not survive a failed one
    status = main(["--stack", "dev", "--root", str(project.root), "--quiet"])
    assert not out.exists()
    return status, capsys.readouterr().err
