"""The "data at risk" section (components/plan_diff/risk.py): one fixture per kind, built from a
copy of a shipped stack's real plan, checked in the terminal report, the PR comment and the exit
code of the command line."""
from __future__ import annotations

import copy
import json

import pytest

from components.plan_diff.__main__ import EXIT_RISK, main
from components.plan_diff.diff import _groups, diff_plans
from components.plan_diff.markdown import render_markdown
from components.plan_diff.text import render_text
from tests.plan_samples import PlanBuilder

LIFECYCLE = "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy"


def _of(plan: dict, typ: str, name: str = "") -> dict:
    [res] = [r for r in plan["resources"] if r["type"] == typ and r["name"].startswith(name)]
    return res


def kms_moved(plans):
    base = plans["dev"].as_json()
    head = copy.deepcopy(base)
    _of(head, "aws:kms/key:Key")["inputs"]["region"] = "eu-central-1"
    return base, head


def kms_replica_removed(plans):
    base = plans["prod"].as_json()
    head = copy.deepcopy(base)
    head["resources"] = [r for r in head["resources"] if r["name"] != "golden-images-prod-images-us-east-1"]
    return base, head


def protection_off(plans):
    base = plans["prod"].as_json()
    head = copy.deepcopy(base)
    _of(head, "aws:kms/key:Key")["options"]["protect"] = False
    return base, head


def retention_count(plans):
    base = plans["dev"].as_json()
    head = copy.deepcopy(base)
    _of(head, LIFECYCLE, "ubuntu-2404")["inputs"]["policyDetails"][0]["filter"]["value"] = 1.0
    base_filter = _of(base, LIFECYCLE, "ubuntu-2404")["inputs"]["policyDetails"][0]["filter"]
    base_filter["value"] = 5.0
    return base, head


def retention_age():
    def plan(days: float) -> dict:
        b = PlanBuilder()
        image = b.add("golden-images:index:GoldenImage", "web-1", custom=False)
        b.add(LIFECYCLE, "web-1-lifecycle", image, inputs={"name": "web-1", "policyDetails": [{
            "action": {"type": "DELETE", "includeResources": {"amis": True}},
            "filter": {"type": "AGE", "value": days, "unit": "DAYS"}}]})
        return b.plan()
    return plan(90.0), plan(30.0)


def flavour_renamed(plans):
    base = plans["dev"].as_json()
    head = json.loads(json.dumps(base).replace("ubuntu-2404", "ubuntu-2404b"))
    return base, head


def flavour_removed(plans):
    base = plans["dev"].as_json()
    head = copy.deepcopy(base)
    groups = _groups(head)
    head["resources"] = [r for r in head["resources"] if groups[r["urn"]] != "ubuntu-2404"]
    return base, head


def sharing_reset(plans):
    base = plans["prod"].as_json()
    head = copy.deepcopy(base)
    _of(head, "azure-native:compute:Gallery")["inputs"].pop("sharingProfile")
    head["resources"] = [r for r in head["resources"] if r["name"] != "gallery-sharing"]
    return base, head


def group_renamed(plans):
    base = plans["dev"].as_json()
    return base, json.loads(json.dumps(base).replace('"golden-images-dev"', '"golden-images-dev-2"'))


CASES = {
    "kms moved": (kms_moved, "kms-key",
                  "KMS key: golden-images-dev-images (eu-west-1): moves from eu-west-1 to eu-central-1, which replaces "
                  "it: AMIs of rhel-9-stig, ubuntu-2404, windows-2022-app-server, windows-2022-core-dotnet and "
                  "windows-2022-core-dotnet-iis encrypted with "
                  "it become unusable once the old key is deleted, 30 days after"),
    "kms replica removed": (kms_replica_removed, "kms-key",
                            "KMS key: golden-images-prod-images-us-east-1 (us-east-1): is removed: AMIs of rhel-9-stig, ubuntu-2404, "
                            "windows-2022-app-server, windows-2022-core-dotnet and windows-2022-core-dotnet-iis encrypted with it become "
                            "unusable once the old key is deleted, 30 days after (it is protected"),
    "protection off": (protection_off, "protection",
                       "protection off: golden-images-prod-images: `protect` turned off on aws:kms/key:Key"),
    "retention count": (retention_count, "lifecycle",
                        "retention reduced: ubuntu-2404-lifecycle: keeps the newest image instead of 5: the next run "
                        "deletes up to 4 AMIs and snapshots per flavour (ubuntu-2404)"),
    "retention age": (retention_age, "lifecycle",
                      "retention reduced: web-1-lifecycle: keeps images for 30 days instead of 90 days: the next run "
                      "deletes the AMIs per flavour (web-1) older than 30 days"),
    "flavour renamed": (flavour_renamed, "flavour",
                        "flavour removed: ubuntu-2404 (added: ubuntu-2404b; a rename is a removal and an addition): "
                        "the Azure gallery image definition ubuntu-2404 in gallery golden_images_dev is retained "
                        "outside the Pulumi state"),
    "flavour removed": (flavour_removed, "flavour",
                        "flavour removed: ubuntu-2404: the SSM parameter /golden-images/ubuntu-2404/latest (eu-west-1) "
                        "that Image Builder writes keeps pointing at the last image built: consumers keep launching "
                        "it, unpatched; once they have moved, delete it so the stragglers fail loudly: "
                        "`aws ssm delete-parameter --region eu-west-1 --name /golden-images/ubuntu-2404/latest`"),
    "sharing reset": (sharing_reset, "sharing",
                      "gallery sharing reset: gallery-sharing: the gallery share is reset: subscriptions "
                      "5b2d9c7e-1f3a-4e6b-8c0d-9a7e6f5d4c3b lose access to its images"),
    "resource group renamed": (group_renamed, "store",
                               "data store deleted: factory: azure-native:resources:ResourceGroup is replaced "
                               "(create-only: resourceGroupName (Azure: fixed at creation)): every resource in the "
                               "group (gallery, images, templates) is deleted with it"),
}


def _plans_for(case, plans):
    build = CASES[case][0]
    return build() if build is retention_age else build(plans)


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_in_the_text_report(case, plans):
    base, head = _plans_for(case, plans)
    diff = diff_plans(base, head)
    _, kind, line = CASES[case]
    assert kind in {r.kind for r in diff.risks}
    text = render_text(diff)
    assert "\n== data at risk ==\n" in text
    assert f" ! {line}" in text, [r for r in text.splitlines() if r.startswith(" ! ")]
    # The section comes before the per-flavour details.
    assert text.index("== data at risk ==") < text.index("\n== flavour") if "\n== flavour" in text else True


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_in_the_pr_comment(case, plans):
    base, head = _plans_for(case, plans)
    diff = diff_plans(base, head)
    md = render_markdown(diff)
    assert f"#### ⚠️ Data at risk ({len(diff.risks)})" in md
    [risk] = [r for r in diff.risks if CASES[case][2].startswith(f"{r.title}: {r.subject}: {r.detail[:30]}")][:1]
    assert f"- **{risk.title}** `{risk.subject}`: " in md
    assert md.index("Data at risk") < md.index("#### ", md.index("Data at risk") + 1)
    if "```mermaid" in md:
        assert md.index("Data at risk") < md.index("```mermaid")


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_sets_the_exit_code_only_when_asked(case, plans, tmp_path, capsys):
    base, head = _plans_for(case, plans)
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    args = ["--base-plan", str(tmp_path / "base.json"), "--head-plan", str(tmp_path / "head.json")]
    assert main(args) == 0
    out = capsys.readouterr()
    assert f" ! {CASES[case][2]}" in out.out and "of data at risk" in out.err
    assert main([*args, "--markdown", "--fail-on-risk"]) == EXIT_RISK
    assert "Data at risk" in capsys.readouterr().out


def test_markdown_keeps_names_with_underscores_whole(plans):
    md = render_markdown(diff_plans(*flavour_renamed(plans)))
    assert "gallery golden\\_images\\_dev is retained" in md


def test_a_change_without_risk_has_no_section(plans, tmp_path):
    base = plans["dev"].as_json()
    head = copy.deepcopy(base)
    _of(head, LIFECYCLE, "ubuntu-2404")["inputs"]["policyDetails"][0]["filter"]["value"] = 7.0  # keeps more
    diff = diff_plans(base, head)
    assert diff.changes and diff.risks == []
    assert "data at risk" not in render_text(diff) and "Data at risk" not in render_markdown(diff)
    (tmp_path / "b.json").write_text(json.dumps(base))
    (tmp_path / "h.json").write_text(json.dumps(head))
    assert main(["--base-plan", str(tmp_path / "b.json"), "--head-plan", str(tmp_path / "h.json"),
                 "--fail-on-risk", "--out", str(tmp_path / "r.txt")]) == 0


def test_kms_key_replacement_lists_only_flavours_that_use_it():
    def plan(region: str) -> dict:
        b = PlanBuilder()
        shared = b.add("golden-images:aws:SharedInfrastructure", "aws", custom=False)
        key = b.add("aws:kms/key:Key", "images", shared, inputs={"region": region, "deletionWindowInDays": 7.0})
        for flavour, uses in (("web-1", True), ("web-2", False)):
            image = b.add("golden-images:index:GoldenImage", flavour, custom=False)
            b.add("aws:imagebuilder/imageRecipe:ImageRecipe", f"{flavour}-recipe", image,
                  inputs={"name": flavour}, dependsOn=[key["urn"]] if uses else [])
        return b.plan()
    [risk] = diff_plans(plan("eu-west-1"), plan("us-east-1")).risks
    assert risk.flavours == ("web-1",)
    assert "AMIs of web-1 encrypted with it become unusable once the old key is deleted, 7 days after" in risk.detail


def test_a_removed_flavours_retained_definition_names_the_import_that_adopts_it_again(plans):
    # Pulumi cannot know that a retained resource exists: bringing the name back needs `pulumi import`
    # of the definition's ARM id under the flavour's component (`--parent`), the type token being
    # azure-native's `azure-native:compute:GalleryImage`.
    from components.plan_diff.risk import data_at_risk

    base, head = flavour_removed(plans)
    image = next(r for r in base["resources"] if r["type"] == "azure-native:compute:GalleryImage"
                 and r["name"] == "ubuntu-2404-image")
    found = [r.detail for r in data_at_risk(base, head, diff_plans(base, head)) if "gallery image definition" in r.detail]
    assert len(found) == 1
    assert ("then run `pulumi import azure-native:compute:GalleryImage ubuntu-2404-image "
            "'/subscriptions/<subscription-id>/resourceGroups/golden-images-dev/providers/Microsoft.Compute/"
            f"galleries/golden_images_dev/images/ubuntu-2404' --parent '{image['parent']}'` and `pulumi up` again"
            ) in found[0]
    assert image["parent"].endswith("golden-images:azure:ImageTemplate::ubuntu-2404")
