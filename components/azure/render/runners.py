"""Script runners: a step's script as Shell or PowerShell lines, with retries and a time limit.

Scripts travel base64-encoded and run from a file. Inline commands pass through
Packer, whose template engine would rewrite `{{ }}` in a script, and elevated
inline PowerShell is known to hang; a file sidesteps both, keeps quoting out of the
picture, and gives retries and time limits one place to live. The comment line names
the step and the script's sha256 so a plan diff still says what changed.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Iterable, Optional

from ...model import prepared


def sh_quote(value: str) -> str:
    """One quoting for both clouds: the model's (components/model/prepared.py)."""
    return prepared.sh_quote(value)


def ps_quote(value: str) -> str:
    """Every PowerShell single quote doubled, ASCII and U+2018-U+201B (the model's)."""
    return prepared.ps_quote(value)

RETRY_DELAY_SECONDS = 30
# Exit code a timed-out Windows step reports (ERROR_TIMEOUT); `timeout` uses 124 on Linux.
WINDOWS_TIMEOUT_EXIT_CODE = 1460




def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def shell_runner(label: str, script: str, valid_exit_codes: Iterable[int], retries: int,
                 timeout_minutes: Optional[int]) -> list[str]:
    """Shell lines that run a script as root with retries, a time limit and valid exit codes.

    Image Builder's Shell customizer runs as an unprivileged user with sudo and treats
    any non-zero exit as failure, so valid non-zero codes are mapped to success here.
    """
    valid = sorted(set(valid_exit_codes) | {0})
    attempts = retries + 1
    path = f"/tmp/golden-images-{label}.sh"
    encoded = base64.b64encode(script.encode()).decode()
    # The interpreter is named explicitly (the shebang's, else bash) so the script runs
    # even where /tmp is mounted noexec.
    interpreter = script.split("\n", 1)[0][2:].split() if script.startswith("#!") else ["bash"]
    command = " ".join([*(sh_quote(word) for word in interpreter), sh_quote(path)])
    if timeout_minutes:
        command = f"timeout --kill-after=60 {timeout_minutes * 60} {command}"
    valid_case = "|".join(str(code) for code in valid)
    lines = [
        "set -eu",
        f"# {label}: sha256 {_sha256(script)}, up to {attempts} attempt(s)"
        + (f", {timeout_minutes} minute(s) each" if timeout_minutes else ""),
        f"printf '%s' '{encoded}' | base64 -d > {sh_quote(path)}",
        "attempt=1",
        "while :; do",
        "  status=0",
        f"  sudo {command} || status=$?",
        f"  case \"$status\" in {valid_case}) break ;; esac",
    ]
    if timeout_minutes:
        lines += [
            '  if [ "$status" -eq 124 ]; then',
            f"    echo '{label}: did not finish within {timeout_minutes} minute(s)' >&2",
            "  fi",
        ]
    lines += [
        f'  if [ "$attempt" -ge {attempts} ]; then break; fi',
        f'  echo "{label}: attempt $attempt of {attempts} failed with exit code $status; '
        f'retrying in {RETRY_DELAY_SECONDS}s" >&2',
        f"  sleep {RETRY_DELAY_SECONDS}",
        "  attempt=$((attempt + 1))",
        "done",
        f"rm -f {sh_quote(path)}",
        f"case \"$status\" in {valid_case}) exit 0 ;; esac",
        'exit "$status"',
    ]
    return lines


def powershell_runner(label: str, script: str, valid_exit_codes: Iterable[int], retries: int,
                      timeout_minutes: Optional[int]) -> list[str]:
    """PowerShell lines that run a script in its own process with retries and a time limit.

    The child's exit code is the step's exit code (a thrown error exits 1), and the
    customizer's validExitCodes still decide success. Output is collected in files and
    printed after each attempt so nothing depends on how the build's session is hosted.
    """
    valid = sorted(set(valid_exit_codes))
    attempts = retries + 1
    # Windows PowerShell reads a script without a byte-order mark in the ANSI code page.
    encoded = base64.b64encode(script.encode("utf-8-sig")).decode()
    if timeout_minutes:
        wait = [
            f"    if ($process.WaitForExit({timeout_minutes * 60 * 1000})) {{",
            "        $code = $process.ExitCode",
            "    } else {",
            "        try { & taskkill.exe /PID $process.Id /T /F 2>&1 | Out-Null } catch { }",
            f"        $code = {WINDOWS_TIMEOUT_EXIT_CODE}",
            f"        Write-Output '{label}: did not finish within {timeout_minutes} minute(s)'",
            "    }",
        ]
    else:
        wait = ["    $process.WaitForExit()", "    $code = $process.ExitCode"]
    return [
        "$ErrorActionPreference = 'Stop'",
        f"# {label}: sha256 {_sha256(script)}, up to {attempts} attempt(s)"
        + (f", {timeout_minutes} minute(s) each" if timeout_minutes else ""),
        f"$script = Join-Path $env:TEMP {ps_quote(f'golden-images-{label}.ps1')}",
        f"[IO.File]::WriteAllBytes($script, [Convert]::FromBase64String('{encoded}'))",
        f"$valid = @({', '.join(str(c) for c in valid)})",
        "$code = 1",
        f"for ($attempt = 1; $attempt -le {attempts}; $attempt++) {{",
        '    $out = "$script.$attempt.out"',
        '    $err = "$script.$attempt.err"',
        "    $process = Start-Process -FilePath \"$PSHOME\\powershell.exe\" -NoNewWindow -PassThru "
        "-RedirectStandardOutput $out -RedirectStandardError $err "
        "-ArgumentList \"-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `\"$script`\"\"",
        "    $null = $process.Handle",
        *wait,
        "    Get-Content -LiteralPath $out, $err -ErrorAction SilentlyContinue | Write-Output",
        "    if ($valid -contains $code) { break }",
        f"    if ($attempt -lt {attempts}) {{",
        f"        Write-Output \"{label}: attempt $attempt of {attempts} failed with exit code $code; "
        f"retrying in {RETRY_DELAY_SECONDS}s\"",
        f"        Start-Sleep -Seconds {RETRY_DELAY_SECONDS}",
        "    }",
        "}",
        "Remove-Item -Path \"$script*\" -Force -ErrorAction SilentlyContinue",
        "exit $code",
    ]

