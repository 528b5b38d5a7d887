"""The guardrails on `make plan`'s offline plan: a violation fails before anyone has credentials.

The plan records every registration with the inputs the engine received; this module
turns them into rules.Resource, builds the stack's Context from its config, the flavours'
step lists (the program's `flavours` output) and the step catalogue, and runs every rule.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from . import rules
from .context import catalogue_categories, context_from_config, flavour_steps_from_summaries
from .rules import RULES, Context, Resource, Violation, evaluate


def plan_resources(plan: Any) -> list[Resource]:
    """The plan's registrations as the rules see them (the plan has no unknowns: mocks resolve all)."""
    resources = []
    for reg in plan.resources:
        options = reg.options or {}
        links = options.get("propertyDependencies") or {}
        resources.append(
            Resource(
                urn=reg.urn,
                type=reg.type,
                name=reg.name,
                inputs=reg.inputs or {},
                parent=reg.parent or "",
                dependencies=frozenset(options.get("dependsOn") or ()),
                property_dependencies={k: frozenset(v) for k, v in links.items()},
                custom=reg.custom,
            )
        )
    return resources


def plan_context(plan: Any, config: Mapping[str, Any]) -> Context:
    flavour_steps = flavour_steps_from_summaries(plan.outputs.get("flavours") or {})
    return context_from_config(
        plan.stack,
        config,
        flavour_steps=flavour_steps,
        step_categories=catalogue_categories() if flavour_steps else None,
    )


def check_plan(plan: Any, config: Optional[Mapping[str, Any]] = None, rules=RULES) -> list[Violation]:
    """Every violation in a plan; config is the stack's `config:` mapping (default: read Pulumi.<stack>.yaml)."""
    if config is None:
        from components.stack_file import stack_config

        config = stack_config(plan.stack)[0]
    return evaluate(plan_resources(plan), plan_context(plan, config), rules)


def enforce(
    plan: Any, config: Optional[Mapping[str, Any]] = None, scan_cache: Optional[Path] = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings): mandatory violations fail `make plan`, advisory ones are printed as warnings.

    Each line reads "<rule id> <resource name>: <message>". scan_cache, when given, keeps the
    secret scanner's findings between runs (they depend only on the scanned text and the scanner).
    """
    if scan_cache is not None:
        load_scan_cache(scan_cache)
    violations = check_plan(plan, config)
    if scan_cache is not None:
        save_scan_cache(scan_cache)
    errors = [str(v) for v in violations if v.enforcement == "mandatory"]
    warnings = [str(v) for v in violations if v.enforcement != "mandatory"]
    return errors, warnings


@lru_cache(maxsize=1)  # a package-metadata lookup, asked on every load and save of the cache
def scanner_version() -> str:
    """What secret findings depend on besides the text: detect-secrets and the project's way of calling it."""
    from importlib.metadata import version

    import components.model.secrets as secrets

    source = hashlib.sha256(Path(secrets.__file__).read_bytes()).hexdigest()[:16]
    return f"detect-secrets {version('detect-secrets')}, components/model/secrets.py {source}"


def load_scan_cache(path: Path) -> None:
    """Remember the findings a previous run saved, unless the scanner has changed since."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(data, dict) or data.get("scanner") != scanner_version():
        return
    for kind in ("lines", "entries"):
        if isinstance(data.get(kind), dict):
            rules.SCAN_MEMORY[kind].update(data[kind])
    # The loader's scans of flavour values and embedded files (components/model/secrets.py).
    if isinstance(data.get("texts"), dict):
        import components.model.secrets as secrets

        secrets.FOUND.update(data["texts"])


def save_scan_cache(path: Path) -> None:
    import components.model.secrets as secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"scanner": scanner_version(), **rules.SCAN_MEMORY, "texts": secrets.FOUND}
    path.write_text(json.dumps(data, sort_keys=True) + "\n")
