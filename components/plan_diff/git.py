"""The two plans to compare: the base revision's, rendered in a temporary git worktree, and the
working tree's, each by `python -m components.plan` in its own process (no Pulumi CLI, no
credentials)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]

class PlanFailed(Exception):
    """A revision's plan could not be built; the message says which and why."""


def _git(args: list, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PlanFailed(f"git {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def _plan_env() -> dict:
    env = dict(os.environ)
    # The checkout under test must import its own components, and neither plan may depend on
    # which commit CI happens to build (source-commit tags would differ on every run).
    for key in ("PYTHONPATH", "PYTHONSAFEPATH", "GITHUB_SHA", "GOLDEN_IMAGES_SOURCE_COMMIT"):
        env.pop(key, None)
    return env


class _PlanRun:
    """`python -m components.plan` running in a checkout, writing its plan file to `out`."""

    def __init__(self, project: Path, stack: str, label: str, out: Path, python: str = sys.executable):
        self.label, self.out = label, out
        self.process = subprocess.Popen(
            [python, "-m", "components.plan", "--stack", stack, "--out", str(out), "--quiet"],
            cwd=project,
            env=_plan_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict:
        stdout, stderr = self.process.communicate()
        # Exit 1 is a guardrail violation with the plan file written: still worth diffing
        # (the plan job reports the violation itself); anything else is a failed plan.
        if self.process.returncode not in (0, 1) or not self.out.is_file():
            detail = stderr.strip() or stdout.strip() or f"exit code {self.process.returncode}"
            raise PlanFailed(f"the plan of {self.label} failed:\n{detail}")
        return json.loads(self.out.read_text())


def build_plan(project: Path, stack: str, label: str, python: str = sys.executable) -> dict:
    """Run `python -m components.plan` in a checkout and return its plan file as a dict."""
    with tempfile.TemporaryDirectory(prefix="plan-diff-") as tmp:
        return _PlanRun(project, stack, label, Path(tmp) / f"{stack}.json", python).result()


def resolve(ref: str, project: Path = ROOT) -> str:
    """The commit a revision names; PlanFailed when git does not know it."""
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], project)
    except PlanFailed:
        raise PlanFailed(f"unknown git revision '{ref}' (fetch it first, e.g. `git fetch origin main`)") from None


@contextmanager
def _worktree(sha: str, project: Path):
    """The project as of `sha`, in a temporary detached worktree that is removed afterwards."""
    prefix = _git(["rev-parse", "--show-prefix"], project)
    tmp = Path(tempfile.mkdtemp(prefix="plan-diff-base-"))
    checkout = tmp / "base"
    try:
        _git(["worktree", "add", "--detach", "--quiet", str(checkout), sha], project)
        yield checkout / prefix
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=project, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=project, capture_output=True)


EMPTY_PLAN = {"project": "", "stack": "", "resources": [], "outputs": {}}


def plans(ref: str, stack: str, project: Path = ROOT, python: str = sys.executable,
          head_plan: Optional[dict] = None) -> tuple:
    """(base plan, base label, head plan, notes): `ref` rendered in a temporary worktree while the
    working tree renders beside it (two processes, so the wait is one plan's, not two)."""
    sha = resolve(ref, project)
    label = f"{ref} ({sha[:7]})"
    notes: list = []
    runs: list = []
    with tempfile.TemporaryDirectory(prefix="plan-diff-") as tmp:
        try:
            if head_plan is None:
                runs.append(_PlanRun(project, stack, "the working tree", Path(tmp) / "head.json", python))
            with _worktree(sha, project) as base_project:
                try:
                    base_run = None
                    if not (base_project / f"Pulumi.{stack}.yaml").is_file():
                        notes.append(f"stack '{stack}' does not exist at {label}: every resource is new")
                    elif not (base_project / "components" / "plan.py").is_file():
                        raise PlanFailed(f"{label} has no offline plan (components/plan.py); choose a newer BASE")
                    else:
                        old, new = base_project / "requirements.txt", project / "requirements.txt"
                        if old.is_file() and new.is_file() and old.read_text() != new.read_text():
                            notes.append(f"requirements.txt differs at {label}; its plan was rendered with "
                                         "the working tree's packages")
                        base_run = _PlanRun(base_project, stack, label, Path(tmp) / "base.json", python)
                        runs.append(base_run)
                    # The working tree's error first: a mistake there is the likelier one.
                    head = head_plan if head_plan is not None else runs[0].result()
                    base = base_run.result() if base_run else {**EMPTY_PLAN, "stack": stack}
                finally:
                    _stop(runs)  # before the worktree goes
        finally:
            _stop(runs)
    return base, label, head, notes


def _stop(runs: list) -> None:
    """End plan processes still running (after the other plan failed)."""
    for run in runs:
        if run.process.poll() is None:
            run.process.kill()
            run.process.communicate()
