"""The rules as a pulumi-policy pack: what `pulumi preview --policy-pack policy` runs in PR review.

Resource rules become ResourceValidationPolicy (they see each resource's inputs before it
is created); stack rules become StackValidationPolicy (they see every resource, with inputs
propagated to outputs during a preview). The stack's context comes from the stack's own
config (the engine hands it to the pack), overridable per policy with policy config.
__main__.py only wraps build_policies() in a PolicyPack, whose constructor starts a server.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Callable, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)
from pulumi_policy.secret import Secret

from .context import catalogue_categories, context_from_config, flavour_steps_from_summaries
from .rules import GOLDEN_IMAGE, RULES, UNKNOWN, Context, Resource, Rule
from .secret_scan import ScanCache

PACK_NAME = "golden-images-guardrails"
LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
_SENTINELS = frozenset({
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE,
})

_ACCOUNT_LIST = {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{12}$"}}
# Policy config a policy group may set instead of relying on the stack's own config.
CONFIG_SCHEMAS = {
    "GI-ENC-001": PolicyConfigSchema(properties={
        "requireCustomerKey": {
            "type": "boolean",
            "description": "Require customer-managed KMS keys (default: only in stacks named or tagged prod)",
        },
    }),
    "GI-SHARE-002": PolicyConfigSchema(properties={
        "launchAccountIds": {**_ACCOUNT_LIST, "description": "Accounts that may launch the AMIs"},
        "launchOrganizationArns": {"type": "array", "items": {"type": "string"},
                                   "description": "Organizations that may launch the AMIs"},
        "launchOrganizationalUnitArns": {"type": "array", "items": {"type": "string"},
                                         "description": "OUs that may launch the AMIs"},
        "targetAccountIds": {**_ACCOUNT_LIST, "description": "Accounts AMIs may be copied into"},
    }),
}

# (policy config, stack resources or None) -> Context
ContextFor = Callable[[Mapping[str, Any], Optional[Sequence[Resource]]], Context]


def plain(value: Any) -> Any:
    """Props as plain data, with every value unknown during a preview replaced by rules.UNKNOWN."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    if isinstance(value, str) and value in _SENTINELS:
        return UNKNOWN
    return value


def resource_from_args(args: ResourceValidationArgs) -> Resource:
    parent = getattr(args.opts, "parent", None) if args.opts is not None else None
    return Resource(urn=args.urn, type=args.resource_type, name=args.name, inputs=plain(args.props), parent=parent or "")


def resource_from_policy_resource(res: PolicyResource) -> Resource:
    return Resource(
        urn=res.urn,
        type=res.resource_type,
        name=res.name,
        inputs=plain(res.props),
        parent=res.parent.urn if res.parent is not None else "",
        dependencies=frozenset(d.urn for d in res.dependencies),
        property_dependencies={k: frozenset(d.urn for d in v) for k, v in res.property_dependencies.items()},
    )


def _stack_name() -> str:
    import pulumi

    try:
        return pulumi.get_stack()
    except Exception:  # noqa: BLE001 - outside an engine run the stack is simply not known
        return ""


def _stack_config() -> dict:
    from components.stack import read_config

    return read_config()


def flavour_steps_from_resources(resources: Sequence[Resource]) -> dict:
    """Flavour -> steps from the GoldenImage components' summaries, else from the stack's `flavours` output."""
    summaries = {r.name: r.inputs.get("summary") for r in resources if r.type == GOLDEN_IMAGE}
    found = flavour_steps_from_summaries({k: v for k, v in summaries.items() if isinstance(v, Mapping)})
    for res in resources:
        if res.type == "pulumi:pulumi:Stack" and isinstance(res.inputs.get("flavours"), Mapping):
            found = {**flavour_steps_from_summaries(res.inputs["flavours"]), **found}
    return found


def runtime_context(policy_config: Mapping[str, Any], resources: Optional[Sequence[Resource]]) -> Context:
    """The context of the stack being previewed: its config, the policy config, its flavours' steps."""
    flavour_steps = flavour_steps_from_resources(resources) if resources is not None else {}
    return context_from_config(
        _stack_name(),
        _stack_config(),
        flavour_steps=flavour_steps,
        # Only flavour rules read the catalogue; resource rules never pay for loading it.
        step_categories=catalogue_categories() if flavour_steps else None,
        overrides=policy_config,
    )


def _resource_policy(rule: Rule, context_for: ContextFor) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        assert rule.check is not None
        context = context_for(args.get_config(), None)
        for message in rule.check(args.resource_type, plain(args.props), context):
            report_violation(message, None)

    return ResourceValidationPolicy(
        **_metadata(rule),
        validate=validate,
    )


def _metadata(rule: Rule) -> dict:
    """What every policy of the pack says about its rule."""
    return {
        "name": rule.id,
        "description": f"{rule.title}. {rule.rationale}",
        "display_name": rule.title,
        "enforcement_level": LEVELS[rule.enforcement],
        "config_schema": CONFIG_SCHEMAS.get(rule.id),
    }


def _stack_policy(rule: Rule, context_for: ContextFor) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [resource_from_policy_resource(r) for r in args.resources]
        context = context_for(args.get_config(), resources)
        for violation in rule.evaluate(resources, context):
            report_violation(f"{violation.name}: {violation.message}", violation.urn or None)

    return StackValidationPolicy(
        **_metadata(rule),
        validate=validate,
    )


def build_policies(
    context_for: ContextFor = runtime_context, rules: Sequence[Rule] = RULES, scan_cache: Optional[ScanCache] = None
) -> list:
    """One pulumi-policy policy per rule, named by the rule's id.

    The policies share one secret scan memory (scan_cache, else a new one) for the pack's life:
    a preview asks about every resource, and flavours repeat the same scripts.
    """
    cache = scan_cache if scan_cache is not None else ScanCache()

    def with_cache(policy_config: Mapping[str, Any], resources: Optional[Sequence[Resource]]) -> Context:
        context = context_for(policy_config, resources)
        return context if context.scan_cache is not None else replace(context, scan_cache=cache)

    return [
        _stack_policy(rule, with_cache) if rule.scope == "stack" else _resource_policy(rule, with_cache)
        for rule in rules
    ]
