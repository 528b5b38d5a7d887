"""The comparison of two plans (components/plan_diff/diff.py): what is added, replaced, updated, removed, and why."""
from __future__ import annotations

import pytest

from components.plan_diff.diff import MISSING, diff_plans, stem
from components.plan_diff.markdown import mermaid, render_markdown
from components.plan_diff.text import render_text, text_diff
from tests.plan_samples import (
    COMPONENT,
    DISTRIBUTION,
    OS_UPDATES_V1,
    PIPELINE,
    RECIPE,
    SSM,
    TEMPLATE,
    PlanBuilder,
    changes_of,
    factory,
    find,
    stable_factory,
)


def test_changed_script_replaces_component_with_the_changed_input(script_change):
    [component] = changes_of(script_change, "replace", COMPONENT, "ubuntu-2404")
    assert (component.old_name, component.name) == ("ubuntu-2404-os-updates-1a2b3c4d", "ubuntu-2404-os-updates-9d8c7b6a")
    assert [c.path for c in component.causes] == ["data"]
    assert component.reason == "content changed: data"
    name_change = next(c for c in component.inputs if c.path == "name")
    assert name_change.derived  # the new name follows from the content, it is not a cause


def test_recipe_replaced_because_it_references_the_new_component(script_change):
    [recipe] = changes_of(script_change, "replace", RECIPE, "ubuntu-2404")
    assert (recipe.old_name, recipe.name) == ("ubuntu-2404-5e6f7a8b", "ubuntu-2404-4f3e2d1c")
    assert recipe.causes == []
    assert recipe.reason == "references replaced resources: components[0].componentArn"


def test_pipeline_switches_to_the_new_recipe_in_place(script_change):
    [pipeline] = changes_of(script_change, "update", PIPELINE, "ubuntu-2404")
    [arn] = pipeline.inputs
    assert arn.path == "imageRecipeArn" and arn.derived
    assert arn.before.endswith("/ubuntu-2404-5e6f7a8b/1.0.0") and arn.after.endswith("/ubuntu-2404-4f3e2d1c/1.0.0")


def test_script_change_counts_and_nothing_removed(script_change):
    assert script_change.counts() == {"add": 0, "replace": 6, "update": 2, "remove": 0}
    assert script_change.counts("ubuntu-2404") == {"add": 0, "replace": 3, "update": 1, "remove": 0}
    assert script_change.groups() == ["ubuntu-2404", "windows-2022-core"]


def test_shared_component_replaced_with_its_script_diff(stable_change):
    [component] = changes_of(stable_change, "replace", COMPONENT, "shared")
    assert component.old_name == "golden-images-dev-os-updates-linux-209b713c8e"
    assert [c.path for c in component.causes] == ["data"]
    lines = text_diff(component.causes[0])
    assert "-        apt-get -y upgrade" in lines and "+        apt-get -y dist-upgrade" in lines


def test_recipe_with_a_stable_pulumi_name_is_still_replaced(stable_change):
    [recipe] = changes_of(stable_change, "replace", RECIPE, "ubuntu-2404")
    assert recipe.name == "ubuntu-2404-recipe" and recipe.old_name is None
    assert recipe.causes == []
    assert recipe.reason == (
        "EC2 Image Builder recipes cannot be updated in place; "
        "references replaced resources: components[0].componentArn"
    )
    [pipeline] = changes_of(stable_change, "update", PIPELINE, "ubuntu-2404")
    assert [(c.path, c.derived) for c in pipeline.inputs] == [("imageRecipeArn", True)]
    assert pipeline.options == []  # dependsOn follows the replaced component's new URN


def test_recipe_tags_change_in_place():
    diff = diff_plans(stable_factory(), stable_factory(recipe_tags={"environment": "dev", "team": "platform"}))
    [recipe] = diff.changes
    assert (recipe.action, [c.path for c in recipe.inputs]) == ("update", ["tags.team"])


def test_template_replaced_by_its_option_with_the_embedded_script_decoded(stable_change):
    [template] = changes_of(stable_change, "replace", TEMPLATE, "ubuntu-2404")
    [inline] = template.causes
    assert inline.path == "customize[name=01-os-updates].inline"
    assert template.reason == "replaceOnChanges [*]; content changed: customize[name=01-os-updates].inline"
    lines = text_diff(inline)
    assert "-printf '%s' '<base64 of 4 lines, decoded below>' | base64 -d > '/tmp/golden-images-01-os-updates-install.sh'" in lines
    assert "+printf '%s' '<base64 of 5 lines, decoded below>' | base64 -d > '/tmp/golden-images-01-os-updates-install.sh'" in lines
    assert "-    | apt-get -y upgrade" in lines
    assert "+    | apt-get -y dist-upgrade" in lines
    assert "+    | apt-get -y autoremove --purge" in lines
    assert not any(len(line) > 200 for line in lines)  # no opaque base64 blob


def test_new_region_updates_the_distribution_in_place(new_region):
    [dist] = changes_of(new_region, "update", DISTRIBUTION, "ubuntu-2404")
    [entry] = dist.inputs
    assert entry.path == "distributions[region=us-east-1]"
    assert entry.before is MISSING and entry.after["region"] == "us-east-1"
    assert not changes_of(new_region, "replace", DISTRIBUTION)


def test_new_region_adds_its_ssm_parameter(new_region):
    added = changes_of(new_region, "add", SSM)
    assert sorted((c.group, c.name) for c in added) == [
        ("ubuntu-2404", "ubuntu-2404-latest-us-east-1"),
        ("windows-2022-core", "windows-2022-core-latest-us-east-1"),
    ]


def test_new_azure_region_is_a_target_region_of_a_new_template(new_region):
    [template] = changes_of(new_region, "replace", TEMPLATE, "ubuntu-2404")
    [target] = template.causes
    assert target.path == "distribute[type=SharedImage].targetRegions[name=northeurope]"
    assert target.after == {"name": "northeurope", "replicaCount": 1, "storageAccountType": "Standard_LRS"}


def test_new_region_stack_outputs(new_region):
    paths = {c.path for c in new_region.outputs}
    assert "flavours.ubuntu-2404.aws.regions" in paths


def test_removed_flavour_is_listed_under_its_own_name():
    diff = diff_plans(factory(), factory(flavours=("ubuntu-2404",)))
    removed = changes_of(diff, "remove", group="windows-2022-core")
    assert {c.type for c in removed} >= {COMPONENT, RECIPE, PIPELINE, DISTRIBUTION, SSM, TEMPLATE,
                                         "golden-images:index:GoldenImage"}
    assert not changes_of(diff, "remove", group="ubuntu-2404")
    assert diff.counts("windows-2022-core") == {"add": 0, "replace": 0, "update": 0, "remove": 6}
    [node] = [f for f in diff.flavours if f.name == "windows-2022-core"]
    assert node.status == "removed"
    assert "class f1,f1_aws,f1_aws_r0,f1_azure,f1_azure_r0 removed" in mermaid(diff)


def test_removing_a_region_removes_its_parameter_and_distribution_entry():
    diff = diff_plans(factory(aws_regions=("eu-west-1", "us-east-1")), factory())
    assert {c.name for c in changes_of(diff, "remove", SSM)} == {
        "ubuntu-2404-latest-us-east-1", "windows-2022-core-latest-us-east-1"}
    [dist] = changes_of(diff, "update", DISTRIBUTION, "ubuntu-2404")
    assert [(c.path, c.kind) for c in dist.inputs] == [("distributions[region=us-east-1]", "removed")]


def test_list_item_named_by_a_key_that_did_not_change():
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add("aws:imagebuilder/lifecyclePolicy:LifecyclePolicy", "lifecycle",
           inputs={"resourceSelection": {"recipes": [{"name": "r-1a2b3c4d5e", "semanticVersion": "x.x.x"}]}})
    b2.add("aws:imagebuilder/lifecyclePolicy:LifecyclePolicy", "lifecycle",
           inputs={"resourceSelection": {"recipes": [{"name": "r-9f8e7d6c5b", "semanticVersion": "x.x.x"}]}})
    [change] = diff_plans(b1.plan(), b2.plan()).changes
    assert [c.path for c in change.inputs] == ["resourceSelection.recipes[0].name"]


def test_removing_a_protected_resource_says_it_will_fail():
    base = factory(protect_shared=True)
    head = factory(protect_shared=True)
    head["resources"] = [r for r in head["resources"] if r["type"] != "aws:iam/role:Role"]
    [role] = changes_of(diff_plans(base, head), "remove", "aws:iam/role:Role", "shared")
    assert "protected" in role.reason


def test_identical_plans_have_no_changes():
    diff = diff_plans(factory(), factory())
    assert diff.empty and diff.unchanged == sum(1 for r in factory()["resources"] if r["custom"])
    assert "No changes" in render_text(diff) and "**No changes**" in render_markdown(diff)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("ubuntu-2404-os-updates-1a2b3c4d", "ubuntu-2404-os-updates-#"),
        ("ubuntu-2404-5e6f7a8b", "ubuntu-2404-#"),
        ("web_0c0ffee1.v2", "web_#.v2"),
        ("windows-2022-core-dotnet", "windows-2022-core-dotnet"),  # 4-digit year, no hash
        ("decade-facade", "decade-facade"),  # hex words without digits are words
        ("golden-images-build", "golden-images-build"),
        ("app-20240101", "app-20240101"),  # a date: digits alone are a number, not a hash
        ("web-123456", "web-123456"),
    ],
)
def test_stem_blanks_only_hash_tokens(name, expected):
    assert stem(name) == expected


def test_renamed_resource_without_hash_is_an_add_and_a_remove():
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add(SSM, "ubuntu-latest-eu-west-1", inputs={"name": "/a"})
    b2.add(SSM, "ubuntu-latest-eu-central-1", inputs={"name": "/a"})
    diff = diff_plans(b1.plan(), b2.plan())
    assert [c.action for c in diff.changes] == ["add", "remove"]


@pytest.mark.parametrize("old, new", [("web-1", "web-2"), ("web-123456", "web-123457"),
                                      ("app-20240101", "app-20250101")])
def test_a_rename_ending_in_digits_is_a_removal_and_an_addition(old, new):
    """A flavour renamed: every resource under it is another resource, and the old ones are deleted."""
    b1, b2 = PlanBuilder(), PlanBuilder()
    for builder, name in ((b1, old), (b2, new)):
        image = builder.add("golden-images:index:GoldenImage", name, custom=False)
        pipeline = builder.add("golden-images:aws:ImagePipeline", name, image, custom=False)
        builder.add(RECIPE, f"{name}-recipe", pipeline, inputs={"name": f"golden-images-dev-{name}-1a2b3c4d5e"})
        builder.add(COMPONENT, f"golden-images-dev-{name}-os-updates-9f8e7d6c5b", inputs={"data": "x"})
    diff = diff_plans(b1.plan(), b2.plan())
    assert not changes_of(diff, "replace")
    assert sorted((c.action, c.name) for c in diff.changes if c.custom) == sorted([
        ("add", f"golden-images-dev-{new}-os-updates-9f8e7d6c5b"), ("add", f"{new}-recipe"),
        ("remove", f"golden-images-dev-{old}-os-updates-9f8e7d6c5b"), ("remove", f"{old}-recipe"),
    ])
    assert render_text(diff).count("- remove aws:") == 2


def test_replacement_needs_same_type_and_parent():
    b1, b2 = PlanBuilder(), PlanBuilder()
    p1 = b1.add("golden-images:aws:ImagePipeline", "a", custom=False)
    b1.add(COMPONENT, "step-1a2b3c4d", p1, inputs={"data": "x"})
    p2 = b2.add("golden-images:aws:ImagePipeline", "a", custom=False)
    b2.add(COMPONENT, "step-9f9f9f90", p2, inputs={"data": "y"})
    b2.add(RECIPE, "step-1a2b3c4e", p2)  # same stem, other type: a new resource
    diff = diff_plans(b1.plan(), b2.plan())
    [replaced] = changes_of(diff, "replace")
    assert (replaced.type, replaced.old_name, replaced.name) == (COMPONENT, "step-1a2b3c4d", "step-9f9f9f90")
    assert [c.name for c in changes_of(diff, "add")] == ["step-1a2b3c4e"]


def test_several_in_one_role_pair_the_most_alike():
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add(COMPONENT, "step-aaaaaa11", inputs={"data": "install agent", "platform": "Linux"})
    b1.add(COMPONENT, "step-bbbbbb22", inputs={"data": "harden", "platform": "Windows"})
    b2.add(COMPONENT, "step-cccccc33", inputs={"data": "harden v2", "platform": "Windows"})
    b2.add(COMPONENT, "step-dddddd44", inputs={"data": "install agent v2", "platform": "Linux"})
    pairs = {(c.old_name, c.name) for c in diff_plans(b1.plan(), b2.plan()).changes}
    assert pairs == {("step-aaaaaa11", "step-dddddd44"), ("step-bbbbbb22", "step-cccccc33")}


def test_replace_on_changes_option_turns_an_update_into_a_replacement():
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add(TEMPLATE, "ubuntu", inputs={"customize": [{"type": "Shell", "inline": ["a"]}], "tags": {"x": "1"}},
           replaceOnChanges=["customize"])
    b2.add(TEMPLATE, "ubuntu", inputs={"customize": [{"type": "Shell", "inline": ["b"]}], "tags": {"x": "1"}},
           replaceOnChanges=["customize"])
    [change] = diff_plans(b1.plan(), b2.plan()).changes
    assert change.action == "replace"
    assert change.reason == "replaceOnChanges [customize]; content changed: customize[type=Shell].inline"


def test_account_ids_are_never_mistaken_for_hashes():
    diff = diff_plans(factory(), factory(target_accounts=("345678901234",)))
    [dist] = changes_of(diff, "update", DISTRIBUTION, "ubuntu-2404")
    [accounts] = dist.inputs
    assert accounts.path == "distributions[region=eu-west-1].amiDistributionConfiguration.targetAccountIds"
    assert not accounts.derived
    assert (accounts.before, accounts.after) == (["210987654321"], ["345678901234"])


def test_a_changed_hex_token_in_a_script_is_a_cause_not_a_reference():
    base = factory()
    head = factory(script=OS_UPDATES_V1.replace("apt-get update", "git checkout 3f9a1c2e && apt-get update"),
                   component_hash="9d8c7b6a", recipe_hash="4f3e2d1c")
    base_script = find(base, COMPONENT, "ubuntu-2404")
    base_script["inputs"]["data"] = base_script["inputs"]["data"].replace(
        "apt-get update", "git checkout 1b2b3b4b && apt-get update")
    [component] = changes_of(diff_plans(base, head), "replace", COMPONENT, "ubuntu-2404")
    assert [c.path for c in component.causes] == ["data"]


def test_option_changes_are_reported():
    diff = diff_plans(factory(), factory(protect_shared=True))
    [role] = diff.changes
    assert (role.action, [(c.path, c.before, c.after) for c in role.options]) == (
        "update", [("options.protect", False, True)])
