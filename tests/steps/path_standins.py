"""Run a step's Linux script, as the catalogue renders it, against stand-in commands on PATH.

The stand-ins record their arguments (one line per call in `calls.log`); every other command
comes from this machine, minus those named in `hidden` (so a real apt-get or rpm on this machine
cannot answer instead of the stand-in of the distribution a test plays).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from components.model.flavour import StepUse
from components.model.prepared import prepare_step
from components.model.steps import load_catalogue

BASH = shutil.which("bash") or "/bin/bash"
CATALOGUE = load_catalogue()


def rendered(step: str, params: dict, kind: str = "script") -> str:
    """The step's Linux install script (or check) with its GI_* prologue and libraries."""
    prepared = prepare_step(StepUse(name=step, params=params), CATALOGUE.steps[step], "linux", CATALOGUE)
    text = prepared.script if kind == "script" else prepared.check
    assert text is not None
    return text


def tools_folder(folder: Path, hidden: tuple[str, ...]) -> Path:
    """Links to this machine's commands in `folder`, less those whose names start with `hidden`."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        if not os.path.isdir(source):
            continue
        for name in os.listdir(source):
            target = folder / name
            path = os.path.join(source, name)
            if name.startswith(hidden) or os.path.lexists(target):
                continue
            if os.path.isfile(path) and os.access(path, os.X_OK):
                target.symlink_to(path)
    return folder


class Machine:
    """A folder of stand-ins and this machine's tools, less the hidden ones."""

    def __init__(self, base: Path, tools: Path):
        self.base = base
        self.bin = base / "bin"
        self.tools = tools
        self.state = base / "state"
        for folder in (self.bin, self.state):
            folder.mkdir(parents=True)
        self.log = self.state / "calls.log"
        self.log.write_text("")

    def stand_in(self, name: str, body: str = "") -> None:
        """A command that logs its call, then runs `body` (bash, "$@" are its arguments)."""
        path = self.bin / name
        path.write_text(f"#!{BASH}\nprintf '%s\\n' \"{name} $*\" >> '{self.log}'\n{body}\n")
        path.chmod(0o755)

    def run(self, script: str, env: Optional[dict] = None) -> subprocess.CompletedProcess:
        path = self.base / "script.sh"
        path.write_text(script)
        environment = {"PATH": f"{self.bin}:{self.tools}", "HOME": str(self.base), "STATE": str(self.state)}
        environment.update(env or {})
        return subprocess.run([BASH, str(path)], env=environment, capture_output=True, text=True, timeout=60)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()
