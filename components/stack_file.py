"""A stack's settings file, Pulumi.<stack>.yaml, read without the engine.

The offline plan (components/plan.py) and the guardrails on it (policy/offline.py)
both read it; neither imports the other for it. No Pulumi import.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent


class UserError(Exception):
    """A mistake in flavour files or stack settings; its message is the full report."""

    def __init__(self, message: str, registered: Optional[list[Any]] = None):
        super().__init__(message)
        self.registered = registered or []


def stack_config(stack: str, root: Path = ROOT) -> tuple[dict[str, Any], str]:
    """The `config:` mapping of Pulumi.<stack>.yaml and the file's name."""
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}", stack):
        raise UserError(f"stack name {stack!r} is not a Pulumi stack name (letters, digits, '-', '_', '.')")
    source = f"Pulumi.{stack}.yaml"
    path = root / source
    from .model.yaml_files import read_yaml

    if not path.exists() and not path.is_symlink():
        raise UserError(f"{source}: no such stack file (stacks: {', '.join(_stacks(root))})")
    data, problems = read_yaml(path, source, root)
    if problems:
        raise UserError(str(problems[0]))
    data = data or {}
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise UserError(f"{source}: config: must be a mapping of settings")
    return config, source


def _stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
