"""plan-diff of a flavour's retirement and return, from real plans of the program: an undecided
removal names the golden-images:retired entry to add; a retired flavour's parameters are reported
as decided; an adopted definition shows as 'adopt existing', not as an addition."""
from __future__ import annotations

import json

import pytest

from components.plan_diff.__main__ import EXIT_RISK, main
from components.plan_diff.diff import diff_plans
from components.plan_diff.markdown import render_markdown
from components.plan_diff.text import render_text
from tests.conftest import ProjectCopy
from tests.samples import RETIRE_2204, SUBSCRIPTION_ID, UBUNTU_2204

PARAMETER = "/golden-images/ubuntu-2204/latest"
ADOPTED_ID = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/golden-images-dev/providers/Microsoft.Compute/"
              "galleries/golden_images_dev/images/ubuntu-2204")
UNDECIDED = (
    "flavour ubuntu-2204 is removed but not listed in golden-images:retired, so nothing decides what consumers "
    "of its images see: add to Pulumi.dev.yaml `golden-images:retired: [{flavour: ubuntu-2204, reason: <why, for "
    "its consumers>}]`; its SSM parameters are then taken over and marked deprecated (or deleted, with "
    "`ssm_parameter: delete`). If it was renamed by mistake, restore its name instead")


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict:
    """dev's plans: with ubuntu-2204, without it (undecided, retired, its parameter deleted), and back."""
    project = ProjectCopy(tmp_path_factory.mktemp("retire"))
    config = project.config("dev")

    def plan(**extra) -> dict:
        return project.plan("dev", {**config, **extra}).as_json()

    flavour = project.write_flavour("ubuntu-2204.yaml", UBUNTU_2204)
    found = {"base": plan()}
    flavour.unlink()
    found["undecided"] = plan()
    found["retired"] = plan(**{"golden-images:retired": [RETIRE_2204]})
    found["deleted"] = plan(**{"golden-images:retired": [{**RETIRE_2204, "ssm_parameter": "delete"}]})
    project.write_flavour("ubuntu-2204.yaml", UBUNTU_2204)
    found["back"] = plan(**{"golden-images:azure": {**config["golden-images:azure"],
                                                    "subscription_id": SUBSCRIPTION_ID, "adopt": ["ubuntu-2204"]}})
    return found


def test_a_removal_without_a_retired_entry_says_exactly_what_to_add(plans):
    diff = diff_plans(plans["base"], plans["undecided"])
    [undecided] = [r for r in diff.risks if r.kind == "undecided"]
    assert (undecided.title, undecided.subject, undecided.detail) == ("removal not decided", "ubuntu-2204", UNDECIDED)
    assert f" ! removal not decided: ubuntu-2204: {UNDECIDED}" in render_text(diff).splitlines()
    # Undecided, the parameter Image Builder wrote is still told as left behind, with its delete command.
    assert any("`aws ssm delete-parameter --region eu-west-1 --name /golden-images/ubuntu-2204/latest`" in r.detail
               for r in diff.risks)


def test_the_undecided_removal_fails_the_check_that_fails_on_risk(plans, tmp_path):
    (tmp_path / "b.json").write_text(json.dumps(plans["base"]))
    (tmp_path / "h.json").write_text(json.dumps(plans["undecided"]))
    args = ["--base-plan", str(tmp_path / "b.json"), "--head-plan", str(tmp_path / "h.json"),
            "--out", str(tmp_path / "report.md"), "--markdown"]
    assert main([*args, "--fail-on-risk"]) == EXIT_RISK
    report = (tmp_path / "report.md").read_text()
    assert "- **removal not decided** `ubuntu-2204`: flavour ubuntu-2204 is removed but not listed" in report
    assert "`golden-images:retired: [{flavour: ubuntu-2204, reason: <why, for its consumers>}]`" in report


def test_a_rename_suggests_the_new_name_as_the_replacement():
    from components.plan_diff.risk import retire_entry

    assert retire_entry("web-1", "prod", ["web-2"]) == (
        "add to Pulumi.prod.yaml `golden-images:retired: [{flavour: web-1, reason: <why, for its consumers>, "
        "replaced_by: web-2}]`")


def test_a_retired_flavour_is_decided_and_its_parameter_reported_as_taken_over(plans):
    diff = diff_plans(plans["base"], plans["retired"])
    assert not [r for r in diff.risks if r.kind == "undecided"]
    parameter_risks = [r.detail for r in diff.risks if "SSM parameter" in r.detail]
    assert parameter_risks == [
        f"the SSM parameter {PARAMETER} (eu-west-1) is taken over and marked deprecated (golden-images:retired): "
        "it keeps its value, the last image built, which is no longer patched; consumers move to flavour "
        "ubuntu-2404; set `ssm_parameter: delete` once they have"]
    # The takeover is listed with the flavour it belongs to, not as shared infrastructure.
    [added] = [c for c in diff.changes if c.type == "aws:ssm/parameter:Parameter"]
    assert (added.action, added.group, added.name) == ("add", "ubuntu-2204", "ubuntu-2204-ssm-eu-west-1")
    text = render_text(diff)
    assert "== flavour ubuntu-2204: 1 to add, 0 to replace, 0 to update in place, 10 to remove ==" in text


def test_moving_from_deprecate_to_delete_is_told_as_a_deletion(plans):
    diff = diff_plans(plans["retired"], plans["deleted"])
    assert [r.detail for r in diff.risks] == [
        f"the SSM parameter {PARAMETER} (eu-west-1) is deleted (golden-images:retired, ssm_parameter: delete): "
        "instances, launch templates and stacks that still resolve it fail; consumers move to flavour ubuntu-2404"]
    removed = [c for c in diff.changes if c.type == "aws:ssm/parameter:Parameter"]
    assert [(c.action, c.reason) for c in removed] == [("remove", "retainOnDelete: left in the cloud, outside the state")]


def test_an_adopted_definition_shows_as_adopt_existing_not_as_an_addition(plans):
    diff = diff_plans(plans["retired"], plans["back"])
    [image] = [c for c in diff.changes if c.type == "azure-native:compute:GalleryImage"]
    assert (image.action, image.adopts) == ("adopt", ADOPTED_ID)
    assert diff.counts("ubuntu-2204")["adopt"] == 1
    lines = render_text(diff).splitlines()
    at = lines.index("+= adopt azure-native:compute:GalleryImage ubuntu-2204-image")
    assert lines[at + 1] == (f"      why: adopts existing {ADOPTED_ID}: `pulumi up` imports it instead of creating "
                             "it (the import fails unless its create-only properties match these inputs)")
    assert not [line for line in lines if line.startswith(" + add azure-native:compute:GalleryImage")]
    assert ("== flavour ubuntu-2204: 9 to add, 0 to replace, 0 to update in place, 1 to remove, "
            "1 to adopt (existing, imported) ==") in lines
    markdown = render_markdown(diff)
    assert (f"| 📥 adopt existing | `azure-native:compute:GalleryImage` | `ubuntu-2204-image` | adopts existing "
            f"{ADOPTED_ID}: `pulumi up` imports it instead of creating it") in markdown
    assert "1 existing resource(s) adopted: imported into the state, not created (listed below)." in markdown


def test_the_retained_definition_s_risk_names_adopt(plans):
    diff = diff_plans(plans["base"], plans["retired"])
    [retained] = [r.detail for r in diff.risks if "gallery image definition" in r.detail]
    assert ("If a flavour named ubuntu-2204 comes back, list it in `golden-images:azure.adopt` (with "
            "`golden-images:azure.subscription_id`) so that its `pulumi up` imports the definition instead of "
            "creating it.") in retained


def test_a_region_the_retired_entry_does_not_reach_is_named_with_the_regions_to_add(plans):
    import copy

    head = copy.deepcopy(plans["retired"])
    # As if the flavour had had its own distribution regions and the entry only the stack's.
    head["outputs"]["retired"]["ubuntu-2204"]["aws"]["ssm_parameters"] = {"eu-central-1": PARAMETER}
    diff = diff_plans(plans["base"], head)
    assert [r.detail for r in diff.risks if r.kind == "undecided"] == [
        f"the SSM parameter {PARAMETER} (eu-west-1) that Image Builder wrote is not reached by its "
        "golden-images:retired entry: add `regions: [eu-central-1, eu-west-1]` to it"]
    assert not [r for r in diff_plans(plans["base"], plans["retired"]).risks if r.kind == "undecided"]
