"""Which actions a rehearsal runs, in which phase and session, and which it skips and why.

The order is the build instance's (components/aws/render.py, component_phases):
the build phase of every step in order (its downloads, then its script, then a
restart when it asks for one), then every step's check (validate), then, on a
new machine started from the image, the checks that hold for a booted image and
the image tests (test). A restart ends a session; the next steps run in a new
one on the same file system.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .source import Rehearsal, StepSpec

SCRIPT_DIR = "/var/tmp/golden-images-steps"  # where AWSTOE writes step scripts (SCRIPT_DIRS in aws/render.py)
PHASES = ("build", "validate", "test")


@dataclass
class Action:
    """One thing the build instance does: a step's build (downloads + script), or its check."""

    index: int  # 1-based, in run order
    step: str
    phase: str  # build | validate | test
    session: int  # actions of one session share processes; a restart starts the next
    script: Optional[str] = None  # None when skipped
    script_path: str = ""
    fetches: tuple = ()
    valid_exit_codes: tuple = (0,)
    attempts: int = 1
    timeout_seconds: Optional[int] = None
    skip_reason: Optional[str] = None
    needs: dict = field(default_factory=dict)  # image tests: test function -> steps it needs
    reboot_after: bool = False
    # The step use: its name, or `name#n` for the n-th use of a step a flavour uses more than once
    # (two image-tests suites): a blocked build blocks the checks of that use only.
    use: str = ""
    use_name: str = ""  # the readable name of a script, file or artifact use (use_names.py)

    @property
    def label(self) -> str:
        return f"{self.step} {self.use_name} ({self.phase})" if self.use_name else f"{self.step} ({self.phase})"

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items() if k != "fetches"} | {
            "fetches": [f.__dict__ for f in self.fetches]}


def skip_reason(step: StepSpec, cloud: str, skip: dict) -> Optional[str]:
    """Why a step's build cannot be rehearsed here, or None."""
    if step.name in skip:
        return f"skipped on request (--skip {step.name}): {skip[step.name]}" if skip[step.name] else \
            f"skipped on request (--skip {step.name})"
    if step.managed_component:
        return (f"built by the AWS-managed component {step.managed_component}, which runs only on an "
                "Image Builder instance")
    if step.script is None:
        return f"has no Linux script on {cloud}"
    if step.secrets:
        # Never passed silently: the read needs the build machine's identity, which this
        # machine has not, and a stand-in value would prove nothing about the real secret.
        return (f"reads {', '.join(step.secrets)} with the {cloud} build machine's identity "
                "(instance profile / managed identity), which a rehearsal does not have")
    return None


_NEEDS = re.compile(r"^\s*#\s*needs:\s*([A-Za-z0-9, -]+?)\s*$")
_FUNCTION = re.compile(r"^\s*(?:function\s+)?(test_[A-Za-z0-9_]+)\s*\(\s*\)")


def suite_needs(suite: str) -> dict:
    """`# needs: step, step` comments right above a test function of an image test suite."""
    needs, pending = {}, []
    for line in suite.splitlines():
        match = _NEEDS.match(line)
        if match:
            pending += [n.strip() for n in match.group(1).split(",") if n.strip()]
            continue
        function = _FUNCTION.match(line)
        if function and pending:
            needs[function.group(1)] = pending
        if line.strip() and not line.lstrip().startswith("#"):
            pending = []
    return needs


def use_keys(steps: list) -> list[str]:
    """Each step use's key: its name, numbered (`image-tests#2`) when the flavour uses it more than once."""
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.name] = counts.get(step.name, 0) + 1
    seen: dict[str, int] = {}
    keys = []
    for step in steps:
        seen[step.name] = seen.get(step.name, 0) + 1
        keys.append(step.name if counts[step.name] == 1 else f"{step.name}#{seen[step.name]}")
    return keys


def plan_actions(rehearsal: Rehearsal, skip: Optional[dict] = None) -> list[Action]:
    skip = skip or {}
    actions: list[Action] = []
    session = 1
    reasons = {s.name: skip_reason(s, rehearsal.cloud, skip) for s in rehearsal.steps}
    uses = use_keys(rehearsal.steps)

    def add(step: StepSpec, phase: str, text: Optional[str], reason: Optional[str], **kw) -> Action:
        position = next(i for i, s in enumerate(rehearsal.steps) if s is step)
        label = "install" if phase == "build" else "check"
        codes = step.valid_exit_codes if phase == "build" else (0,)
        action = Action(
            index=len(actions) + 1, step=step.name, phase=phase, session=session,
            script=None if reason else text,
            script_path=f"{SCRIPT_DIR}/{step.name}{'-' + step.use_name if step.use_name else ''}-{label}.sh",
            use_name=step.use_name,
            valid_exit_codes=tuple(codes), skip_reason=reason,
            needs=suite_needs(step.environment.get("GI_PARAM_SUITE", "")), use=uses[position], **kw)
        actions.append(action)
        return action

    for step in rehearsal.steps:
        reason = reasons[step.name]
        add(step, "build", step.script, reason, fetches=step.fetches,
            attempts=step.retries + 1, reboot_after=step.reboot_after,
            timeout_seconds=step.timeout_minutes * 60 if step.timeout_minutes else None)
        if step.reboot_after:
            session += 1
    # The checks prove each step's result; a step whose build was not rehearsed has nothing to prove.
    for phase in ("validate", "test"):
        if phase == "test":
            session += 1  # a new instance launched from the image
        for step in rehearsal.steps:
            if step.base_flavour is not None or (phase == "test" and not step.image_test):
                continue
            if step.check is None and reasons[step.name] is None:
                continue  # a script step without a check: its build runs nothing in validate or test

            reason = reasons[step.name]
            # A check that runs a suite with its runner fetches both again, as the instance does.
            add(step, phase, step.check, f"its build is not rehearsed: {reason}" if reason else None,
                fetches=step.fetches if step.check_fetches else ())
    return actions
