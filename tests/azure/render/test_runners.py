"""Runners: a step's script as the Shell and PowerShell lines that run it, retried and time-limited."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from components.azure import render


class TestPowerShellRunner:
    def test_retries_and_time_limit(self):
        lines = render.powershell_runner("01-sample-install", "exit 0", (0, 3010), retries=2, timeout_minutes=15)
        text = "\n".join(lines)
        assert "for ($attempt = 1; $attempt -le 3; $attempt++)" in text
        assert f"WaitForExit({15 * 60 * 1000})" in text
        assert "$valid = @(0, 3010)" in text
        # docs/azure.md: a timed-out step fails with exit code 1460 (ERROR_TIMEOUT).
        assert "$code = 1460" in text
        assert lines[-1] == "exit $code"

    def test_without_a_time_limit_the_step_may_run_until_the_build_timeout(self):
        lines = render.powershell_runner("01-sample-install", "exit 0", (0,), retries=0, timeout_minutes=None)
        assert "    $process.WaitForExit()" in lines and not any("taskkill" in line for line in lines)
        assert any("$attempt -le 1;" in line for line in lines)


@pytest.fixture
def fake_sudo(tmp_path, monkeypatch) -> Path:
    """A `sudo` that just runs its arguments, first on PATH, so runner lines can be executed here."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    sudo = bindir / "sudo"
    sudo.write_text('#!/bin/sh\nexec "$@"\n')
    sudo.chmod(sudo.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(render, "RETRY_DELAY_SECONDS", 0)
    return bindir


def run_lines(lines: list[str], bindir: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run inline lines the way Image Builder's Shell customizer does: one file, `sh -e`."""
    script = cwd / "inline.sh"
    script.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-e", str(script)], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


class TestShellRunnerExecuted:
    def test_success_and_cleanup(self, fake_sudo, tmp_path):
        marker = tmp_path / "ran"
        result = run_lines(
            render.shell_runner("t01-ok", f"#!/bin/sh\ntouch '{marker}'\n", (0,), 0, None), fake_sudo, tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert marker.exists()
        assert not Path("/tmp/golden-images-t01-ok.sh").exists()

    def test_failure_fails_the_customizer(self, fake_sudo, tmp_path):
        result = run_lines(render.shell_runner("t02-fail", "#!/bin/sh\nexit 7\n", (0,), 0, None), fake_sudo, tmp_path)
        assert result.returncode == 7

    def test_valid_non_zero_codes_count_as_success(self, fake_sudo, tmp_path):
        result = run_lines(render.shell_runner("t03-valid", "#!/bin/sh\nexit 3\n", (0, 3), 0, None), fake_sudo, tmp_path)
        assert result.returncode == 0

    def test_retries_until_the_script_succeeds(self, fake_sudo, tmp_path):
        counter = tmp_path / "count"
        script = f"#!/bin/sh\necho x >> '{counter}'\n[ $(wc -l < '{counter}') -ge 3 ]\n"
        result = run_lines(render.shell_runner("t04-retry", script, (0,), 2, None), fake_sudo, tmp_path)
        assert result.returncode == 0, result.stderr
        assert counter.read_text().count("x") == 3
        assert "attempt 1 of 3 failed" in result.stderr

    def test_retries_are_limited(self, fake_sudo, tmp_path):
        counter = tmp_path / "count"
        script = f"#!/bin/sh\necho x >> '{counter}'\nexit 5\n"
        result = run_lines(render.shell_runner("t05-give-up", script, (0,), 1, None), fake_sudo, tmp_path)
        assert result.returncode == 5
        assert counter.read_text().count("x") == 2

    def test_time_limit_uses_timeout(self, fake_sudo, tmp_path):
        lines = render.shell_runner("t06-slow", "#!/bin/sh\nsleep 1\n", (0,), 0, 2)
        assert any(line.strip().startswith("sudo timeout --kill-after=60 120 ") for line in lines)
        assert run_lines(lines, fake_sudo, tmp_path).returncode == 0

    def test_script_without_shebang_runs_with_bash(self, fake_sudo, tmp_path):
        lines = render.shell_runner("t07-bash", "echo ${BASH_VERSION:+bash}\n", (0,), 0, None)
        result = run_lines(lines, fake_sudo, tmp_path)
        assert result.stdout.strip() == "bash"


