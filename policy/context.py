"""What the rules know about a stack: whether it is prod, whom it may share with, its flavours' steps.

Both runners build the Context here from the stack's own config (`golden-images:*` keys,
values as mappings or as the JSON strings the engine passes around), so the offline plan
and the policy pack judge the same stack the same way. The pack may override the config
with policy config (see pack.py).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Optional

from .rules import Context
from .secret_scan import ScanCache

NAMESPACE = "golden-images"
PROD_NAMES = re.compile(r"^(prod|production)([-_.].*)?$", re.IGNORECASE)


def _setting(config: Mapping[str, Any], key: str) -> Any:
    value = config.get(f"{NAMESPACE}:{key}", config.get(key))
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def is_production(stack: str, config: Mapping[str, Any]) -> bool:
    """A stack named prod (prod, production, prod-eu...) or tagged environment: prod."""
    tags = _setting(config, "tags")
    environment = tags.get("environment") if isinstance(tags, Mapping) else None
    return bool(PROD_NAMES.match(stack or "")) or (
        isinstance(environment, str) and environment.lower() in ("prod", "production")
    )


def _ids(value: Any, accounts: Optional[Mapping[str, Any]] = None) -> frozenset:
    """The listed ids; an account name of the stack's golden-images:accounts map counts as its id."""
    names = accounts if isinstance(accounts, Mapping) else {}
    return (frozenset(str(names.get(v, v)) for v in value) if isinstance(value, (list, tuple)) else frozenset())


def context_from_config(
    stack: str,
    config: Mapping[str, Any],
    *,
    flavour_steps: Optional[Mapping[str, Any]] = None,
    step_categories: Optional[Mapping[str, str]] = None,
    overrides: Optional[Mapping[str, Any]] = None,
    scan_cache: Optional[ScanCache] = None,
) -> Context:
    """The rules' view of one stack from its config; `overrides` (policy config) win over the config.

    scan_cache: the secret scan's memory the rules share in this run (see policy/secret_scan.py).
    """
    aws = _setting(config, "aws")
    aws = aws if isinstance(aws, Mapping) else {}
    sharing = aws.get("launch_permissions") if isinstance(aws.get("launch_permissions"), Mapping) else {}
    overrides = overrides or {}

    def pick(override: str, value: frozenset) -> frozenset:
        return _ids(overrides[override]) if isinstance(overrides.get(override), (list, tuple)) else value

    required = overrides.get("requireCustomerKey")
    return Context(
        stack=stack,
        customer_key_required=required if isinstance(required, bool) else is_production(stack, config),
        launch_account_ids=pick("launchAccountIds", _ids(sharing.get("account_ids"), _setting(config, "accounts"))),
        launch_organization_arns=pick("launchOrganizationArns", _ids(sharing.get("organization_arns"))),
        launch_organizational_unit_arns=pick(
            "launchOrganizationalUnitArns", _ids(sharing.get("organizational_unit_arns"))
        ),
        target_account_ids=pick("targetAccountIds", _ids(aws.get("target_account_ids"), _setting(config, "accounts"))),
        flavour_steps={name: tuple(steps) for name, steps in (flavour_steps or {}).items()},
        step_categories=dict(step_categories or {}),
        scan_cache=scan_cache,
    )


def catalogue_categories() -> dict:
    """Step name -> category, from the project's step catalogue (components/steps/*/step.yaml).

    Read without re-validating: the program validated the whole catalogue in the same run,
    before registering anything.
    """
    import yaml

    from components.model.steps import STEPS_DIR

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    categories = {}
    for meta in sorted(STEPS_DIR.glob("*/step.yaml")):
        spec = yaml.load(meta.read_text(), Loader=loader)
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            categories[spec["name"]] = str(spec.get("category", ""))
    return categories


def flavour_steps_from_summaries(flavours: Mapping[str, Any]) -> dict:
    """Flavour -> step names from the program's `flavours` output (or GoldenImage summaries).

    A layered flavour's image holds what its base chain built as well: its
    `image_steps` list them all, and the rules judge the image.
    """
    found = {}
    for name, summary in flavours.items():
        steps = None
        if isinstance(summary, Mapping):
            steps = summary.get("image_steps") or summary.get("steps")
        if isinstance(steps, (list, tuple)):
            found[name] = tuple(str(s) for s in steps)
    return found
