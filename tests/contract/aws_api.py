"""Contract checker: pulumi-aws `aws:imagebuilder` inputs against the AWS API model.

The AWS side of the contract is the EC2 Image Builder service model that
botocore ships (`botocore.session.get_session().get_service_model("imagebuilder")`).
pulumi-aws is a Terraform-bridged provider, so what the engine receives is not
the API request: names are the camelCase of the Terraform schema, one-element
blocks are flattened to objects, some fields are renamed, nested or converted,
and a few are provider-only. `translate()` performs that mapping from an
explicit per-resource table (`RESOURCES`) written from the pulumi-aws SDK's own
input types (`pulumi_aws/imagebuilder/_inputs.py`, `pulumi.getter(name=...)`)
and the Terraform provider's expand functions. Every input member without a
table entry is reported, so a new field can never pass unchecked.

`check_request()` then walks the operation's input shape and reports, each with
its JSON path: missing required members, unknown members, wrong types, string,
list and map lengths (min and max), numeric ranges, regex patterns and enums.
botocore's own `ParamValidator` checks only presence, types and minimums; the
maximums, patterns and enums live in the shapes' metadata and are walked here.
botocore's validator still runs as a safety net: anything it finds that the
walk did not is reported too.

Decisions worth knowing when reading a failure:

* Values are checked as sent. The provider silently drops some zero values
  ("" and empty lists, via Terraform's GetOk); the checker reports them instead,
  because an empty value the factory sends is dead data or a bug. Exception:
  component and workflow parameter values, where dropping "" is exactly what
  makes the real request fail (see `_parameter_value`).
* Integers arrive as floats on the Pulumi wire: integral floats are accepted
  for integer shapes, anything else is a type error. Booleans are never ints.
* Members carrying botocore's `idempotencyToken` trait (`clientToken` on every
  Create* operation) are filled by the provider with a fresh unique id on each
  create, so their absence is not an error; `dryRun` is never sent.
* AWS patterns are Java regular expressions with Smithy semantics (not anchored
  unless written with ^/$). `java_to_python()` translates them; see its notes.
* `PROVIDER_RULES` adds what the shapes cannot express: the provider's stricter
  types (the lifecycle policy's execution role must be an ARN), cross-field
  rules from the API reference (exactly one of data/uri; unit and retainAtLeast
  only on AGE filters) and the six-field cron Image Builder schedules require.

Pure library: imports botocore and the standard library only, never pulumi.
"""
from __future__ import annotations

import functools
import math
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import botocore.session
from botocore.validate import ParamValidator

SERVICE = "imagebuilder"

# pulumi-aws type token -> the Image Builder operation that creates it.
OPERATIONS: dict[str, str] = {
    "aws:imagebuilder/component:Component": "CreateComponent",
    "aws:imagebuilder/imageRecipe:ImageRecipe": "CreateImageRecipe",
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": "CreateInfrastructureConfiguration",
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": "CreateDistributionConfiguration",
    "aws:imagebuilder/imagePipeline:ImagePipeline": "CreateImagePipeline",
    "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy": "CreateLifecyclePolicy",
    "aws:imagebuilder/workflow:Workflow": "CreateWorkflow",
}

# Each plan must hold at least one of these per stack (Workflow only if used).
EXPECTED_TYPES = tuple(t for t in OPERATIONS if not t.endswith(":Workflow"))

# The ARN resource type AWS gives each resource (arn:aws:imagebuilder:<region>:<account>:<type>/...).
ARN_TYPES: dict[str, str] = {
    "aws:imagebuilder/component:Component": "component",
    "aws:imagebuilder/imageRecipe:ImageRecipe": "image-recipe",
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": "infrastructure-configuration",
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": "distribution-configuration",
    "aws:imagebuilder/imagePipeline:ImagePipeline": "image-pipeline",
    "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy": "lifecycle-policy",
    "aws:imagebuilder/workflow:Workflow": "workflow",
}


# ---------------------------------------------------------------------------
# The service model
# ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def service_model():
    return botocore.session.get_session().get_service_model(SERVICE)


def input_shape(operation: str):
    return service_model().operation_model(operation).input_shape


def shape_at(operation: str, api_path: str):
    """The shape of a dotted member path (list members are stepped through), or None."""
    shape = input_shape(operation)
    for part in api_path.split("."):
        while shape.type_name == "list":
            shape = shape.member
        if shape.type_name != "structure" or part not in shape.members:
            return None
        shape = shape.members[part]
    return shape


# ---------------------------------------------------------------------------
# Java regular expressions -> Python
# ---------------------------------------------------------------------------
_POSIX_CLASSES = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7F", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "!-~", "Print": " -~", "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F", "XDigit": "0-9a-fA-F", "Space": " \\t\\n\\x0B\\f\\r",
    # Unicode categories used in AWS models, approximated to what Python's re can express.
    "L": "^\\W\\d_", "IsAlphabetic": "^\\W\\d_", "IsLetter": "^\\W\\d_", "N": "\\d", "IsDigit": "\\d",
}


class UnsupportedPattern(ValueError):
    """A Java construct this translator does not handle: fail loudly, never skip the check."""


@functools.lru_cache(maxsize=None)
def java_to_python(pattern: str) -> "re.Pattern[str]":
    """Compile an AWS (Java, Smithy) pattern for Python's `re`, with Java's meaning.

    Differences handled:
    * `\\w \\d \\s \\b` are ASCII-only in Java: compiled with re.ASCII.
    * Java's `$` also matches before a final line terminator; here `$` outside a
      character class becomes `\\Z` (absolute end), so "name\\n" is rejected.
      That is stricter than Java by design: a trailing newline in a name is a bug.
    * `\\z` -> `\\Z`; Java `\\Z` (end but for a final terminator) -> `(?=\\n?\\Z)`.
    * `\\Q...\\E` quoting, `\\h`, `\\p{Alpha}`-style POSIX and a few Unicode
      classes (`\\P{..}` negated) are rewritten.
    * Possessive quantifiers and atomic groups are native since Python 3.11.
    * Character-class intersection (`&&`) is not expressible: UnsupportedPattern.
    Matching semantics (Smithy @pattern): not anchored, so use `.search()`.
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                out.append(re.escape(literal))
                i = len(pattern) if end < 0 else end + 2
                continue
            if nxt in "pP" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                end = pattern.index("}", i + 3)
                name = pattern[i + 3:end]
                name = name[2:] if name.startswith("Is") and name[2:] in _POSIX_CLASSES else name
                if name not in _POSIX_CLASSES:
                    raise UnsupportedPattern(f"{pattern!r}: \\{nxt}{{{name}}} has no Python translation")
                body = _POSIX_CLASSES[name]
                negate = nxt == "P"
                if body.startswith("^"):  # already a negated class body
                    body, negate = body[1:], not negate
                if in_class:
                    if negate:
                        raise UnsupportedPattern(f"{pattern!r}: negated class inside a class")
                    out.append(body)
                else:
                    out.append(f"[{'^' if negate else ''}{body}]")
                i = end + 1
                continue
            if nxt == "h":
                out.append(" \\t\\xA0" if in_class else "[ \\t\\xA0]")
            elif nxt == "z":
                out.append("\\Z")
            elif nxt == "Z":
                out.append("(?=\\n?\\Z)")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if in_class:
            if pattern.startswith("&&", i):
                raise UnsupportedPattern(f"{pattern!r}: character-class intersection (&&)")
            if ch == "[":
                raise UnsupportedPattern(f"{pattern!r}: nested character class (a union in Java)")
            if ch == "]":
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            # A leading ']' (or '^]') is a literal in both dialects.
            if pattern.startswith("^]", i + 1):
                out.append("^]")
                i += 2
            elif pattern.startswith("]", i + 1):
                out.append("]")
                i += 1
        elif ch == "$":
            out.append("\\Z")
        else:
            out.append(ch)
        i += 1
    return re.compile("".join(out), re.ASCII)


def _enum_like(pattern: str) -> bool:
    """`optional|required`: an unanchored alternation of bare words is an enum in disguise."""
    return re.fullmatch(r"[A-Za-z0-9_-]+(\|[A-Za-z0-9_-]+)+", pattern) is not None


def pattern_matches(pattern: str, value: str) -> bool:
    compiled = java_to_python(pattern)
    if _enum_like(pattern):
        # Smithy's unanchored search would accept "notrequired"; the service does not.
        return compiled.fullmatch(value) is not None
    return compiled.search(value) is not None


# ---------------------------------------------------------------------------
# The mapping: pulumi-aws wire inputs -> API request
# ---------------------------------------------------------------------------
_DROP = object()  # a converter's answer for "the provider sends nothing"


@dataclass(frozen=True)
class Member:
    """How the provider turns one Pulumi input member into the API request.

    api:     dotted API member path relative to the enclosing API object
             ("additionalInstanceConfiguration.userDataOverride"); None = never sent.
    fields:  the table for a nested object, or for each element of a list of objects.
    convert: (value, path, errors) -> API value, or _DROP.
    why:     the reason for anything other than a same-name, same-shape mapping.
    """

    api: Optional[str]
    fields: Optional[Mapping[str, "Member"]] = None
    convert: Optional[Callable[[Any, str, list], Any]] = None
    why: str = ""


def same(name: str, fields: Optional[Mapping[str, Member]] = None) -> Member:
    return Member(name, fields)


def provider_only(why: str) -> Member:
    return Member(None, why=why)


_REGION = provider_only("pulumi-aws 7 per-resource region override: selects the endpoint, not an API member")


def _nullable_bool(value: Any, path: str, errors: list) -> Any:
    # Terraform's nullable bool: a string parsed with Go's strconv.ParseBool; "" means unset.
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value == "":
            return _DROP
        if value in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if value in ("0", "f", "F", "FALSE", "false", "False"):
            return False
    errors.append(f"{path}: {value!r} is not a boolean string ('true' or 'false') as pulumi-aws expects")
    return _DROP


def _no_device(value: Any, path: str, errors: list) -> Any:
    # The API's "suppress this device" is an empty string; Terraform models it as a bool.
    if value is True:
        return ""
    if value is False:
        return _DROP
    errors.append(f"{path}: must be a boolean, got {type(value).__name__}")
    return _DROP


def _parameter_value(value: Any, path: str, errors: list) -> Any:
    # Terraform takes one string and sends it as a one-element list ("only one element is
    # accepted"); an empty string is dropped, so the API then misses the required value.
    if isinstance(value, str):
        return [value] if value != "" else _DROP
    errors.append(f"{path}: pulumi-aws takes a single string here, got {type(value).__name__}")
    return _DROP


_PARAMETERS = {
    "name": same("name"),
    "value": Member("value", convert=_parameter_value, why="one string sent as a one-element list"),
}

COMPONENT: dict[str, Member] = {
    "name": same("name"),
    "version": Member("semanticVersion", why="terraform `version` is the API's semanticVersion"),
    "platform": same("platform"),
    "changeDescription": same("changeDescription"),
    "data": same("data"),
    "uri": same("uri"),
    "description": same("description"),
    "kmsKeyId": same("kmsKeyId"),
    "supportedOsVersions": same("supportedOsVersions"),
    "tags": same("tags"),
    "skipDestroy": provider_only("keeps the old version on destroy; a provider behaviour"),
    "region": _REGION,
}

_EBS = {
    "deleteOnTermination": Member("deleteOnTermination", convert=_nullable_bool, why="nullable bool string"),
    "encrypted": Member("encrypted", convert=_nullable_bool, why="nullable bool string"),
    "iops": same("iops"),
    "kmsKeyId": same("kmsKeyId"),
    "snapshotId": same("snapshotId"),
    "throughput": same("throughput"),
    "volumeSize": same("volumeSize"),
    "volumeType": same("volumeType"),
}

IMAGE_RECIPE: dict[str, Member] = {
    "name": same("name"),
    "version": Member("semanticVersion", why="terraform `version` is the API's semanticVersion"),
    "description": same("description"),
    "parentImage": same("parentImage"),
    "components": Member("components", {
        "componentArn": same("componentArn"),
        "parameters": same("parameters", _PARAMETERS),
    }, why="terraform `component` blocks"),
    "blockDeviceMappings": Member("blockDeviceMappings", {
        "deviceName": same("deviceName"),
        "ebs": Member("ebs", _EBS, why="one-element terraform list, an object in Pulumi and the API"),
        "noDevice": Member("noDevice", convert=_no_device, why="bool in terraform, \"\" in the API"),
        "virtualName": same("virtualName"),
    }, why="terraform `block_device_mapping` set"),
    "systemsManagerAgent": Member("additionalInstanceConfiguration.systemsManagerAgent", {
        "uninstallAfterBuild": same("uninstallAfterBuild"),
    }, why="nested under additionalInstanceConfiguration in the API"),
    "userDataBase64": Member("additionalInstanceConfiguration.userDataOverride",
                             why="nested under additionalInstanceConfiguration in the API"),
    "workingDirectory": same("workingDirectory"),
    "amiTags": same("amiTags"),
    "tags": same("tags"),
    "region": _REGION,
}

INFRASTRUCTURE_CONFIGURATION: dict[str, Member] = {
    "name": same("name"),
    "description": same("description"),
    "instanceProfileName": same("instanceProfileName"),
    "instanceTypes": same("instanceTypes"),
    "instanceMetadataOptions": same("instanceMetadataOptions", {
        "httpPutResponseHopLimit": same("httpPutResponseHopLimit"),
        "httpTokens": same("httpTokens"),
    }),
    "keyPair": same("keyPair"),
    "logging": same("logging", {
        "s3Logs": same("s3Logs", {
            "s3BucketName": same("s3BucketName"),
            "s3KeyPrefix": same("s3KeyPrefix"),
        }),
    }),
    "placement": same("placement", {
        "availabilityZone": same("availabilityZone"),
        "hostId": same("hostId"),
        "hostResourceGroupArn": same("hostResourceGroupArn"),
        "tenancy": same("tenancy"),
    }),
    "resourceTags": same("resourceTags"),
    "securityGroupIds": same("securityGroupIds"),
    "snsTopicArn": same("snsTopicArn"),
    "subnetId": same("subnetId"),
    "terminateInstanceOnFailure": same("terminateInstanceOnFailure"),
    "tags": same("tags"),
    "region": _REGION,
}

DISTRIBUTION_CONFIGURATION: dict[str, Member] = {
    "name": same("name"),
    "description": same("description"),
    "distributions": Member("distributions", {
        "region": Member("region", why="the target region: an API member here, unlike the top-level region"),
        "amiDistributionConfiguration": same("amiDistributionConfiguration", {
            "amiTags": same("amiTags"),
            "description": same("description"),
            "kmsKeyId": same("kmsKeyId"),
            "launchPermission": same("launchPermission", {
                "organizationArns": same("organizationArns"),
                "organizationalUnitArns": same("organizationalUnitArns"),
                "userGroups": same("userGroups"),
                "userIds": same("userIds"),
            }),
            "name": same("name"),
            "targetAccountIds": same("targetAccountIds"),
        }),
        "containerDistributionConfiguration": same("containerDistributionConfiguration", {
            "containerTags": same("containerTags"),
            "description": same("description"),
            "targetRepository": same("targetRepository", {
                "repositoryName": same("repositoryName"),
                "service": same("service"),
            }),
        }),
        "fastLaunchConfigurations": same("fastLaunchConfigurations", {
            "accountId": same("accountId"),
            "enabled": same("enabled"),
            "launchTemplate": same("launchTemplate", {
                "launchTemplateId": same("launchTemplateId"),
                "launchTemplateName": same("launchTemplateName"),
                "launchTemplateVersion": same("launchTemplateVersion"),
            }),
            "maxParallelLaunches": same("maxParallelLaunches"),
            "snapshotConfiguration": same("snapshotConfiguration", {
                "targetResourceCount": same("targetResourceCount"),
            }),
        }),
        "launchTemplateConfigurations": same("launchTemplateConfigurations", {
            "launchTemplateId": same("launchTemplateId"),
            "accountId": same("accountId"),
            "default": Member("setDefaultVersion", why="terraform `default` is the API's setDefaultVersion"),
        }),
        "licenseConfigurationArns": same("licenseConfigurationArns"),
        "s3ExportConfiguration": same("s3ExportConfiguration", {
            "diskImageFormat": same("diskImageFormat"),
            "roleName": same("roleName"),
            "s3Bucket": same("s3Bucket"),
            "s3Prefix": same("s3Prefix"),
        }),
        "ssmParameterConfigurations": same("ssmParameterConfigurations", {
            "amiAccountId": same("amiAccountId"),
            "dataType": same("dataType"),
            "parameterName": same("parameterName"),
        }),
    }, why="terraform `distribution` blocks"),
    "tags": same("tags"),
    "region": _REGION,
}

IMAGE_PIPELINE: dict[str, Member] = {
    "name": same("name"),
    "description": same("description"),
    "containerRecipeArn": same("containerRecipeArn"),
    "imageRecipeArn": same("imageRecipeArn"),
    "infrastructureConfigurationArn": same("infrastructureConfigurationArn"),
    "distributionConfigurationArn": same("distributionConfigurationArn"),
    "enhancedImageMetadataEnabled": same("enhancedImageMetadataEnabled"),
    "executionRole": same("executionRole"),
    "imageScanningConfiguration": same("imageScanningConfiguration", {
        "ecrConfiguration": same("ecrConfiguration", {
            "containerTags": same("containerTags"),
            "repositoryName": same("repositoryName"),
        }),
        "imageScanningEnabled": same("imageScanningEnabled"),
    }),
    "imageTestsConfiguration": same("imageTestsConfiguration", {
        "imageTestsEnabled": same("imageTestsEnabled"),
        "timeoutMinutes": same("timeoutMinutes"),
    }),
    "loggingConfiguration": same("loggingConfiguration", {
        "imageLogGroupName": same("imageLogGroupName"),
        "pipelineLogGroupName": same("pipelineLogGroupName"),
    }),
    "schedule": same("schedule", {
        "scheduleExpression": same("scheduleExpression"),
        "pipelineExecutionStartCondition": same("pipelineExecutionStartCondition"),
        "timezone": same("timezone"),
    }),
    "status": same("status"),
    "workflows": Member("workflows", {
        "workflowArn": same("workflowArn"),
        "onFailure": same("onFailure"),
        "parallelGroup": same("parallelGroup"),
        "parameters": same("parameters", _PARAMETERS),
    }, why="terraform `workflow` blocks"),
    "tags": same("tags"),
    "region": _REGION,
}

LIFECYCLE_POLICY: dict[str, Member] = {
    "name": same("name"),
    "description": same("description"),
    "executionRole": same("executionRole"),
    "resourceType": same("resourceType"),
    "status": same("status"),
    "policyDetails": Member("policyDetails", {
        "action": same("action", {
            "type": same("type"),
            "includeResources": Member("includeResources", {
                "amis": same("amis"),
                "containers": same("containers"),
                "snapshots": same("snapshots"),
            }, why="terraform `include_resource` block"),
        }),
        "filter": same("filter", {
            "type": same("type"),
            "value": same("value"),
            "retainAtLeast": same("retainAtLeast"),
            "unit": same("unit"),
        }),
        "exclusionRules": Member("exclusionRules", {
            "amis": same("amis", {
                "isPublic": same("isPublic"),
                "lastLaunched": same("lastLaunched", {
                    "unit": same("unit"),
                    "value": same("value"),
                }),
                "regions": same("regions"),
                "sharedAccounts": same("sharedAccounts"),
                "tagMap": same("tagMap"),
            }),
            "tagMap": same("tagMap"),
        }, why="terraform `exclusion_rule` block"),
    }, why="terraform `policy_detail` blocks"),
    "resourceSelection": same("resourceSelection", {
        "recipes": Member("recipes", {
            "name": same("name"),
            "semanticVersion": same("semanticVersion"),
        }, why="terraform `recipe` blocks"),
        "tagMap": same("tagMap"),
    }),
    "tags": same("tags"),
    "region": _REGION,
}

WORKFLOW: dict[str, Member] = {
    "name": same("name"),
    "version": Member("semanticVersion", why="terraform `version` is the API's semanticVersion"),
    "type": same("type"),
    "changeDescription": same("changeDescription"),
    "data": same("data"),
    "uri": same("uri"),
    "description": same("description"),
    "kmsKeyId": same("kmsKeyId"),
    "tags": same("tags"),
    "region": _REGION,
}

RESOURCES: dict[str, dict[str, Member]] = {
    "aws:imagebuilder/component:Component": COMPONENT,
    "aws:imagebuilder/imageRecipe:ImageRecipe": IMAGE_RECIPE,
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": INFRASTRUCTURE_CONFIGURATION,
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": DISTRIBUTION_CONFIGURATION,
    "aws:imagebuilder/imagePipeline:ImagePipeline": IMAGE_PIPELINE,
    "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy": LIFECYCLE_POLICY,
    "aws:imagebuilder/workflow:Workflow": WORKFLOW,
}


@dataclass
class Translation:
    operation: str
    request: dict
    errors: list = field(default_factory=list)


def translate(token: str, inputs: Mapping[str, Any]) -> Translation:
    """The API request the provider would send for these wire inputs, plus mapping errors."""
    if token not in RESOURCES:
        raise KeyError(f"{token}: no API mapping (known: {', '.join(sorted(RESOURCES))})")
    errors: list[str] = []
    request = _translate_object(RESOURCES[token], inputs, "", token, errors)
    return Translation(OPERATIONS[token], request, errors)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _translate_object(table: Mapping[str, Member], value: Any, path: str, token: str, errors: list) -> Any:
    if not isinstance(value, Mapping):
        return value  # the shape walk reports the type
    out: dict = {}
    for key, item in value.items():
        here = _join(path, key)
        if item is None:
            continue
        member = table.get(key)
        if member is None:
            errors.append(f"{here}: pulumi input has no mapping to the {OPERATIONS[token]} API "
                          f"(add it to aws_api.RESOURCES['{token}'])")
            continue
        if member.api is None:
            continue
        if member.fields is not None:
            if isinstance(item, list):
                item = [_translate_object(member.fields, e, f"{here}[{i}]", token, errors) for i, e in enumerate(item)]
            else:
                item = _translate_object(member.fields, item, here, token, errors)
        if member.convert is not None:
            item = member.convert(item, here, errors)
            if item is _DROP:
                continue
        _put(out, member.api, item, here, errors)
    return out


def _put(target: dict, api_path: str, value: Any, here: str, errors: list) -> None:
    *parents, last = api_path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    if last in target and isinstance(target[last], dict) and isinstance(value, dict):
        overlap = set(target[last]) & set(value)
        if overlap:
            errors.append(f"{here}: sets {api_path}.{sorted(overlap)[0]} twice")
        target[last].update(value)
    elif last in target:
        errors.append(f"{here}: sets {api_path} twice")
    else:
        target[last] = value


# ---------------------------------------------------------------------------
# Provider and cross-field rules the shapes do not express
# ---------------------------------------------------------------------------
def _exactly_one(*names: str) -> Callable[[dict], list]:
    def rule(request: dict) -> list:
        given = [n for n in names if request.get(n) is not None]
        if len(given) != 1:
            return [f"{'/'.join(names)}: exactly one must be given, got "
                    f"{', '.join(given) if given else 'none'}"]
        return []
    return rule


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+\Z", re.ASCII)


def _lifecycle_rules(request: dict) -> list:
    role = request.get("executionRole")
    if isinstance(role, str) and not _ROLE_ARN.match(role):
        return [f"executionRole: {role!r}: pulumi-aws types the lifecycle execution role as an ARN "
                "(the API also takes a role name, the provider does not)"]
    # Recipe selection by wildcard version (x.x.x) is accepted: pulumi-aws 7.51.1 documents it.
    return []


def _lifecycle_filter_rules(request: dict) -> list:
    # CreateLifecyclePolicy docs: `unit` and `retainAtLeast` belong to AGE filters only.
    errors = []
    details = request.get("policyDetails")
    for i, detail in enumerate(details if isinstance(details, list) else []):
        flt = detail.get("filter") if isinstance(detail, dict) else None
        if not isinstance(flt, dict):
            continue
        where = f"policyDetails[{i}].filter"
        if flt.get("type") == "AGE" and flt.get("unit") is None:
            errors.append(f"{where}.unit: required for an AGE filter")
        action = (detail.get("action") or {}).get("type")
        if flt.get("type") == "COUNT" and action != "DELETE":
            # botocore's LifecyclePolicyDetailFilter: "You can only use the count filter with the DELETE action type."
            errors.append(f"{where}.type: a COUNT filter only works with the DELETE action, not {action}")
        if flt.get("type") == "COUNT":
            for key in ("unit", "retainAtLeast"):
                if flt.get(key) is not None:
                    errors.append(f"{where}.{key}: only applies to AGE filters, this one is COUNT")
    return errors


_CRON = re.compile(r"^cron\((?P<fields>[^()]+)\)\Z")


def _schedule_rules(request: dict) -> list:
    schedule = request.get("schedule")
    if not isinstance(schedule, dict):
        return []
    errors = []
    timezone = schedule.get("timezone")
    if isinstance(timezone, str) and timezone not in _iana_zones():
        # The model's pattern is loose (unanchored, "+01" passes); the API takes IANA names.
        errors.append(f"schedule.timezone: {timezone!r} is not an IANA time zone name")
    expression = schedule.get("scheduleExpression")
    if not isinstance(expression, str):
        return errors
    return errors + _cron_rules(expression)


@functools.lru_cache(maxsize=None)
def _iana_zones() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def _cron_rules(expression: str) -> list:
    # Image Builder schedules are six-field cron expressions (minutes hours day-of-month month
    # day-of-week year) in which day-of-month or day-of-week is '?'; five fields fail with
    # "Unexpected end of expression".
    match = _CRON.match(expression)
    if not match:
        return [f"schedule.scheduleExpression: {expression!r} is not cron(...)"]
    fields = match["fields"].split()
    if len(fields) != 6:
        return [f"schedule.scheduleExpression: {expression!r} has {len(fields)} fields, Image Builder needs 6 "
                "(minutes hours day-of-month month day-of-week year)"]
    if "?" not in (fields[2], fields[4]) or fields[2] == fields[4]:
        return [f"schedule.scheduleExpression: {expression!r}: exactly one of day-of-month and day-of-week "
                "must be '?'"]
    return []


def _ssm_parameter_rules(request: dict) -> list:
    errors = []
    for i, dist in enumerate(request.get("distributions") or []):
        if not isinstance(dist, dict):
            continue
        for j, param in enumerate(dist.get("ssmParameterConfigurations") or []):
            if isinstance(param, dict) and param.get("dataType") not in (None, "aws:ec2:image"):
                errors.append(f"distributions[{i}].ssmParameterConfigurations[{j}].dataType: an AMI id "
                              "parameter should be aws:ec2:image so SSM validates it")
    return errors


PROVIDER_RULES: dict[str, tuple[Callable[[dict], list], ...]] = {
    "CreateComponent": (_exactly_one("data", "uri"),),
    "CreateWorkflow": (_exactly_one("data", "uri"),),
    "CreateImagePipeline": (_exactly_one("imageRecipeArn", "containerRecipeArn"), _schedule_rules),
    "CreateLifecyclePolicy": (_lifecycle_rules, _lifecycle_filter_rules),
    "CreateDistributionConfiguration": (_ssm_parameter_rules,),
}


# ---------------------------------------------------------------------------
# The shape walk
# ---------------------------------------------------------------------------
def provider_filled(operation: str) -> dict:
    """Members the provider fills itself (idempotency tokens) and why."""
    shape = input_shape(operation)
    return {
        name: "the provider sets a fresh unique client token on every create"
        for name, member in shape.members.items()
        if member.metadata.get("idempotencyToken")
    }


def check_request(operation: str, request: Mapping[str, Any]) -> list:
    """Every way `request` violates the operation's input shape, one line each with its path."""
    errors: list[str] = []
    shape = input_shape(operation)
    filled = provider_filled(operation)
    _walk(shape, request, "", errors, skip_required=set(filled))
    for rule in PROVIDER_RULES.get(operation, ()):
        errors.extend(rule(dict(request)) if isinstance(request, Mapping) else [])
    if not errors:
        errors.extend(_botocore_findings(operation, request, filled))
    return errors


def check(token: str, inputs: Mapping[str, Any]) -> list:
    """Translate pulumi wire inputs and check the request; errors are prefixed with the operation."""
    translation = translate(token, inputs)
    found = translation.errors + check_request(translation.operation, translation.request)
    return [f"{translation.operation}: {e}" for e in found]


def _walk(shape, value: Any, path: str, errors: list, skip_required: frozenset | set = frozenset()) -> None:
    kind = shape.type_name
    where = path or "(request)"
    if kind == "structure":
        if not isinstance(value, Mapping):
            errors.append(f"{where}: expected an object ({shape.name}), got {_kind(value)}")
            return
        for name in value:
            if name not in shape.members:
                errors.append(f"{_join(path, name)}: unknown member of {shape.name} "
                              f"(known: {', '.join(sorted(shape.members))})")
        for name in shape.required_members:
            if name not in skip_required and value.get(name) is None:
                errors.append(f"{_join(path, name)}: required by {shape.name} but missing")
        for name, item in value.items():
            if name in shape.members and item is not None:
                _walk(shape.members[name], item, _join(path, name), errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list ({shape.name}), got {_kind(value)}")
            return
        _length(shape, len(value), where, "items", errors)
        for i, item in enumerate(value):
            if item is None:
                errors.append(f"{path}[{i}]: null list item")
            else:
                _walk(shape.member, item, f"{path}[{i}]", errors)
        return
    if kind == "map":
        if not isinstance(value, Mapping):
            errors.append(f"{where}: expected a map ({shape.name}), got {_kind(value)}")
            return
        _length(shape, len(value), where, "entries", errors)
        for key, item in value.items():
            _walk(shape.key, key, f"{path}{{key {key!r}}}", errors)
            if item is None:
                errors.append(f"{path}[{key!r}]: null map value")
            else:
                _walk(shape.value, item, f"{path}[{key!r}]", errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string ({shape.name}), got {_kind(value)}")
            return
        _length(shape, len(value), where, "characters", errors)
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            errors.append(f"{where}: {_show(value)} is not one of {shape.name}: {', '.join(enum)}")
        pattern = shape.metadata.get("pattern")
        if pattern and not pattern_matches(pattern, value):
            errors.append(f"{where}: {_show(value)} does not match {shape.name} pattern {pattern}")
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
            errors.append(f"{where}: expected an integer ({shape.name}), got {_kind(value)} {value!r}")
            return
        _range(shape, value, where, errors)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{where}: expected a number ({shape.name}), got {_kind(value)}")
            return
        _range(shape, value, where, errors)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected a boolean ({shape.name}), got {_kind(value)} {value!r}")
        return
    if kind == "timestamp":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            errors.append(f"{where}: expected a timestamp ({shape.name}), got {_kind(value)}")
        return
    if kind == "blob":
        if not isinstance(value, (str, bytes)):
            errors.append(f"{where}: expected a blob ({shape.name}), got {_kind(value)}")
        return
    errors.append(f"{where}: shape type {kind!r} ({shape.name}) is not handled by the checker")


def _length(shape, length: int, where: str, unit: str, errors: list) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        errors.append(f"{where}: {length} {unit}, {shape.name} needs at least {low}")
    if high is not None and length > high:
        errors.append(f"{where}: {length} {unit}, {shape.name} allows at most {high}")


def _range(shape, value: float, where: str, errors: list) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        errors.append(f"{where}: {value:g} is below the {shape.name} minimum {low}")
    if high is not None and value > high:
        errors.append(f"{where}: {value:g} is above the {shape.name} maximum {high}")


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _show(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def _botocore_findings(operation: str, request: Any, filled: Mapping[str, str]) -> list:
    """botocore's own validator on the same request: a net under the walk above."""
    if not isinstance(request, Mapping):
        return []
    params = {**{name: "provider-filled-token" for name in filled}, **_ints(request)}
    report = ParamValidator().validate(params, input_shape(operation))
    if not report.has_errors():
        return []
    return [f"botocore: {line.strip()}" for line in report.generate_report().splitlines() if line.strip()]


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# ARNs and references
# ---------------------------------------------------------------------------
_IB_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):imagebuilder:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}|aws(?:-[a-z-]+)?|third-party):"
    r"(?P<type>[a-z-]+(?:/(?:build|test|distribution))?)/(?P<name>[a-z0-9_-]+)"
    r"(?:/(?P<version>(?:[0-9]+|x)\.(?:[0-9]+|x)\.(?:[0-9]+|x))(?:/(?P<build>[0-9]+))?)?\Z"
)


def parse_imagebuilder_arn(arn: str) -> Optional[dict]:
    match = _IB_ARN.match(arn) if isinstance(arn, str) else None
    return match.groupdict() if match else None


def arn_name(name: str) -> str:
    """How Image Builder writes a resource name into its ARN: lower case, spaces as hyphens."""
    return name.lower().replace(" ", "-")


def imagebuilder_arn(token: str, inputs: Mapping[str, Any], region: str, account: str,
                     partition: str = "aws") -> Optional[str]:
    """The ARN AWS assigns to this resource (component and recipe ARNs end in the version)."""
    name = inputs.get("name")
    if not isinstance(name, str) or token not in ARN_TYPES:
        return None
    kind = ARN_TYPES[token]
    if token.endswith(":Workflow"):
        kind = f"workflow/{str(inputs.get('type', '')).lower()}"
    arn = f"arn:{partition}:imagebuilder:{region}:{account}:{kind}/{arn_name(name)}"
    if token.endswith((":Component", ":ImageRecipe", ":Workflow")):
        arn += f"/{inputs.get('version')}"
    return arn


def version_matches(wanted: str, actual: str) -> bool:
    """x.y.z with `x` wildcards (as recipes and pipelines may reference) against x.y.z."""
    want, have = wanted.split("."), actual.split(".")
    return len(want) == len(have) == 3 and all(w in ("x", h) for w, h in zip(want, have))


def references(reference: str, target_arn: str) -> bool:
    """Whether an ARN reference (possibly wildcarded, possibly a build version) names target_arn."""
    ref, target = parse_imagebuilder_arn(reference), parse_imagebuilder_arn(target_arn)
    if not ref or not target:
        return False
    same_resource = all(ref[k] == target[k] for k in ("partition", "region", "account", "type", "name"))
    if not same_resource:
        return False
    if target["version"] is None or ref["version"] is None:
        return target["version"] is None and ref["version"] is None
    return version_matches(ref["version"], target["version"])


_AMI_ID = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?\Z")
_SSM_PARENT = re.compile(r"^ssm:(?:/[a-zA-Z0-9_.-]+)+\Z")


def parent_image_kind(value: str) -> Optional[str]:
    """'ami', 'image-arn' or 'ssm' for a valid recipe parent image, else None."""
    if not isinstance(value, str):
        return None
    if _AMI_ID.match(value):
        return "ami"
    if _SSM_PARENT.match(value):
        return "ssm"
    pattern = service_model().shape_for("ImageVersionArnOrBuildVersionArn").metadata["pattern"]
    if pattern_matches(pattern, value):
        return "image-arn"
    return None


def shape_pattern(shape_name: str) -> str:
    return service_model().shape_for(shape_name).metadata["pattern"]
