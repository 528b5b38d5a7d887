"""Contract tests: every aws:imagebuilder input is valid for the real Image Builder API.

(a) the checker itself, against hand-built inputs in pulumi-aws wire names;
(b) every aws:imagebuilder resource of the dev and prod plans passes it;
(c) ARNs and names the inputs reference are well-formed and point at resources
    the plan registers (or at AWS-managed ones);
(d) every component document is a valid AWSTOE document.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable, Optional

import pytest

from components.mocks import ACCOUNT_ID, autoname, kms_key_id
from components.plan import Plan, Registration, stack_config

from . import aws_api, awstoe
from .aws_samples import (
    COMPONENT,
    DISTRIBUTION,
    INFRA,
    LIFECYCLE,
    LINUX_DOCUMENT,
    PIPELINE,
    RECIPE,
    REGION,
    VALID,
    WINDOWS_DOCUMENT,
    WORKFLOW,
)

STACKS = ("dev", "prod")


def _mutated(token: str, change: Callable[[dict], Any]) -> dict:
    inputs = copy.deepcopy(VALID[token])
    change(inputs)
    return inputs


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A mutation setting a dotted/indexed path: 'distributions[0].region'."""
    def change(inputs: dict) -> None:
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        target: Any = inputs
        for part in parts[:-1]:
            target = target[int(part[1:-1])] if part.startswith("[") else target.setdefault(part, {})
        last = parts[-1]
        if value is _DELETE:
            del target[last]
        elif last.startswith("["):
            target[int(last[1:-1])] = value
        else:
            target[last] = value
    return change


_DELETE = object()


# ---------------------------------------------------------------------------
# (a) The checker against hand-built inputs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("token", sorted(VALID))
def test_valid_inputs_pass(token):
    assert aws_api.check(token, VALID[token]) == []


INVALID = {
    # name: (token, mutation, substring the error must contain)
    "missing required member": (COMPONENT, _set("platform", _DELETE), "platform: required by CreateComponentRequest"),
    "missing required nested member": (
        DISTRIBUTION, _set("distributions[0].region", _DELETE), "distributions[0].region: required by Distribution"),
    "missing name (pulumi would auto-name)": (RECIPE, _set("name", _DELETE), "name: required by CreateImageRecipeRequest"),
    "unmapped pulumi field": (INFRA, _set("instanceMetadataTags", "enabled"),
                              "instanceMetadataTags: pulumi input has no mapping"),
    "unmapped nested pulumi field": (PIPELINE, _set("schedule.autoDisable", True),
                                     "schedule.autoDisable: pulumi input has no mapping"),
    "name too long": (COMPONENT, _set("name", "c" * 129), "name: 'ccc"),
    "description too long": (RECIPE, _set("description", "d" * 1025),
                             "description: 1025 characters, NonEmptyString allows at most 1024"),
    "empty description": (INFRA, _set("description", ""), "description: 0 characters, NonEmptyString needs at least 1"),
    "AMI name too long": (DISTRIBUTION, _set("distributions[0].amiDistributionConfiguration.name", "a" * 128),
                          "allows at most 127"),
    "bad version pattern": (COMPONENT, _set("version", "1.2"), "semanticVersion: '1.2' does not match VersionNumber"),
    "recipe version wildcard is fine but letters are not": (
        RECIPE, _set("version", "1.2.y"), "does not match WildcardVersionNumber"),
    "bad component ARN": (RECIPE, _set("components[0].componentArn", "arn:aws:imagebuilder:eu-west-1:123:component/x"),
                          "components[0].componentArn"),
    "bad SNS topic ARN": (INFRA, _set("snsTopicArn", "golden-images-builds"), "does not match SnsTopicArn pattern"),
    "bad account id": (DISTRIBUTION, _set("distributions[0].amiDistributionConfiguration.targetAccountIds", ["2109876"]),
                       "targetAccountIds[0]: '2109876' does not match AccountId pattern"),
    "bad OU ARN": (DISTRIBUTION, _set("distributions[0].amiDistributionConfiguration.launchPermission."
                                      "organizationalUnitArns", ["ou-ab12-cdef3456"]), "OrganizationalUnitArn pattern"),
    "reserved tag key": (COMPONENT, _set("tags", {"aws:owner": "x"}), "does not match TagKey pattern"),
    "too many tags": (COMPONENT, _set("tags", {f"k{i}": "v" for i in range(51)}), "51 entries, TagMap allows at most 50"),
    "tag value too long": (RECIPE, _set("tags", {"k": "v" * 257}), "257 characters, TagValue allows at most 256"),
    "bad enum": (COMPONENT, _set("platform", "Ubuntu"), "platform: 'Ubuntu' is not one of Platform: Windows, Linux, macOS"),
    "bad nested enum": (LIFECYCLE, _set("policyDetails[0].action.type", "ARCHIVE"), "LifecyclePolicyDetailActionType"),
    "bad start condition": (PIPELINE, _set("schedule.pipelineExecutionStartCondition", "ALWAYS"),
                            "PipelineExecutionStartCondition"),
    "httpTokens is enum-like": (INFRA, _set("instanceMetadataOptions.httpTokens", "not-required"),
                                "does not match HttpTokens pattern"),
    "string where integer": (RECIPE, _set("blockDeviceMappings[0].ebs.volumeSize", "30"),
                             "ebs.volumeSize: expected an integer"),
    "fractional float where integer": (PIPELINE, _set("imageTestsConfiguration.timeoutMinutes", 90.5),
                                       "timeoutMinutes: expected an integer"),
    "string where boolean": (INFRA, _set("terminateInstanceOnFailure", "true"),
                             "terminateInstanceOnFailure: expected a boolean"),
    "object where list": (DISTRIBUTION, _set("distributions", {"region": REGION}), "distributions: expected a list"),
    "integer below minimum": (PIPELINE, _set("imageTestsConfiguration.timeoutMinutes", 30.0),
                              "30 is below the ImageTestsTimeoutMinutes minimum 60"),
    "integer above maximum": (LIFECYCLE, _set("policyDetails[1].filter.retainAtLeast", 11.0),
                              "above the LifecyclePolicyDetailFilterRetainAtLeast maximum 10"),
    "empty list below minimum": (RECIPE, _set("components", []), "components: 0 items, ComponentConfigurationList"),
    "bad nullable bool": (RECIPE, _set("blockDeviceMappings[0].ebs.encrypted", "yes"),
                          "ebs.encrypted: 'yes' is not a boolean string"),
    "empty parameter value is dropped": (RECIPE, _set("components[1].parameters[0].value", ""),
                                         "components[1].parameters[0].value: required by ComponentParameter"),
    "parameter value as list": (PIPELINE, _set("workflows[0].parameters[0].value", ["a"]),
                                "pulumi-aws takes a single string here"),
    "user data not base64": (RECIPE, _set("userDataBase64", "echo hello"),
                             "additionalInstanceConfiguration.userDataOverride: 'echo hello' does not match"),
    "both data and uri": (COMPONENT, _set("uri", "s3://bucket/doc.yaml"), "data/uri: exactly one must be given"),
    "neither data nor uri": (COMPONENT, _set("data", _DELETE), "data/uri: exactly one must be given, got none"),
    "component data too long": (COMPONENT, _set("data", "x" * 16001), "16001 characters, InlineComponentData"),
    "five-field cron": (PIPELINE, _set("schedule.scheduleExpression", "cron(0 2 * * 0)"), "has 5 fields"),
    "cron without ?": (PIPELINE, _set("schedule.scheduleExpression", "cron(0 2 * * SUN *)"),
                       "exactly one of day-of-month and day-of-week"),
    "timezone pattern": (PIPELINE, _set("schedule.timezone", "+1:"), "does not match Timezone pattern"),
    "timezone not IANA": (PIPELINE, _set("schedule.timezone", "Europe/Amsterdamm"), "not an IANA time zone name"),
    "lifecycle role by name": (LIFECYCLE, _set("executionRole", "golden-images-lifecycle"),
                               "pulumi-aws types the lifecycle execution role as an ARN"),
    "retainAtLeast on COUNT": (LIFECYCLE, _set("policyDetails[0].filter.retainAtLeast", 2.0),
                               "only applies to AGE filters"),
    "COUNT filter on DEPRECATE": (LIFECYCLE, _set("policyDetails[0].action.type", "DEPRECATE"),
                                  "a COUNT filter only works with the DELETE action, not DEPRECATE"),
    "AGE without unit": (LIFECYCLE, _set("policyDetails[1].filter.unit", _DELETE), "required for an AGE filter"),
    "letters in lifecycle recipe version": (LIFECYCLE, _set("resourceSelection.recipes[0].semanticVersion", "1.y.x"),
                                            "does not match WildcardVersionNumber"),
    "ssm parameter as text": (DISTRIBUTION, _set("distributions[0].ssmParameterConfigurations[0].dataType", "text"),
                              "should be aws:ec2:image"),
    "bad launch template id": (DISTRIBUTION, _set("distributions[0].launchTemplateConfigurations[0].launchTemplateId",
                                                  "lt-123"), "LaunchTemplateId pattern"),
    "bad workflow type": (WORKFLOW, _set("type", "BUILD_AND_TEST"), "WorkflowType"),
    "trailing newline in name": (INFRA, _set("name", "golden-images\n"), "does not match ResourceName pattern"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_inputs_fail_for_the_right_reason(case):
    token, change, expected = INVALID[case]
    errors = aws_api.check(token, _mutated(token, change))
    assert errors, f"{case}: the checker accepted an invalid input"
    assert any(expected in e for e in errors), f"{case}: wanted {expected!r} in {errors}"


def test_unknown_api_member_is_reported():
    request = aws_api.translate(COMPONENT, VALID[COMPONENT]).request
    errors = aws_api.check_request("CreateComponent", {**request, "semanticVersionX": "1.0.0"})
    assert any(e.startswith("semanticVersionX: unknown member of CreateComponentRequest") for e in errors)


def test_translation_follows_the_provider():
    request = aws_api.translate(RECIPE, VALID[RECIPE]).request
    assert request["semanticVersion"] == "1.2.0" and "version" not in request
    assert "region" not in request
    assert request["components"][1]["parameters"] == [{"name": "exclude", "value": ["linux-image-generic"]}]
    assert request["blockDeviceMappings"][0]["ebs"]["encrypted"] is True
    assert request["blockDeviceMappings"][1] == {"deviceName": "/dev/sdb", "noDevice": ""}
    assert request["additionalInstanceConfiguration"] == {
        "systemsManagerAgent": {"uninstallAfterBuild": False}, "userDataOverride": "ZWNobyBoZWxsbw=="}
    dist = aws_api.translate(DISTRIBUTION, VALID[DISTRIBUTION]).request
    assert dist["distributions"][0]["launchTemplateConfigurations"] == [
        {"launchTemplateId": "lt-0123456789abcdef0", "setDefaultVersion": True}]
    assert "skipDestroy" not in aws_api.translate(COMPONENT, VALID[COMPONENT]).request


def test_client_token_is_provider_filled_not_missing():
    assert aws_api.provider_filled("CreateImagePipeline") == {
        "clientToken": "the provider sets a fresh unique client token on every create"}
    request = aws_api.translate(PIPELINE, VALID[PIPELINE]).request
    assert "clientToken" not in request
    assert not [e for e in aws_api.check_request("CreateImagePipeline", request) if "clientToken" in e]


def test_integral_floats_are_integers():
    assert aws_api.check(PIPELINE, _mutated(PIPELINE, _set("imageTestsConfiguration.timeoutMinutes", 60.0))) == []
    bad = aws_api.check(PIPELINE, _mutated(PIPELINE, _set("imageTestsConfiguration.timeoutMinutes", True)))
    assert any("expected an integer" in e for e in bad)


def test_botocore_validator_is_a_safety_net():
    # botocore alone sees only presence, types and minimums: a too-long name passes it...
    request = aws_api.translate(COMPONENT, _mutated(COMPONENT, _set("name", "c" * 200))).request
    assert aws_api._botocore_findings("CreateComponent", request, aws_api.provider_filled("CreateComponent")) == []
    # ...but what it does see is reported.
    missing = {k: v for k, v in request.items() if k != "platform"}
    found = aws_api._botocore_findings("CreateComponent", missing, aws_api.provider_filled("CreateComponent"))
    assert any("platform" in line for line in found)


@pytest.mark.parametrize("pattern,good,bad", [
    (r"^\p{Alpha}+$", "abcXYZ", "ab1"),
    (r"^\P{Digit}+$", "abc", "a1"),
    (r"^\Qa.b\E$", "a.b", "axb"),
    (r"^\w+$", "abc_1", "ab\u00e9"),
    (r"^[0-9]{12}$", "123456789012", "123456789012\n"),
    (r"^x\z", "x", "x\n"),
    (r"[^\x00]+", "text", ""),
])
def test_java_patterns_translate(pattern, good, bad):
    assert aws_api.pattern_matches(pattern, good)
    assert not aws_api.pattern_matches(pattern, bad)


@pytest.mark.parametrize("pattern", [r"[a-z&&[^aeiou]]", r"[a-z[0-9]]", r"\p{InGreek}"])
def test_untranslatable_patterns_fail_loudly(pattern):
    with pytest.raises(aws_api.UnsupportedPattern):
        aws_api.java_to_python(pattern)


def test_every_model_pattern_compiles():
    model = aws_api.service_model()
    patterns = {model.shape_for(n).metadata.get("pattern") for n in model.shape_names} - {None}
    assert len(patterns) > 20
    for pattern in patterns:
        aws_api.java_to_python(pattern)


def _table_api_paths(table, prefix=""):
    for key, member in table.items():
        if member.api is None:
            continue
        path = f"{prefix}.{member.api}" if prefix else member.api
        yield key, path
        if member.fields is not None:
            yield from _table_api_paths(member.fields, path)


@pytest.mark.parametrize("token", sorted(aws_api.RESOURCES))
def test_mapping_table_targets_real_api_members(token):
    operation = aws_api.OPERATIONS[token]
    missing = [f"{key} -> {path}" for key, path in _table_api_paths(aws_api.RESOURCES[token])
               if aws_api.shape_at(operation, path) is None]
    assert not missing, f"{operation} has no member for: {missing}"


def _args_class(token: str):
    import pulumi_aws.imagebuilder as ib

    return getattr(ib, token.rsplit(":", 1)[1] + "Args")


def _wire_members(cls) -> dict:
    """The pulumi wire names of an *Args class, with the nested *Args class of each (or None)."""
    from pulumi_aws.imagebuilder import _inputs

    members = {}
    for value in vars(cls).values():
        if isinstance(value, property) and hasattr(value.fget, "_pulumi_name"):
            nested = re.search(r"ForwardRef\('(\w+Args)'\)", str(value.fget.__annotations__.get("return")))
            members[value.fget._pulumi_name] = getattr(_inputs, nested.group(1)) if nested else None
    return members


def _coverage_gaps(cls, table, path="") -> list:
    gaps = []
    wire = _wire_members(cls)
    for name, nested in wire.items():
        here = f"{path}.{name}" if path else name
        member = table.get(name)
        if member is None:
            gaps.append(f"{here}: in {cls.__name__}, not in the mapping table")
        elif nested is not None and member.api is not None:
            if member.fields is None:
                gaps.append(f"{here}: {nested.__name__} is an object, the table maps it as a scalar")
            else:
                gaps.extend(_coverage_gaps(nested, member.fields, here))
    gaps.extend(f"{path}.{name}" if path else name for name in table if name not in wire)
    return gaps


@pytest.mark.parametrize("token", sorted(aws_api.RESOURCES))
def test_mapping_table_covers_the_pulumi_sdk_exactly(token):
    """Every input member pulumi-aws 7.51.1 declares has a table entry, and nothing else does."""
    assert _coverage_gaps(_args_class(token), aws_api.RESOURCES[token]) == []


def test_arn_helpers():
    component = aws_api.imagebuilder_arn(COMPONENT, {"name": "Os-Updates", "version": "1.2.0"}, REGION, ACCOUNT_ID)
    assert component == f"arn:aws:imagebuilder:{REGION}:{ACCOUNT_ID}:component/os-updates/1.2.0"
    assert aws_api.references(component + "/1", component)
    assert aws_api.references(component.replace("1.2.0", "1.x.x"), component)
    assert not aws_api.references(component.replace("1.2.0", "1.3.x"), component)
    assert not aws_api.references(component.replace(REGION, "us-east-1"), component)
    assert aws_api.parent_image_kind("ami-0123456789abcdef0") == "ami"
    assert aws_api.parent_image_kind("ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-Base") == "ssm"
    assert aws_api.parent_image_kind(
        f"arn:aws:imagebuilder:{REGION}:aws:image/windows-server-2022-english-core-base-x86/x.x.x") == "image-arn"
    assert aws_api.parent_image_kind("windows-2022") is None


# --- AWSTOE documents --------------------------------------------------------
def test_valid_documents_pass():
    assert awstoe.check_document(LINUX_DOCUMENT, "Linux") == []
    assert awstoe.check_document(WINDOWS_DOCUMENT, "Windows") == []


def _doc_with(step: str, phase: str = "build") -> str:
    return f"schemaVersion: 1.0\nphases:\n  - name: {phase}\n    steps:\n{step}"


BAD_DOCUMENTS = {
    "not yaml": ("schemaVersion: 1.0\nphases: [\n", "not YAML"),
    "empty": ("", "0 characters"),
    "too long": (LINUX_DOCUMENT + "#" * 16000, "characters, AWSTOE inline documents take 1..16000"),
    "schema version": (LINUX_DOCUMENT.replace("schemaVersion: 1.0", "schemaVersion: 2.0"), "schemaVersion: must be 1.0"),
    "unknown phase": (_doc_with("      - name: Step1\n        action: Reboot\n", "deploy"), "'deploy' is not one of"),
    "duplicate phase": (LINUX_DOCUMENT + "  - name: build\n    steps:\n      - name: Again\n        action: Reboot\n",
                        "phase 'build' appears twice"),
    "no steps": ("schemaVersion: 1.0\nphases:\n  - name: build\n    steps: []\n", "steps: must be a non-empty list"),
    "step without name": (_doc_with("      - action: Reboot\n"), ".name: required"),
    "step without action": (_doc_with("      - name: Step1\n"), "action: required"),
    "bad step name": (_doc_with("      - name: step one\n        action: Reboot\n"), "does not match"),
    "duplicate step name": (_doc_with("      - name: Step1\n        action: Reboot\n"
                                      "      - name: Step1\n        action: Reboot\n"), "used twice in this phase"),
    "unknown action": (_doc_with("      - name: Step1\n        action: ExecuteShell\n        inputs:\n"
                                 "          commands: [ls]\n"), "'ExecuteShell' is not an AWSTOE action module"),
    "bash without commands": (_doc_with("      - name: Step1\n        action: ExecuteBash\n        inputs: {}\n"),
                              "takes exactly one of commands, file"),
    "bash commands not a list": (_doc_with("      - name: Step1\n        action: ExecuteBash\n        inputs:\n"
                                           "          commands: ls\n"), "commands: must be a non-empty list"),
    "unknown input key": (_doc_with("      - name: Step1\n        action: ExecuteBinary\n        inputs:\n"
                                    "          path: /bin/true\n          args: [x]\n"), "args: not a ExecuteBinary input"),
    "list module given a mapping": (_doc_with("      - name: Step1\n        action: DeleteFile\n        inputs:\n"
                                              "          path: /tmp/x\n"), "takes a non-empty list of mappings"),
    "missing required input": (_doc_with("      - name: Step1\n        action: CopyFile\n        inputs:\n"
                                         "          - source: /tmp/a\n"), "destination: required by CopyFile"),
    "bad timeout": (_doc_with("      - name: Step1\n        action: Reboot\n        timeoutSeconds: 0\n"),
                    "timeoutSeconds: 0 must be -1 or a positive integer"),
    "bad onFailure": (_doc_with("      - name: Step1\n        action: Reboot\n        onFailure: Retry\n"),
                      "'Retry' is not one of"),
    "download without checksum": (LINUX_DOCUMENT.replace(
        "            checksum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n", ""),
        "WebDownload without checksum and algorithm"),
    "download with md5": (LINUX_DOCUMENT.replace("algorithm: SHA256", "algorithm: MD5"), "project policy is SHA256"),
    "download with short digest": (LINUX_DOCUMENT.replace("9f86d081884c7d659a2feaa0c55ad015", ""),
                                   "is not a literal 64-hex SHA-256 digest"),
    "s3 download from https": (_doc_with("      - name: Step1\n        action: S3Download\n        inputs:\n"
                                         "          - source: https://x/y\n            destination: /tmp/y\n"),
                               "is not an s3:// URI"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_bad_documents_fail_for_the_right_reason(case):
    data, expected = BAD_DOCUMENTS[case]
    errors = awstoe.check_document(data, "Linux")
    assert any(expected in e for e in errors), f"{case}: wanted {expected!r} in {errors}"


def test_platform_mismatch_is_reported():
    assert any("ExecuteBash does not run on Windows" in e for e in awstoe.check_document(LINUX_DOCUMENT, "Windows"))
    assert any("ExecutePowerShell does not run on Linux" in e
               for e in awstoe.check_document(WINDOWS_DOCUMENT, "Linux"))


# ---------------------------------------------------------------------------
# (b) Every aws:imagebuilder resource of the shipped stacks
# ---------------------------------------------------------------------------
def _imagebuilder(plan: Plan) -> list:
    return [r for r in plan.resources if r.type.startswith("aws:imagebuilder/")]


@pytest.mark.parametrize("token", aws_api.EXPECTED_TYPES)
@pytest.mark.parametrize("stack", STACKS)
def test_plan_has_every_imagebuilder_type(plans, stack, token):
    assert plans[stack].of_type(token), f"stack {stack}: no {token} registered"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_uses_only_mapped_imagebuilder_types(plans, stack):
    unknown = sorted({r.type for r in _imagebuilder(plans[stack])} - set(aws_api.RESOURCES))
    assert not unknown, f"stack {stack}: no API contract for {unknown}"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_imagebuilder_inputs_satisfy_the_api(plans, stack):
    resources = [r for r in _imagebuilder(plans[stack]) if r.type in aws_api.RESOURCES]
    assert resources, f"stack {stack}: no aws:imagebuilder resources to check"
    index = PlanIndex(plans[stack], stack)
    problems = [f"{r.name} ({r.type.rsplit(':', 1)[1]}): {e}"
                for r in resources for e in aws_api.check(r.type, index.effective_inputs(r))]
    assert not problems, f"stack {stack}:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------
# (c) References between resources
# ---------------------------------------------------------------------------
class PlanIndex:
    """Where each resource of a plan lives and what AWS would call it."""

    def __init__(self, plan: Plan, stack: str):
        self.plan = plan
        config = stack_config(stack)[0]
        aws = config.get("golden-images:aws") or {}
        self.default_region = config.get("aws:region") or aws.get("region")
        self.providers = {r.name: r for r in plan.resources if r.type == "pulumi:providers:aws"}
        self.arns = {}
        for res in plan.resources:
            if res.type in aws_api.ARN_TYPES:
                arn = aws_api.imagebuilder_arn(res.type, res.inputs, self.region(res), ACCOUNT_ID)
                if arn:
                    self.arns[arn] = res

    def region(self, res: Registration) -> str:
        if res.inputs.get("region"):
            return res.inputs["region"]
        provider = self.providers.get(res.options.get("provider", ""))
        if provider is not None and provider.inputs.get("region"):
            return provider.inputs["region"]
        return self.default_region

    def effective_inputs(self, res: Registration) -> dict:
        """The inputs with the provider's default tags merged in, as the provider sends them."""
        provider = self.providers.get(res.options.get("provider", ""))
        defaults = provider.inputs.get("defaultTags") if provider is not None else None
        if isinstance(defaults, str):
            defaults = json.loads(defaults)
        default_tags = (defaults or {}).get("tags") or {}
        if not default_tags or "tags" not in aws_api.RESOURCES.get(res.type, {}):
            return res.inputs
        return {**res.inputs, "tags": {**default_tags, **(res.inputs.get("tags") or {})}}

    def pipeline_output(self, reference: str) -> Optional[Registration]:
        """The pipeline of this plan whose images an image ARN selects (a layered flavour's parent).

        Image Builder names a pipeline's images after its recipe (lower-cased) and gives them the
        recipe's version; the ARN's version filter must admit that version.
        """
        match = re.fullmatch(r"arn:aws[a-z-]*:imagebuilder:([a-z0-9-]+):([0-9]{12}):image/([a-z0-9-_]+)/"
                             r"(\d+|x)\.(\d+|x)\.(\d+|x)", reference or "")
        if not match or match.group(2) != ACCOUNT_ID:
            return None
        region, _, name, *wanted = match.groups()
        for pipeline in self.plan.of_type(PIPELINE):
            recipe = self.imagebuilder_target(pipeline.inputs.get("imageRecipeArn") or "", RECIPE)
            if recipe is None or self.region(pipeline) != region or recipe.inputs["name"].lower() != name:
                continue
            version = recipe.inputs["version"].split(".")
            if all(w == "x" or w == v for w, v in zip(wanted, version)):
                return pipeline
        return None

    def imagebuilder_target(self, reference: str, token: str) -> Optional[Registration]:
        for arn, res in self.arns.items():
            if res.type == token and aws_api.references(reference, arn):
                return res
        return None

    def named(self, token: str, value: str, key: str = "name") -> Optional[Registration]:
        """A resource of this type whose name is `value` (explicit or as the mocks auto-name it)."""
        for res in self.plan.of_type(token):
            explicit = res.inputs.get(key)
            if explicit == value or (explicit is None and value == autoname(res.name)):
                return res
        return None

    def kms_key(self, reference: str, region: str) -> tuple[Optional[Registration], str]:
        """The plan's KMS key (primary or multi-Region replica) or alias a key ARN names, in `region`."""
        match = re.fullmatch(r"arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):"
                             r"(key/(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
                             r"|alias/[A-Za-z0-9/_-]+)", reference)
        if not match:
            return None, f"{reference!r} is not a KMS key or alias ARN"
        key_region, account, resource = match.groups()
        if key_region != region:
            return None, f"{reference!r} is in {key_region}, the image is encrypted in {region}"
        if account != ACCOUNT_ID:
            return None, f"{reference!r} belongs to account {account}, not this stack's {ACCOUNT_ID}"
        for res in self.plan.resources:
            if self.region(res) != key_region:
                continue
            if res.type == "aws:kms/key:Key" and resource == f"key/{kms_key_id(res.name, bool(res.inputs.get('multiRegion')))}":
                return res, ""
            if res.type == "aws:kms/replicaKey:ReplicaKey" and \
                    str(res.inputs.get("primaryKeyArn", "")).endswith("/" + resource.split("/", 1)[1]):
                return res, ""
            if res.type == "aws:kms/alias:Alias" and res.inputs.get("name") == resource:
                return res, ""
        return None, f"{reference!r} is not a KMS key, replica or alias of this plan in {key_region}"


def _role(index: PlanIndex, reference: str) -> str:
    match = re.fullmatch(r"arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)", reference)
    if not match:
        return f"{reference!r} is not an IAM role ARN"
    if match.group(1) != ACCOUNT_ID:
        return f"{reference!r} belongs to account {match.group(1)}"
    if index.named("aws:iam/role:Role", match.group(2)) is None:
        return f"{reference!r} is not an IAM role of this plan"
    return ""


def _reference_problems(index: PlanIndex) -> list:
    problems = []

    def report(res, where, message):
        problems.append(f"{res.name} ({res.type.rsplit(':', 1)[1]}).{where}: {message}")

    def same_region_target(res, where, reference, token):
        parsed = aws_api.parse_imagebuilder_arn(reference)
        if parsed is None:
            return report(res, where, f"{reference!r} is not an Image Builder ARN")
        if parsed["region"] != index.region(res):
            report(res, where, f"{reference!r} is in {parsed['region']}, the resource in {index.region(res)}")
        if parsed["account"] == ACCOUNT_ID:
            if index.imagebuilder_target(reference, token) is None:
                report(res, where, f"{reference!r} is no {token.rsplit(':', 1)[1]} of this plan")
        elif not parsed["account"].startswith("aws"):
            report(res, where, f"{reference!r} belongs to account {parsed['account']}")

    for res in index.plan.of_type(RECIPE):
        for i, component in enumerate(res.inputs.get("components") or []):
            same_region_target(res, f"components[{i}].componentArn", component.get("componentArn"), COMPONENT)
        parent = res.inputs.get("parentImage")
        kind = aws_api.parent_image_kind(parent)
        if kind is None:
            report(res, "parentImage", f"{parent!r} is neither an AMI id, an Image Builder image ARN nor ssm:<parameter>")
        elif kind == "image-arn" and not index.pipeline_output(parent):
            same_region_target(res, "parentImage", parent, "aws:imagebuilder/image:Image")
        for i, mapping in enumerate(res.inputs.get("blockDeviceMappings") or []):
            key = ((mapping or {}).get("ebs") or {}).get("kmsKeyId")
            if key:
                found, why = index.kms_key(key, index.region(res))
                if found is None:
                    report(res, f"blockDeviceMappings[{i}].ebs.kmsKeyId", why)

    for res in index.plan.of_type(COMPONENT):
        if res.inputs.get("kmsKeyId"):
            found, why = index.kms_key(res.inputs["kmsKeyId"], index.region(res))
            if found is None:
                report(res, "kmsKeyId", why)

    for res in index.plan.of_type(PIPELINE):
        for key, token in (("imageRecipeArn", RECIPE), ("infrastructureConfigurationArn", INFRA),
                           ("distributionConfigurationArn", DISTRIBUTION)):
            if res.inputs.get(key) is not None:
                same_region_target(res, key, res.inputs[key], token)
        if res.inputs.get("executionRole"):
            why = _role(index, res.inputs["executionRole"])
            if why:
                report(res, "executionRole", why)
        for i, workflow in enumerate(res.inputs.get("workflows") or []):
            same_region_target(res, f"workflows[{i}].workflowArn", workflow.get("workflowArn"), WORKFLOW)

    for res in index.plan.of_type(INFRA):
        profile = res.inputs.get("instanceProfileName")
        if index.named("aws:iam/instanceProfile:InstanceProfile", profile) is None:
            report(res, "instanceProfileName", f"{profile!r} is not an instance profile of this plan")
        topic = res.inputs.get("snsTopicArn")
        if topic is not None:
            match = re.fullmatch(r"arn:aws[a-z-]*:sns:([a-z0-9-]+):([0-9]{12}):([\w-]+)", topic)
            target = index.named("aws:sns/topic:Topic", match.group(3)) if match else None
            if target is None or match.group(2) != ACCOUNT_ID or match.group(1) != index.region(target):
                report(res, "snsTopicArn", f"{topic!r} is not an SNS topic of this plan")
        bucket = ((res.inputs.get("logging") or {}).get("s3Logs") or {}).get("s3BucketName")
        if bucket is not None and not any(index.named(t, bucket, "bucket")
                                          for t in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")):
            report(res, "logging.s3Logs.s3BucketName", f"{bucket!r} is not a bucket of this plan")

    for res in index.plan.of_type(DISTRIBUTION):
        regions = [d.get("region") for d in res.inputs.get("distributions") or []]
        if len(regions) != len(set(regions)):
            report(res, "distributions", f"a region appears more than once: {regions}")
        for i, dist in enumerate(res.inputs.get("distributions") or []):
            key = (dist.get("amiDistributionConfiguration") or {}).get("kmsKeyId")
            if key:
                found, why = index.kms_key(key, dist.get("region"))
                if found is None:
                    report(res, f"distributions[{i}].amiDistributionConfiguration.kmsKeyId", why)

    for res in index.plan.of_type(LIFECYCLE):
        why = _role(index, res.inputs.get("executionRole") or "")
        if why:
            report(res, "executionRole", why)
        selection = res.inputs.get("resourceSelection") or {}
        for i, recipe in enumerate(selection.get("recipes") or []):
            name, version = recipe.get("name"), recipe.get("semanticVersion")
            if not any(r.inputs.get("name") == name and index.region(r) == index.region(res)
                       and aws_api.version_matches(version, str(r.inputs.get("version")))
                       for r in index.plan.of_type(RECIPE)):
                report(res, f"resourceSelection.recipes[{i}]", f"{name} {version} is no image recipe of this plan")
        if not selection.get("recipes") and not selection.get("tagMap"):
            report(res, "resourceSelection", "selects nothing (no recipes, no tagMap)")
    return problems


@pytest.mark.parametrize("stack", STACKS)
def test_plan_references_resolve(plans, stack):
    index = PlanIndex(plans[stack], stack)
    assert index.plan.of_type(RECIPE) and index.plan.of_type(PIPELINE), f"stack {stack}: nothing to resolve"
    problems = _reference_problems(index)
    assert not problems, f"stack {stack}:\n" + "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_every_plan_component_is_used_by_a_recipe(plans, stack):
    index = PlanIndex(plans[stack], stack)
    components = {arn: res for arn, res in index.arns.items() if res.type == COMPONENT}
    assert components, f"stack {stack}: no components"
    used = {arn for arn in components for recipe in index.plan.of_type(RECIPE)
            for c in recipe.inputs.get("components") or [] if aws_api.references(c.get("componentArn", ""), arn)}
    assert sorted(set(components) - used) == []


def test_reference_check_catches_dangling_and_cross_region_arns():
    """The reference check on a tiny hand-built plan, so it is known to be able to fail."""
    component = Registration(urn="u1", type=COMPONENT, name="os-updates", parent="", custom=True,
                             inputs=VALID[COMPONENT], options={"provider": ""})
    recipe_inputs = copy.deepcopy(VALID[RECIPE])
    recipe_inputs["components"] = [
        {"componentArn": f"arn:aws:imagebuilder:{REGION}:{ACCOUNT_ID}:component/os-updates-linux-3f2a9c1d/1.2.0/1"},
        {"componentArn": f"arn:aws:imagebuilder:{REGION}:{ACCOUNT_ID}:component/not-in-plan/1.0.0/1"},
        {"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"},
    ]
    recipe = Registration(urn="u2", type=RECIPE, name="ubuntu", parent="", custom=True, inputs=recipe_inputs,
                          options={"provider": ""})
    index = PlanIndex(Plan(project="golden-images", stack="dev", resources=[component, recipe]), "dev")
    problems = _reference_problems(index)
    assert not [p for p in problems if "components[0]" in p]
    assert any("components[1].componentArn" in p and "no Component of this plan" in p for p in problems)
    assert any("components[2].componentArn" in p and "is in us-east-1" in p for p in problems)


def test_a_layered_parent_must_be_the_output_of_a_pipeline_of_this_plan(plans):
    plan = copy.deepcopy(plans["dev"])
    index = PlanIndex(plan, "dev")
    (layer,) = [r for r in plan.of_type(RECIPE) if r.name == "windows-2022-core-dotnet-iis-recipe"]
    assert index.pipeline_output(layer.inputs["parentImage"]) is not None
    layer.inputs["parentImage"] = layer.inputs["parentImage"].replace("-dotnet-", "-dotnet-x", 1)
    assert index.pipeline_output(layer.inputs["parentImage"]) is None
    assert any("parentImage" in p and "no Image of this plan" in p for p in _reference_problems(index))


def test_reference_check_resolves_kms_keys_per_region():
    key = Registration(urn="k", type="aws:kms/key:Key", name="images", parent="", custom=True,
                       inputs={"multiRegion": True, "region": REGION}, options={"provider": ""})
    home = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{kms_key_id('images', True)}"
    dist_inputs = copy.deepcopy(VALID[DISTRIBUTION])
    dist_inputs["distributions"][0]["amiDistributionConfiguration"]["kmsKeyId"] = home
    # The same key id in eu-central-1, but the plan has no replica there.
    dist_inputs["distributions"][1]["amiDistributionConfiguration"]["kmsKeyId"] = home.replace(REGION, "eu-central-1")
    dist = Registration(urn="d", type=DISTRIBUTION, name="dist", parent="", custom=True, inputs=dist_inputs,
                        options={"provider": ""})
    problems = _reference_problems(PlanIndex(Plan(project="golden-images", stack="dev", resources=[key, dist]), "dev"))
    assert not [p for p in problems if "distributions[0]" in p]
    assert any("distributions[1].amiDistributionConfiguration.kmsKeyId" in p and "not a KMS key, replica" in p
               for p in problems)
    replica = Registration(urn="r", type="aws:kms/replicaKey:ReplicaKey", name="images-eu-central-1", parent="",
                           custom=True, inputs={"primaryKeyArn": home, "region": "eu-central-1"},
                           options={"provider": ""})
    problems = _reference_problems(
        PlanIndex(Plan(project="golden-images", stack="dev", resources=[key, replica, dist]), "dev"))
    assert not [p for p in problems if "kmsKeyId" in p]


# ---------------------------------------------------------------------------
# (d) Component documents
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_plan_component_documents_are_valid_awstoe(plans, stack):
    components = plans[stack].of_type(COMPONENT)
    assert components, f"stack {stack}: no components"
    problems = []
    for res in components:
        if res.inputs.get("data") is None:
            problems.append(f"{res.name}: no inline data (uri={res.inputs.get('uri')!r}); the document cannot be checked")
            continue
        problems.extend(f"{res.name}: {e}" for e in awstoe.check_document(res.inputs["data"], res.inputs.get("platform")))
    assert not problems, f"stack {stack}:\n" + "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_web_downloads_carry_sha256(plans, stack):
    components = [r for r in plans[stack].of_type(COMPONENT) if isinstance(r.inputs.get("data"), str)]
    assert components, f"stack {stack}: no component documents"
    unverified = [f"{res.name}: {item.get('source')}" for res in components
                  for item in awstoe.web_downloads(res.inputs["data"])
                  if item.get("algorithm") != "SHA256" or not awstoe.SHA256_HEX.match(str(item.get("checksum", "")))]
    assert not unverified, "WebDownload without a SHA-256 checksum:\n" + "\n".join(unverified)
