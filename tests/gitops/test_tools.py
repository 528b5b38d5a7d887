"""The GitOps tooling around the workflows: run-block shellcheck, and make preview/up."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from components.plan import ROOT

SCRIPTS = ROOT / "scripts"


def test_workflow_run_blocks_are_shellchecked_at_their_lines(tmp_path):
    workflow = tmp_path / "bad.yml"
    workflow.write_text(textwrap.dedent("""\
        name: bad
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: echo fine
              - run: |
                  echo "ok"
                  cp $SOURCE /tmp
                  echo "${{ github.sha }}"
              - shell: pwsh
                run: Write-Host $unquoted
        """))
    result = subprocess.run([sys.executable, str(SCRIPTS / "workflow_shellcheck.py"), str(workflow)],
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    findings = [line for line in result.stdout.splitlines() if "[SC" in line]
    assert len(findings) == 1  # the expression is blanked out, the PowerShell step is not bash
    assert findings[0].startswith(f"{workflow}:10:") and "[SC2086]" in findings[0]


def test_shipped_workflow_run_blocks_pass_shellcheck():
    result = subprocess.run([sys.executable, str(SCRIPTS / "workflow_shellcheck.py")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 problem(s)" in result.stdout


@pytest.fixture
def fake_pulumi(tmp_path) -> Path:
    """A `pulumi` on PATH that records its arguments and the backend it was given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "pulumi.log"
    script = bin_dir / "pulumi"
    script.write_text(f'#!/bin/sh\necho "$PULUMI_BACKEND_URL | $*" >> "{log}"\n')
    script.chmod(0o755)
    return bin_dir


def _stack_script(*args: str, path: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    environ.update(PATH=path, **env)
    return subprocess.run(["bash", str(SCRIPTS / "pulumi-stack.sh"), *args], capture_output=True, text=True,
                          env=environ)


def test_preview_without_the_pulumi_cli_fails_clearly(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _stack_script("preview", "dev", path=f"{empty}:/usr/bin:/bin")
    assert result.returncode == 127
    assert "the Pulumi CLI is not installed" in result.stderr and "make plan" in result.stderr


def test_preview_defaults_to_a_file_backend_inside_the_project(fake_pulumi):
    state = ROOT / ".pulumi-state"
    existed = state.exists()
    try:
        result = _stack_script("preview", "dev", "--diff", path=f"{fake_pulumi}:/usr/bin:/bin")
    finally:
        if not existed and state.is_dir() and not any(state.iterdir()):
            state.rmdir()
    assert result.returncode == 0, result.stderr
    backend = f"file://{ROOT}/.pulumi-state"
    assert (fake_pulumi.parent / "pulumi.log").read_text().splitlines() == [
        f"{backend} | stack select --create dev --non-interactive",
        f"{backend} | preview --stack dev --diff",
    ]
    assert f"state backend: {backend}" in result.stderr


def test_up_uses_the_configured_backend(fake_pulumi):
    result = _stack_script("up", "prod", path=f"{fake_pulumi}:/usr/bin:/bin", PULUMI_BACKEND_URL="s3://state-bucket")
    assert result.returncode == 0, result.stderr
    assert (fake_pulumi.parent / "pulumi.log").read_text().splitlines() == [
        "s3://state-bucket | stack select --create prod --non-interactive",
        "s3://state-bucket | up --stack prod",
    ]


@pytest.mark.parametrize("args, message", [
    (("destroy", "dev"), "usage:"),
    (("up", "qa"), "Pulumi.qa.yaml not found (stacks:"),
])
def test_stack_script_refuses_what_it_does_not_do(fake_pulumi, args, message):
    result = _stack_script(*args, path=f"{fake_pulumi}:/usr/bin:/bin")
    assert result.returncode == 2 and message in result.stderr
    assert not (fake_pulumi.parent / "pulumi.log").exists()
