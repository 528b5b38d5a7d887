"""A stack's settings file, Pulumi.<stack>.yaml, read without the engine.

The offline plan (components/plan.py) and the guardrails on it (policy/offline.py)
both read it; neither imports the other for it. No Pulumi import.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent


class UserError(Exception):
    """A mistake in flavour files or stack settings; its message is the full report."""

    def __init__(self, message: str, registered: Optional[list] = None):
        super().__init__(message)
        self.registered = registered or []


def stack_config(stack: str, root: Path = ROOT) -> tuple[dict, str]:
    """The `config:` mapping of Pulumi.<stack>.yaml and the file's name."""
    import yaml

    source = f"Pulumi.{stack}.yaml"
    path = root / source
    from .model.yaml_files import YamlLoader

    if not path.is_file():
        raise UserError(f"{source}: no such stack file (stacks: {', '.join(_stacks(root))})")
    try:
        data = yaml.load(path.read_text(), Loader=YamlLoader) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f": line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{source}{where}: YAML syntax error: {getattr(err, 'problem', err)}") from None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise UserError(f"{source}: config: must be a mapping of settings")
    return config, source


def _stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
