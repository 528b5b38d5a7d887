"""Inputs that replace a resource when they change (components/plan_diff/create_only.py)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from components.plan_diff.create_only import CFN_PROPERTIES, CFN_TYPES, CreateOnly, cfn_lint_schemas
from components.plan_diff.diff import diff_plans
from components.plan_diff.markdown import render_markdown
from components.plan_diff.text import render_text
from tests.plan_samples import PlanBuilder, changes_of

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
GALLERY = "azure-native:compute:Gallery"
KEY = "aws:kms/key:Key"


@pytest.fixture(scope="module")
def create_only():
    return CreateOnly()


def test_cfn_lint_ships_the_schemas(create_only):
    assert create_only.available, "cfn-lint (requirements-dev.txt) is not installed"
    assert cfn_lint_schemas() is not None


def test_every_mapped_type_has_a_schema_and_its_renamed_properties_exist(create_only):
    """The tables name real CloudFormation types and properties: a renamed or dropped one fails here."""
    folder = cfn_lint_schemas()
    index = json.loads((folder / "providers" / "us-east-1.json").read_text())
    for pulumi_type, cfn_type in CFN_TYPES.items():
        assert cfn_type in index, (pulumi_type, cfn_type)
        assert create_only.cfn_paths(cfn_type) is not None
    for cfn_type, renames in CFN_PROPERTIES.items():
        schema = json.loads((folder / "resources" / f"{index[cfn_type]}.json").read_text())
        assert set(renames) <= set(schema["properties"]), cfn_type


@pytest.mark.parametrize("cfn_type, expected", [
    ("AWS::ImageBuilder::ImageRecipe", {"name", "version", "components", "parentImage", "blockDeviceMappings"}),
    ("AWS::IAM::Role", {"name", "path"}),
    ("AWS::S3::Bucket", {"bucket", "bucketPrefix"}),
    ("AWS::KMS::ReplicaKey", {"primaryKeyArn"}),
    ("AWS::ImageBuilder::LifecyclePolicy", {"name"}),
])
def test_cloudformation_properties_become_plan_input_names(create_only, cfn_type, expected):
    assert expected <= set(create_only.cfn_paths(cfn_type))
    assert "tags" not in create_only.cfn_paths(cfn_type)


def test_without_schemas_only_the_tables_count():
    offline = CreateOnly(use_cfn_lint=False)
    assert not offline.available
    role = {"type": "aws:iam/role:Role"}
    assert [f.path for f in offline.forced(role, ["name", "region"])] == ["region"]
    assert [f.path for f in CreateOnly().forced(role, ["name", "description"])] == ["name"]


def test_a_missing_schema_folder_means_no_schema(tmp_path: Path):
    missing = CreateOnly(schemas=tmp_path / "none")
    assert missing.cfn_paths("AWS::IAM::Role") is None
    assert [f.path for f in missing.forced({"type": "aws:iam/role:Role"}, ["name", "region"])] == ["region"]


def _pair(typ: str, before: dict, after: dict, **options):
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add(typ, "it", inputs=before, **options)
    b2.add(typ, "it", inputs=after, **options)
    return diff_plans(b1.plan(), b2.plan())


def test_a_renamed_resource_group_is_replaced():
    diff = _pair(RESOURCE_GROUP, {"resourceGroupName": "golden-images-dev", "location": "westeurope"},
                 {"resourceGroupName": "golden-images-dev2", "location": "westeurope"})
    [change] = diff.changes
    assert change.action == "replace"
    assert change.reason == ("create-only: resourceGroupName (Azure: fixed at creation); "
                             "content changed: resourceGroupName")
    assert "+- replace azure-native:resources:ResourceGroup it" in render_text(diff)
    assert "| ♻️ replace | `azure-native:resources:ResourceGroup` | `it` | create-only: resourceGroupName" \
        in render_markdown(diff)


def test_an_azure_name_in_the_resource_id_replaces_a_display_name_does_not():
    gallery = _pair(GALLERY, {"galleryName": "a", "resourceGroupName": "g", "location": "westeurope"},
                    {"galleryName": "b", "resourceGroupName": "g", "location": "northeurope"})
    [change] = gallery.changes
    assert change.action == "replace"
    assert change.rule == ("create-only: galleryName (Azure: part of the resource id); "
                           "location (Azure: fixed at creation)")
    role = _pair("azure-native:authorization:RoleDefinition", {"roleName": "builder", "scope": "/s"},
                 {"roleName": "builder v2", "scope": "/s"})
    assert [c.action for c in role.changes] == ["update"]


def test_a_kms_key_moved_to_another_region_is_replaced():
    diff = _pair(KEY, {"region": "eu-west-1", "description": "k"}, {"region": "eu-central-1", "description": "k"})
    [change] = diff.changes
    assert change.action == "replace"
    assert change.rule == "create-only: region (pulumi-aws: the region it lives in)"


def test_force_new_inputs_the_schema_does_not_list():
    diff = _pair(KEY, {"multiRegion": False}, {"multiRegion": True})
    assert diff.changes[0].rule == "create-only: multiRegion (force-new in pulumi-aws)"
    diff = _pair(KEY, {"enableKeyRotation": False}, {"enableKeyRotation": True})
    assert diff.changes[0].action == "update"


def test_schema_create_only_property_nested_and_renamed():
    diff = _pair("aws:iam/role:Role", {"name": "a", "description": "x"}, {"name": "b", "description": "x"})
    assert diff.changes[0].rule == "create-only: name (create-only in AWS::IAM::Role)"
    diff = _pair("aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration",
                 {"name": "i", "instanceTypes": ["t3.large"]}, {"name": "i", "instanceTypes": ["m7i.large"]})
    assert diff.changes[0].action == "update"


def test_the_ssm_parameter_name_replaces_the_parameter():
    diff = _pair("aws:ssm/parameter:Parameter", {"name": "/a", "value": "1"}, {"name": "/b", "value": "1"})
    assert changes_of(diff, "replace")[0].rule == "create-only: name (create-only in AWS::SSM::Parameter)"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_tags_of_a_real_plan_change_in_place(plans, stack):
    """A tag is never create-only, in either shipped stack (the Azure templates are still replaced,
    by their own `replaceOnChanges: ["*"]`)."""
    base = plans[stack].as_json()
    head = copy.deepcopy(base)
    for res in head["resources"]:
        if isinstance(res["inputs"].get("tags"), dict):
            res["inputs"]["tags"]["cost-centre"] = "42"
    diff = diff_plans(base, head)
    assert diff.changes
    assert not [c for c in changes_of(diff, "replace") if c.rule.startswith("create-only")]
    assert {c.type for c in changes_of(diff, "replace")} == {
        "azure-native:virtualmachineimages:VirtualMachineImageTemplate"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_real_resource_group_rename_replaces_what_lives_in_it(plans, stack):
    base = plans[stack].as_json()
    head = json.loads(json.dumps(base).replace(f'"golden-images-{stack}"', f'"golden-images-{stack}-2"'))
    diff = diff_plans(base, head)
    [group] = changes_of(diff, "replace", RESOURCE_GROUP)
    assert group.rule == "create-only: resourceGroupName (Azure: fixed at creation)"
    replaced = {c.type for c in changes_of(diff, "replace")}
    assert {GALLERY, "azure-native:compute:GalleryImage",
            "azure-native:managedidentity:UserAssignedIdentity"} <= replaced
    assert not [c for c in changes_of(diff, "update") if c.type.startswith("azure-native:")
                and any(v.path == "resourceGroupName" for v in c.inputs)]
