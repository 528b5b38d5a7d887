"""The guardrails: security rules every golden image factory must satisfy.

Each rule has an id, a title, a one-line rationale, an enforcement level and the
resource types it reads. Resource rules judge one resource at a time from its
wire inputs (provider names, camelCase); stack rules judge relations between
resources (a bucket and its public access block, a template and the roles its
identity holds) and flavour-level facts. Nothing here imports Pulumi: the policy
pack (pack.py) and the offline plan (offline.py) both adapt their resources to
`Resource` and call the same functions. Resource types and input helpers are in
inputs.py; what GI-SECRET-001 scans, and how, is in secret_scan.py.

During a preview some values are not known yet (an ARN of a key created in the
same run). They arrive as UNKNOWN: an unknown value counts as present and is
never judged, so a rule fails only on what it can see.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Literal, Optional

from . import secret_scan
from .inputs import (  # noqa: F401 - the resource types are the rules' vocabulary, read from here too
    AMI_LAUNCH_PERMISSION,
    BUCKET_ACLS,
    BUCKET_ENCRYPTION,
    BUCKETS,
    COMMANDS,
    COMPONENT,
    DISTRIBUTION_CONFIGURATION,
    GALLERY,
    GOLDEN_IMAGE,
    IAM_ATTACHMENTS,
    IAM_EXCLUSIVE_ATTACHMENTS,
    IAM_POLICY_DOCUMENTS,
    IAM_ROLE,
    IMAGE_PIPELINE,
    IMAGE_RECIPE,
    IMAGE_TEMPLATE,
    IMAGEBUILDER_WORKFLOW,
    INFRASTRUCTURE_CONFIGURATION,
    LOGIC_WORKFLOW,
    PUBLIC_ACCESS_BLOCK,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    SSM_DOCUMENT,
    TOPIC,
    UNKNOWN,
    USER_ASSIGNED_IDENTITY,
)
from .inputs import items_of as _items
from .inputs import strings_of as _strings
from .inputs import value_at as _get
from .secret_scan import ScanCache

Enforcement = Literal["mandatory", "advisory"]




@dataclass(frozen=True)
class Resource:
    """One registered resource as the rules see it, whichever runner found it."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str = ""
    dependencies: frozenset = frozenset()
    # Per input, the resources its value came from (pulumi-policy knows them; the plan may not).
    property_dependencies: Mapping[str, frozenset] = field(default_factory=dict)
    custom: bool = True


@dataclass(frozen=True)
class Context:
    """What some rules must know about the stack besides its resources."""

    stack: str = ""
    customer_key_required: bool = False
    launch_account_ids: frozenset = frozenset()
    launch_organization_arns: frozenset = frozenset()
    launch_organizational_unit_arns: frozenset = frozenset()
    target_account_ids: frozenset = frozenset()
    flavour_steps: Mapping[str, tuple] = field(default_factory=dict)  # flavour -> step names, in order
    step_categories: Mapping[str, str] = field(default_factory=dict)  # catalogue step -> category
    # Not about the stack: the secret scan's memory for this run, made by whoever runs the rules
    # (policy/secret_scan.py). None: evaluate() makes one for its run.
    scan_cache: Optional[ScanCache] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Violation:
    rule: str
    enforcement: Enforcement
    urn: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.name}: {self.message}"


ResourceCheck = Callable[[str, Mapping[str, Any], Context], list]
StackCheck = Callable[[Sequence[Resource], Context], list]


@dataclass(frozen=True)
class Rule:
    """A guardrail: `check` judges one resource, `check_stack` judges the stack as a whole."""

    id: str
    title: str
    rationale: str
    enforcement: Enforcement
    types: tuple  # resource types the rule reads; ("*",) is every type
    check: Optional[ResourceCheck] = None
    check_stack: Optional[StackCheck] = None

    @property
    def scope(self) -> str:
        return "stack" if self.check_stack is not None else "resource"

    def applies_to(self, resource_type: str) -> bool:
        return "*" in self.types or resource_type in self.types

    def evaluate(self, resources: Sequence[Resource], context: Context) -> list[Violation]:
        """Every violation of this rule among the resources."""
        found: list[Violation] = []
        if self.check_stack is not None:
            for res, message in self.check_stack(resources, context):
                found.append(Violation(self.id, self.enforcement, res.urn, res.name, message))
            return found
        assert self.check is not None
        for res in resources:
            if self.applies_to(res.type):
                for message in self.check(res.type, res.inputs, context):
                    found.append(Violation(self.id, self.enforcement, res.urn, res.name, message))
        return found


# Built-in Azure roles that can change anything, or grant themselves that right.
PRIVILEGED_AZURE_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-8dcc-ab6f07a3b7ae": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
# AWS managed policies that amount to administrator access.
ADMINISTRATOR_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
_ADMIN_POLICY_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::aws:policy/(?:[A-Za-z0-9_-]+/)*(" + "|".join(ADMINISTRATOR_POLICIES) + r")$"
)
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
_PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


# Helpers -------------------------------------------------------------------------------------


def _find(value: Any, key: str) -> list:
    """Every value stored under `key` anywhere inside a nested input."""
    found = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k == key:
                found.append(v)
            else:
                found.extend(_find(v, key))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(_find(item, key))
    return found


def _is_true(value: Any) -> bool:
    """True, "true" (the provider's string-typed booleans) or not known yet."""
    return value is True or value is UNKNOWN or (isinstance(value, str) and value.lower() == "true")


def _is_customer_key(value: Any) -> bool:
    """A KMS key the organisation manages: not absent, not an AWS-managed `alias/aws/...` key."""
    if value is UNKNOWN:
        return True
    if not isinstance(value, str) or not value:
        return False
    return not re.search(r"(^|:)alias/aws/", value)


def _refers_to(res: Resource, target: Resource, prop: Optional[str] = None) -> bool:
    """Whether res takes a value from target (through `prop`, when the runner knows per-input links)."""
    if prop is not None and prop in res.property_dependencies:
        return target.urn in res.property_dependencies[prop]
    return target.urn in res.dependencies or res.parent == target.urn


def _of_type(resources: Sequence[Resource], *types: str) -> list:
    return [r for r in resources if r.type in types]


def _guid_of(role_definition_id: Any) -> Optional[str]:
    if not isinstance(role_definition_id, str):
        return None
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower() or None


# Build instances -----------------------------------------------------------------------------


def _check_imdsv2(resource_type: str, inputs: Mapping, context: Context) -> list:
    tokens = _get(inputs, "instanceMetadataOptions", "httpTokens")
    if tokens is UNKNOWN or tokens == "required":
        return []
    return [
        f"instanceMetadataOptions.httpTokens is {tokens!r}; build instances must require IMDSv2 "
        "session tokens: set it to 'required'"
    ]


def _check_terminate_on_failure(resource_type: str, inputs: Mapping, context: Context) -> list:
    value = inputs.get("terminateInstanceOnFailure")
    if value is UNKNOWN or value is True:
        return []
    return [
        f"terminateInstanceOnFailure is {value!r} (the provider's default is false); a failed build "
        "must not leave a running instance behind: set it to true"
    ]


def _check_azure_cleanup(resource_type: str, inputs: Mapping, context: Context) -> list:
    handling = inputs.get("errorHandling")
    if handling is UNKNOWN or not isinstance(handling, Mapping):
        return []  # absent: the service cleans up, its default
    kept = [
        f"{key}: {handling[key]}"
        for key in ("onCustomizerError", "onValidationError")
        if handling.get(key) not in (None, UNKNOWN) and str(handling.get(key)).lower() != "cleanup"
    ]
    if not kept:
        return []
    return [f"errorHandling keeps a failed build VM ({', '.join(kept)}) running in the staging resource group "
            "until someone deletes it; use 'cleanup' outside debugging"]


# Encryption ----------------------------------------------------------------------------------


def _check_encryption(resource_type: str, inputs: Mapping, context: Context) -> list:
    need_key = context.customer_key_required
    where = f" (stack {context.stack})" if context.stack else ""
    problems = []
    if resource_type == IMAGE_RECIPE:
        mappings = inputs.get("blockDeviceMappings")
        if mappings is UNKNOWN:
            return []
        volumes = [(i, m) for i, m in enumerate(_items(mappings)) if isinstance(m, Mapping) and m.get("ebs") is not None]
        if not volumes:
            return [
                "blockDeviceMappings has no EBS volume; declare the root volume with ebs.encrypted: true so "
                "the build volume and the AMI's snapshots are encrypted whatever the parent image is"
            ]
        for i, mapping in volumes:
            ebs = mapping.get("ebs")
            if ebs is UNKNOWN:
                continue
            device = mapping.get("deviceName") or f"blockDeviceMappings[{i}]"
            # pulumi-aws types ebs.encrypted as a string ("true"); unset inherits the parent image's setting.
            if not _is_true(_get(ebs, "encrypted")):
                problems.append(f"{device}: ebs.encrypted is {_get(ebs, 'encrypted')!r}; build volumes must be encrypted")
            if need_key and not _is_customer_key(_get(ebs, "kmsKeyId")):
                problems.append(f"{device}: ebs.kmsKeyId must name a customer-managed KMS key{where}")
    elif resource_type == DISTRIBUTION_CONFIGURATION and need_key:
        for i, dist in enumerate(_items(inputs.get("distributions"))):
            if not isinstance(dist, Mapping):
                continue
            ami = dist.get("amiDistributionConfiguration")
            if ami is UNKNOWN:
                continue
            if not _is_customer_key(_get(ami, "kmsKeyId")):
                region = dist.get("region") if isinstance(dist.get("region"), str) else f"distributions[{i}]"
                problems.append(
                    f"{region}: amiDistributionConfiguration.kmsKeyId must name a customer-managed KMS key{where}, "
                    "so the AMIs and snapshots distributed there are encrypted with a key the organisation controls"
                )
    elif resource_type == COMPONENT and need_key:
        if not _is_customer_key(inputs.get("kmsKeyId")):
            problems.append(f"kmsKeyId must name a customer-managed KMS key{where}")
    return problems


# Sharing -------------------------------------------------------------------------------------


def _check_no_public_launch(resource_type: str, inputs: Mapping, context: Context) -> list:
    problems = []
    if resource_type == DISTRIBUTION_CONFIGURATION:
        for i, dist in enumerate(_items(inputs.get("distributions"))):
            groups = _strings(_get(dist, "amiDistributionConfiguration", "launchPermission", "userGroups"))
            if any(g.lower() == "all" for g in groups):
                region = _get(dist, "region") if isinstance(_get(dist, "region"), str) else f"distributions[{i}]"
                problems.append(f"{region}: launchPermission.userGroups includes 'all', which makes the AMIs public")
    elif resource_type == AMI_LAUNCH_PERMISSION:
        if isinstance(inputs.get("group"), str) and inputs["group"].lower() == "all":
            problems.append("group 'all' makes the AMI public")
    elif resource_type == GALLERY:
        profile = inputs.get("sharingProfile")
        permissions = _get(profile, "permissions")
        if isinstance(permissions, str) and permissions.lower() == "community":
            problems.append("sharingProfile.permissions 'Community' publishes the gallery's images to everyone")
        elif _get(profile, "communityGalleryInfo") not in (None, UNKNOWN):
            problems.append("sharingProfile.communityGalleryInfo publishes the gallery as a community gallery")
    return problems


def _check_sharing_allowlist(resource_type: str, inputs: Mapping, context: Context) -> list:
    lists = (
        ("userIds", context.launch_account_ids, "launch_permissions.account_ids"),
        ("organizationArns", context.launch_organization_arns, "launch_permissions.organization_arns"),
        ("organizationalUnitArns", context.launch_organizational_unit_arns,
         "launch_permissions.organizational_unit_arns"),
    )
    problems = []
    for i, dist in enumerate(_items(inputs.get("distributions"))):
        region = _get(dist, "region") if isinstance(_get(dist, "region"), str) else f"distributions[{i}]"
        ami = _get(dist, "amiDistributionConfiguration")
        permission = _get(ami, "launchPermission")
        for key, allowed, setting in lists:
            extra = sorted(set(_strings(_get(permission, key))) - set(allowed))
            if extra:
                problems.append(
                    f"{region}: launchPermission.{key} shares with {', '.join(extra)}, not listed in "
                    f"golden-images:aws.{setting}"
                )
        extra = sorted(set(_strings(_get(ami, "targetAccountIds"))) - set(context.target_account_ids))
        if extra:
            problems.append(
                f"{region}: targetAccountIds copies AMIs into {', '.join(extra)}, not listed in "
                "golden-images:aws.target_account_ids"
            )
    return problems


# Logs and notifications ----------------------------------------------------------------------


def _covers(res: Resource, bucket: Resource) -> bool:
    """Whether a bucket-level resource (public access block, ACL, encryption) configures this bucket."""
    value, name = res.inputs.get("bucket"), bucket.inputs.get("bucket")
    if isinstance(value, str) and isinstance(name, str):
        return value == name
    return _refers_to(res, bucket, "bucket")


def _check_buckets_private(resources: Sequence[Resource], context: Context) -> list:
    found = []
    blocks = _of_type(resources, PUBLIC_ACCESS_BLOCK)
    acls = _of_type(resources, *BUCKET_ACLS)
    for bucket in _of_type(resources, *BUCKETS):
        mine = [b for b in blocks if _covers(b, bucket)]
        if not mine:
            found.append((bucket, "has no BucketPublicAccessBlock; add one with " + ", ".join(PUBLIC_ACCESS_SETTINGS)
                          + " all true"))
        for block in mine:
            off = [k for k in PUBLIC_ACCESS_SETTINGS if block.inputs.get(k) not in (True, UNKNOWN)]
            if off:
                found.append((bucket, f"public access block {block.name} leaves {', '.join(off)} off; all four must be true"))
        grants = [bucket.inputs.get("acl")] + [a.inputs.get("acl") for a in acls if _covers(a, bucket)]
        for acl in grants:
            if isinstance(acl, str) and acl in PUBLIC_ACLS:
                found.append((bucket, f"canned ACL '{acl}' opens the bucket beyond its account"))
        for acl in (a for a in acls if _covers(a, bucket)):
            uris = [u for u in _find(acl.inputs.get("accessControlPolicy"), "uri") if u in _PUBLIC_GRANTEES]
            if uris:
                found.append((bucket, f"ACL {acl.name} grants access to {', '.join(sorted(set(uris)))}"))
    return found


def _check_buckets_encrypted(resources: Sequence[Resource], context: Context) -> list:
    found = []
    configs = _of_type(resources, *BUCKET_ENCRYPTION)
    for bucket in _of_type(resources, *BUCKETS):
        algorithms = _find(bucket.inputs.get("serverSideEncryptionConfiguration"), "sseAlgorithm")
        algorithms += _find(bucket.inputs.get("serverSideEncryptionConfigurations"), "sseAlgorithm")
        linked = [c for c in configs if _covers(c, bucket)]
        for config in linked:
            rules = config.inputs.get("rules")
            algorithms += [UNKNOWN] if rules is UNKNOWN else _find(rules, "sseAlgorithm")
        if not algorithms:
            found.append((bucket, "has no default encryption; add a BucketServerSideEncryptionConfiguration "
                                  "(aws:kms with the stack's key, or AES256)"))
        for algorithm in algorithms:
            if algorithm is not UNKNOWN and algorithm not in SSE_ALGORITHMS:
                found.append((bucket, f"sseAlgorithm {algorithm!r} is not one of {', '.join(SSE_ALGORITHMS)}"))
    return found


def _check_topic_encrypted(resource_type: str, inputs: Mapping, context: Context) -> list:
    key = inputs.get("kmsMasterKeyId")
    if key is UNKNOWN or (isinstance(key, str) and key):
        return []
    return ["kmsMasterKeyId is not set; build notifications name images, accounts and failures: "
            "encrypt the topic with the stack's KMS key"]


# IAM and Azure RBAC --------------------------------------------------------------------------


def _policy_statements(document: Any) -> Optional[list]:
    """The statements of an IAM policy given as JSON text or a mapping; None when unreadable or unknown."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, Mapping):
        return None
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        return [statements]
    return [s for s in _items(statements) if isinstance(s, Mapping)]


def _wildcard_statements(document: Any, label: str) -> list:
    problems = []
    for i, statement in enumerate(_policy_statements(document) or []):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        if "*" not in _strings(statement.get("Resource")):
            continue
        actions = _strings(statement.get("Action"))
        if any(a in ("*", "*:*") for a in actions):
            problems.append(f"{label} Statement[{i}] allows Action '*' on Resource '*' (administrator access)")
        elif statement.get("NotAction") is not None:
            problems.append(f"{label} Statement[{i}] allows everything except NotAction on Resource '*'")
    return problems


def _check_no_wildcard_policy(resource_type: str, inputs: Mapping, context: Context) -> list:
    if resource_type in IAM_POLICY_DOCUMENTS:
        return _wildcard_statements(inputs.get("policy"), "policy")
    if resource_type == IAM_ROLE:
        problems = []
        for i, inline in enumerate(_items(inputs.get("inlinePolicies"))):
            label = f"inlinePolicies[{i}]" + (f" ({inline.get('name')})" if isinstance(_get(inline, "name"), str) else "")
            problems += _wildcard_statements(_get(inline, "policy"), label)
        return problems
    if resource_type == ROLE_DEFINITION:
        problems = []
        for i, permission in enumerate(_items(inputs.get("permissions"))):
            for key in ("actions", "dataActions"):
                if "*" in _strings(_get(permission, key)):
                    problems.append(f"permissions[{i}].{key} includes '*' (every operation on every resource type)")
        return problems
    return []


def _check_no_admin_policies(resource_type: str, inputs: Mapping, context: Context) -> list:
    if resource_type == IAM_ROLE:
        arns = _strings(inputs.get("managedPolicyArns"))
    elif resource_type in IAM_EXCLUSIVE_ATTACHMENTS:
        arns = _strings(inputs.get("policyArns"))
    else:
        arns = _strings(inputs.get("policyArn"))
    return [
        f"attaches {arn}: build, lifecycle and distribution roles need narrow service policies, never administrator access"
        for arn in arns
        if _ADMIN_POLICY_ARN.match(arn)
    ]


def _is_broad_scope(scope: Any) -> bool:
    """A subscription, a management group or the tenant root: wider than one resource group."""
    if not isinstance(scope, str):
        return False
    scope = scope.rstrip("/").lower()
    return (
        scope == ""
        or re.fullmatch(r"/subscriptions/[^/]+", scope) is not None
        or re.fullmatch(r"/providers/microsoft\.management/managementgroups/[^/]+", scope) is not None
    )


def _check_no_privileged_assignment(resource_type: str, inputs: Mapping, context: Context) -> list:
    role = PRIVILEGED_AZURE_ROLES.get(_guid_of(inputs.get("roleDefinitionId")) or "")
    scope = inputs.get("scope")
    if role and _is_broad_scope(scope):
        return [f"assigns built-in role {role} at scope {scope}; grant a custom role on the resource groups the "
                "factory uses instead"]
    return []


def _check_template_identity(resource_type: str, inputs: Mapping, context: Context) -> list:
    identity = inputs.get("identity")
    if identity is UNKNOWN:
        return []
    kind = _get(identity, "type")
    if kind is UNKNOWN:
        return []
    if kind != "UserAssigned":
        return [f"identity.type is {kind!r}; the template's identity must be one user-assigned identity "
                "(type 'UserAssigned') that holds only the factory's custom role"]
    ids = _get(identity, "userAssignedIdentities")
    count = len(ids) if isinstance(ids, (list, tuple, Mapping)) else 0
    if ids is not UNKNOWN and count != 1:
        return [f"identity.userAssignedIdentities lists {count} identities; Image Builder takes exactly one"]
    return []


def _template_identities(template: Resource, identities: list) -> list:
    """The user-assigned identities a template runs as: by id when known, else by dependency."""
    ids = _get(template.inputs, "identity", "userAssignedIdentities")
    ids = list(ids) if isinstance(ids, (list, tuple, Mapping)) else []
    known = [i.lower() for i in ids if isinstance(i, str)]
    matched = []
    for identity in identities:
        # Inputs carry resourceName; the outputs a stack policy sees after an update carry name.
        name = identity.inputs.get("resourceName") or identity.inputs.get("name")
        if known and isinstance(name, str):
            if any(i.endswith("/userassignedidentities/" + name.lower()) for i in known):
                matched.append(identity)
        elif _refers_to(template, identity, "identity"):
            matched.append(identity)
    return matched


def _definition_guid(definition: Resource) -> Optional[str]:
    """A custom role's GUID: its roleDefinitionId input, or the id output once it exists."""
    return _guid_of(definition.inputs.get("roleDefinitionId") or definition.inputs.get("id"))


def _held_definitions(assignment: Resource, definitions: list) -> Optional[list]:
    """The stack's custom role definitions an assignment grants; None when it grants a role from elsewhere."""
    role_id = assignment.inputs.get("roleDefinitionId")
    guid = _guid_of(role_id)
    if guid in PRIVILEGED_AZURE_ROLES:
        return None
    explicit = [d for d in definitions if _definition_guid(d) == guid and guid]
    if explicit:
        return explicit
    linked = [d for d in definitions if _refers_to(assignment, d, "roleDefinitionId")]
    if role_id is UNKNOWN or guid is None:
        return linked or None
    # A generated GUID is only known once the definition exists: trust the link when it has none of its own.
    return [d for d in linked if _definition_guid(d) is None] or None


def _check_template_identity_roles(resources: Sequence[Resource], context: Context) -> list:
    found = []
    identities = _of_type(resources, USER_ASSIGNED_IDENTITY)
    definitions = _of_type(resources, ROLE_DEFINITION)
    assignments = _of_type(resources, ROLE_ASSIGNMENT)
    seen = set()
    for template in _of_type(resources, IMAGE_TEMPLATE):
        for identity in _template_identities(template, identities):
            if identity.urn in seen:
                continue
            seen.add(identity.urn)
            for assignment in (a for a in assignments if _refers_to(a, identity, "principalId")):
                held = _held_definitions(assignment, definitions)
                if held is None:
                    if assignment.inputs.get("roleDefinitionId") is UNKNOWN:
                        continue
                    guid = _guid_of(assignment.inputs.get("roleDefinitionId"))
                    role = PRIVILEGED_AZURE_ROLES.get(guid or "", f"built-in role {guid}")
                    found.append((identity, f"template identity holds {role} through role assignment "
                                            f"{assignment.name}; it may hold only the factory's custom role"))
                    continue
                for definition in held:
                    for permission in _items(definition.inputs.get("permissions")):
                        risky = [a for a in _strings(_get(permission, "actions"))
                                 if a.lower().startswith("microsoft.authorization/") and not a.lower().endswith("/read")]
                        if risky:
                            found.append((identity, f"custom role {definition.name} lets the template identity "
                                                    f"change access control ({', '.join(risky)})"))
    return found


# Secrets -------------------------------------------------------------------------------------


def _check_no_secrets(resource_type: str, inputs: Mapping, context: Context) -> list:
    # Without a cache from the caller, this one check scans afresh (and remembers nothing).
    return secret_scan.findings(resource_type, inputs, context.scan_cache or ScanCache())


# Pipelines -----------------------------------------------------------------------------------


def _recurrence(definition: Any) -> Optional[bool]:
    """True/False whether a Logic App definition has a Recurrence trigger; None when unknown."""
    if definition is UNKNOWN:
        return None
    triggers = _get(definition, "triggers")
    if triggers is UNKNOWN:
        return None
    if not isinstance(triggers, Mapping):
        return False
    return any(str(_get(t, "type")).lower() == "recurrence" for t in triggers.values())


NO_SCHEDULE_TAG = "golden-images:no-schedule"
NO_IMAGE_TESTS_TAG = "golden-images:no-image-tests"


def _decision(inputs: Mapping, tag: str) -> Optional[str]:
    """A flavour's recorded decision (schedule or image tests off) and its reason, from the resource's tags."""
    tags = inputs.get("tags")
    value = tags.get(tag) if isinstance(tags, Mapping) else None
    return value if isinstance(value, str) and value.strip() else None


def _decided_off(rule_id: str, title: str, rationale: str, tag: str, finding: str) -> Rule:
    """An advisory rule for a check a flavour turned off with a reason: the reason (a tag on the pipeline or
    template) and `finding`, formatted with it, are what reviewers see on every plan."""
    def check(resource_type: str, inputs: Mapping, context: Context) -> list:
        reason = _decision(inputs, tag)
        return [] if reason is None else [finding.format(reason=reason)]

    return Rule(id=rule_id, title=title, rationale=rationale, enforcement="advisory",
                types=(IMAGE_PIPELINE, IMAGE_TEMPLATE), check=check)


def _check_scheduled(resources: Sequence[Resource], context: Context) -> list:
    found = []
    for pipeline in _of_type(resources, IMAGE_PIPELINE):
        if _decision(pipeline.inputs, NO_SCHEDULE_TAG):
            continue  # a recorded decision: GI-PIPE-003 warns
        schedule = pipeline.inputs.get("schedule")
        expression = _get(schedule, "scheduleExpression")
        if schedule is UNKNOWN or expression is UNKNOWN:
            continue
        if not (isinstance(expression, str) and expression.strip()):
            found.append((pipeline, "has no schedule.scheduleExpression; images must be rebuilt on a schedule to pick "
                                    "up the month's patches"))
            continue
        start = _get(schedule, "pipelineExecutionStartCondition")
        if start is not UNKNOWN and start != "EXPRESSION_MATCH_ONLY":
            found.append((pipeline, f"schedule.pipelineExecutionStartCondition is {start!r} (default: run only when a "
                                    "component or parent image changed); use 'EXPRESSION_MATCH_ONLY' so the schedule "
                                    "really rebuilds"))
        if pipeline.inputs.get("status") == "DISABLED":
            found.append((pipeline, "status is 'DISABLED'; a disabled pipeline never runs its schedule"))
    workflows = _of_type(resources, LOGIC_WORKFLOW)
    for template in _of_type(resources, IMAGE_TEMPLATE):
        if _decision(template.inputs, NO_SCHEDULE_TAG):
            continue
        name = template.inputs.get("imageTemplateName") or template.inputs.get("name")
        runs = []
        for workflow in workflows:
            definition = workflow.inputs.get("definition")
            mentions = isinstance(name, str) and name in json.dumps(definition, default=str)
            if not (mentions or _refers_to(workflow, template)):
                continue
            if workflow.inputs.get("state") == "Disabled":
                continue
            if _recurrence(definition) is not False:
                runs.append(workflow)
        if not runs:
            found.append((template, "no enabled Logic App workflow with a Recurrence trigger runs this template; "
                                    "creating a template does not build it, and images must be rebuilt on a schedule"))
    return found


def _check_tested(resource_type: str, inputs: Mapping, context: Context) -> list:
    if _decision(inputs, NO_IMAGE_TESTS_TAG):
        return []  # a recorded decision: GI-PIPE-004 warns
    if resource_type == IMAGE_PIPELINE:
        tests = inputs.get("imageTestsConfiguration")
        enabled = _get(tests, "imageTestsEnabled")
        if tests is UNKNOWN or enabled is UNKNOWN or enabled is True:
            return []
        return [f"imageTestsConfiguration.imageTestsEnabled is {enabled!r}; enable image tests explicitly so no "
                "untested image is distributed"]
    validate = inputs.get("validate")
    if validate is UNKNOWN:
        return []
    problems = []
    checks = _get(validate, "inVMValidations")
    if checks is not UNKNOWN and not _items(checks):
        problems.append("validate.inVMValidations is empty; every template runs the flavour's checks on the built VM")
    if _get(validate, "sourceValidationOnly") is True:
        problems.append("validate.sourceValidationOnly is true: the image is never built, only the source validated")
    if _get(validate, "continueDistributeOnFailure") is True:
        problems.append("validate.continueDistributeOnFailure is true: images that fail their checks are still distributed")
    return problems


# Flavours ------------------------------------------------------------------------------------


def _flavour_resources(resources: Sequence[Resource], context: Context) -> list:
    by_name = {r.name: r for r in resources if r.type == GOLDEN_IMAGE}
    return [
        (by_name.get(name) or Resource(urn="", type=GOLDEN_IMAGE, name=name, inputs={}, custom=False), tuple(steps))
        for name, steps in context.flavour_steps.items()
    ]


def _requires_category(category: str, purpose: str) -> StackCheck:
    def check(resources: Sequence[Resource], context: Context) -> list:
        found = []
        offered = sorted(s for s, c in context.step_categories.items() if c == category)
        hint = f"catalogue steps: {', '.join(offered)}" if offered else "the catalogue has none yet"
        for res, steps in _flavour_resources(resources, context):
            if not any(context.step_categories.get(step) == category for step in steps):
                found.append((res, f"steps [{', '.join(steps)}] include no '{category}' step ({purpose}; {hint})"))
        return found

    return check


# The rule set --------------------------------------------------------------------------------

RULES: tuple = (
    Rule(
        id="GI-BUILD-001",
        title="Build instances require IMDSv2",
        rationale="IMDSv1 answers any request from the instance, so an SSRF in build software leaks the build role's credentials.",
        enforcement="mandatory",
        types=(INFRASTRUCTURE_CONFIGURATION,),
        check=_check_imdsv2,
    ),
    Rule(
        id="GI-BUILD-002",
        title="Build instances terminate on failure",
        rationale="A failed build left running keeps the build role's credentials and a half-configured machine alive.",
        enforcement="mandatory",
        types=(INFRASTRUCTURE_CONFIGURATION,),
        check=_check_terminate_on_failure,
    ),
    Rule(
        id="GI-BUILD-003",
        title="Azure build VMs are cleaned up on failure",
        rationale="A kept build VM helps debugging but lingers with the template identity until someone deletes it.",
        enforcement="advisory",
        types=(IMAGE_TEMPLATE,),
        check=_check_azure_cleanup,
    ),
    Rule(
        id="GI-ENC-001",
        title="Volumes, AMIs, snapshots and components are encrypted; with a customer-managed key in prod",
        rationale="Images carry the organisation's software and configuration; prod keys must be revocable by the organisation.",
        enforcement="mandatory",
        types=(IMAGE_RECIPE, DISTRIBUTION_CONFIGURATION, COMPONENT),
        check=_check_encryption,
    ),
    Rule(
        id="GI-SHARE-001",
        title="No public launch permission",
        rationale="A public golden image publishes the organisation's software, configuration and any mistake in them.",
        enforcement="mandatory",
        types=(DISTRIBUTION_CONFIGURATION, AMI_LAUNCH_PERMISSION, GALLERY),
        check=_check_no_public_launch,
    ),
    Rule(
        id="GI-SHARE-002",
        title="Images are shared only with the accounts, organizations and OUs listed in stack config",
        rationale="Who may launch or receive an image is a reviewed stack setting, not a detail inside a resource.",
        enforcement="mandatory",
        types=(DISTRIBUTION_CONFIGURATION,),
        check=_check_sharing_allowlist,
    ),
    Rule(
        id="GI-LOG-001",
        title="Log buckets are private",
        rationale="Build logs show installed software, versions and internal hosts: useful to an attacker.",
        enforcement="mandatory",
        types=BUCKETS + (PUBLIC_ACCESS_BLOCK,) + BUCKET_ACLS,
        check_stack=_check_buckets_private,
    ),
    Rule(
        id="GI-LOG-002",
        title="Log buckets are encrypted",
        rationale="Logs at rest are protected like the images they describe.",
        enforcement="mandatory",
        types=BUCKETS + BUCKET_ENCRYPTION,
        check_stack=_check_buckets_encrypted,
    ),
    Rule(
        id="GI-LOG-003",
        title="Notification topics are encrypted",
        rationale="Build notifications name images, accounts and failures; they are encrypted at rest like the logs.",
        enforcement="mandatory",
        types=(TOPIC,),
        check=_check_topic_encrypted,
    ),
    Rule(
        id="GI-IAM-001",
        title="No IAM policy or custom role allows every action on every resource",
        rationale="A wildcard policy turns any compromised build into a compromised account.",
        enforcement="mandatory",
        types=IAM_POLICY_DOCUMENTS + (IAM_ROLE, ROLE_DEFINITION),
        check=_check_no_wildcard_policy,
    ),
    Rule(
        id="GI-IAM-002",
        title="No administrator policies",
        rationale="Build instances run third-party installers; their roles get the narrow managed policies Image Builder documents.",
        enforcement="mandatory",
        types=IAM_ATTACHMENTS + IAM_EXCLUSIVE_ATTACHMENTS + (IAM_ROLE,),
        check=_check_no_admin_policies,
    ),
    Rule(
        id="GI-AZ-001",
        title="No Owner, Contributor or User Access Administrator at subscription scope or above",
        rationale="The image factory needs a gallery and a staging group, never the whole subscription.",
        enforcement="mandatory",
        types=(ROLE_ASSIGNMENT,),
        check=_check_no_privileged_assignment,
    ),
    Rule(
        id="GI-AZ-002",
        title="Image templates run as one user-assigned identity",
        rationale="A user-assigned identity's roles are granted and reviewed once, before any template uses it.",
        enforcement="mandatory",
        types=(IMAGE_TEMPLATE,),
        check=_check_template_identity,
    ),
    Rule(
        id="GI-AZ-003",
        title="The template identity holds only its custom role",
        rationale="Customizers run arbitrary scripts with the identity's rights; a least-privilege custom role bounds them.",
        enforcement="mandatory",
        types=(IMAGE_TEMPLATE, USER_ASSIGNED_IDENTITY, ROLE_ASSIGNMENT, ROLE_DEFINITION),
        check_stack=_check_template_identity_roles,
    ),
    Rule(
        id="GI-SECRET-001",
        title="No secret-looking values in any document, script, customizer or tag",
        rationale="Everything in a pipeline definition is readable by many and logged; secrets are read at boot instead.",
        enforcement="mandatory",
        types=("*",),
        check=_check_no_secrets,
    ),
    Rule(
        id="GI-PIPE-001",
        title="Every pipeline rebuilds on a schedule",
        rationale="The point of a golden image is this month's patches; a pipeline that never reruns goes stale.",
        enforcement="mandatory",
        types=(IMAGE_PIPELINE, IMAGE_TEMPLATE, LOGIC_WORKFLOW),
        check_stack=_check_scheduled,
    ),
    Rule(
        id="GI-PIPE-002",
        title="Every pipeline tests its images",
        rationale="An image is distributed only after the flavour's checks have passed on it.",
        enforcement="mandatory",
        types=(IMAGE_PIPELINE, IMAGE_TEMPLATE),
        check=_check_tested,
    ),
    _decided_off(
        "GI-PIPE-003",
        title="A flavour without scheduled rebuilds says why",
        rationale="A flavour may build only on demand (schedule: {enabled: false, reason}); its images then age "
                  "unpatched, which reviewers see on every plan.",
        tag=NO_SCHEDULE_TAG,
        finding="no scheduled rebuilds ({reason}): the image ages without patches; each month unpatched adds that "
                "month's security fixes to what every machine launched from it lacks, until someone starts a build",
    ),
    _decided_off(
        "GI-PIPE-004",
        title="A flavour without image tests says why",
        rationale="A team may test elsewhere (tests: {enabled: false, reason}); its images are then distributed "
                  "untested, which reviewers see on every plan.",
        tag=NO_IMAGE_TESTS_TAG,
        finding="image tests are off ({reason}): images are distributed without the flavour's test suite having "
                "passed on them",
    ),
    Rule(
        id="GI-FLAV-001",
        title="Every flavour includes an updates step",
        rationale="An image without the latest updates ships known vulnerabilities.",
        enforcement="mandatory",
        types=(GOLDEN_IMAGE,),
        check_stack=_requires_category("updates", "every image carries the latest patches"),
    ),
    Rule(
        id="GI-FLAV-002",
        title="Every flavour includes a hardening step",
        rationale="Defaults of a marketplace image are not the organisation's security baseline.",
        enforcement="mandatory",
        types=(GOLDEN_IMAGE,),
        check_stack=_requires_category("hardening", "every image starts from the security baseline"),
    ),
)

RULES_BY_ID = {rule.id: rule for rule in RULES}


def evaluate(resources: Iterable[Resource], context: Context, rules: Sequence[Rule] = RULES) -> list[Violation]:
    """Every violation of every rule, in rule order."""
    resources = list(resources)
    if any(rule.check is _check_no_secrets for rule in rules):
        if context.scan_cache is None:
            context = replace(context, scan_cache=ScanCache())
        secret_scan.prime(resources, context.scan_cache)
    return [violation for rule in rules for violation in rule.evaluate(resources, context)]
