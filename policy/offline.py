"""The guardrails on `make plan`'s offline plan: a violation fails before anyone has credentials.

The plan records every registration with the inputs the engine received; this module
turns them into rules.Resource, builds the stack's Context from its config, the flavours'
step lists (the program's `flavours` output) and the step catalogue, and runs every rule.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from .context import catalogue_categories, context_from_config, flavour_steps_from_summaries
from .rules import RULES, Context, Resource, Violation, evaluate
from .secret_scan import ScanCache


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


def plan_context(plan: Any, config: Mapping[str, Any], scan_cache: Optional[ScanCache] = None) -> Context:
    flavour_steps = flavour_steps_from_summaries(plan.outputs.get("flavours") or {})
    return context_from_config(
        plan.stack,
        config,
        flavour_steps=flavour_steps,
        step_categories=catalogue_categories() if flavour_steps else None,
        scan_cache=scan_cache,
    )


def check_plan(
    plan: Any, config: Optional[Mapping[str, Any]] = None, rules=RULES, scan_cache: Optional[ScanCache] = None
) -> list[Violation]:
    """Every violation in a plan; config is the stack's `config:` mapping (default: read Pulumi.<stack>.yaml)."""
    if config is None:
        from components.stack_file import stack_config

        config = stack_config(plan.stack)[0]
    return evaluate(plan_resources(plan), plan_context(plan, config, scan_cache), rules)


def enforce(
    plan: Any, config: Optional[Mapping[str, Any]] = None, scan_cache: Optional[ScanCache] = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings): mandatory violations fail `make plan`, advisory ones are printed as warnings.

    Each line reads "<rule id> <resource name>: <message>". scan_cache, when given, is where the
    secret scan looks up and adds its findings (the caller may load and save it between runs).
    """
    violations = check_plan(plan, config, scan_cache=scan_cache)
    errors = [str(v) for v in violations if v.enforcement == "mandatory"]
    warnings = [str(v) for v in violations if v.enforcement != "mandatory"]
    return errors, warnings
