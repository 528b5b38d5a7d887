"""make plan-diff: what a change does to a stack's plan, per flavour, offline."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components import plan_diff
from components.plan import ROOT
from components.plan_diff import MISSING, diff_plans, mermaid, render_markdown, render_text, stem

from .plans import INSTALL_V2, OS_UPDATES_V1, OS_UPDATES_V2, PlanBuilder, factory, find, stable_factory

COMPONENT = "aws:imagebuilder/component:Component"
RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe"
PIPELINE = "aws:imagebuilder/imagePipeline:ImagePipeline"
DISTRIBUTION = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
SSM = "aws:ssm/parameter:Parameter"
TEMPLATE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"


def changes_of(diff, action, typ=None, group=None):
    return [
        c for c in diff.changes
        if c.action == action and (typ is None or c.type == typ) and (group is None or c.group == group)
    ]


# --- a changed script replaces the component and the recipe -----------------------------------------


@pytest.fixture
def script_change():
    base = factory()
    head = factory(script=OS_UPDATES_V2, component_hash="9d8c7b6a", recipe_hash="4f3e2d1c", template_hash="7a7a7a01")
    return diff_plans(base, head, "origin/main (abc1234)", "working tree")


def test_changed_script_replaces_component_with_the_changed_input(script_change):
    [component] = changes_of(script_change, "replace", COMPONENT, "ubuntu-2404")
    assert (component.old_name, component.name) == ("ubuntu-2404-os-updates-1a2b3c4d", "ubuntu-2404-os-updates-9d8c7b6a")
    assert [c.path for c in component.causes] == ["data"]
    assert component.reason == "content changed: data"
    name_change = next(c for c in component.inputs if c.path == "name")
    assert name_change.derived  # the new name follows from the content, it is not a cause


def test_changed_script_is_shown_as_a_text_diff(script_change):
    [component] = changes_of(script_change, "replace", COMPONENT, "ubuntu-2404")
    [data] = component.causes
    assert data.is_text
    lines = plan_diff.text_diff(data)
    assert "-              apt-get -y upgrade" in lines
    assert "+              apt-get -y dist-upgrade" in lines
    assert "+              apt-get -y autoremove" in lines
    assert not any(line.startswith(("-", "+")) and "apt-get update" in line for line in lines)


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


def test_azure_inline_script_lines_are_a_text_diff(script_change):
    [template] = changes_of(script_change, "replace", TEMPLATE, "ubuntu-2404")
    [inline] = template.causes
    assert inline.path == "customize[name=os-updates].inline"
    lines = plan_diff.text_diff(inline)
    assert "-apt-get -y upgrade" in lines and "+apt-get -y autoremove" in lines


def test_script_change_counts_and_nothing_removed(script_change):
    assert script_change.counts() == {"add": 0, "replace": 6, "update": 2, "remove": 0}
    assert script_change.counts("ubuntu-2404") == {"add": 0, "replace": 3, "update": 1, "remove": 0}
    assert script_change.groups() == ["ubuntu-2404", "windows-2022-core"]


def test_text_report_of_a_script_change(script_change):
    text = render_text(script_change)
    assert text.startswith("Plan diff of stack 'dev': origin/main (abc1234) -> working tree")
    assert "== flavour ubuntu-2404: 0 to add, 3 to replace, 1 to update in place, 0 to remove ==" in text
    assert (
        "+- replace aws:imagebuilder/component:Component ubuntu-2404-os-updates-1a2b3c4d -> ubuntu-2404-os-updates-9d8c7b6a"
        in text
    )
    assert "why: content changed: data" in text
    assert "+              apt-get -y dist-upgrade" in text
    assert "imageRecipeArn: arn:aws:imagebuilder:eu-west-1:123456789012:image-recipe/... -> " in text
    assert "(follows a new name)" in text


# --- the same change where Pulumi names stay and only cloud names carry the hash ------------------------


@pytest.fixture
def stable_change():
    return diff_plans(stable_factory(), stable_factory(install=INSTALL_V2, component_hash="5d1e0c3b7a",
                                                       recipe_hash="0b4c1f9e2d"))


def test_shared_component_replaced_with_its_script_diff(stable_change):
    [component] = changes_of(stable_change, "replace", COMPONENT, "shared")
    assert component.old_name == "golden-images-dev-os-updates-linux-209b713c8e"
    assert [c.path for c in component.causes] == ["data"]
    lines = plan_diff.text_diff(component.causes[0])
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
    lines = plan_diff.text_diff(inline)
    assert "-printf '%s' '<base64 of 4 lines, decoded below>' | base64 -d > '/tmp/golden-images-01-os-updates-install.sh'" in lines
    assert "+printf '%s' '<base64 of 5 lines, decoded below>' | base64 -d > '/tmp/golden-images-01-os-updates-install.sh'" in lines
    assert "-    | apt-get -y upgrade" in lines
    assert "+    | apt-get -y dist-upgrade" in lines
    assert "+    | apt-get -y autoremove --purge" in lines
    assert not any(len(line) > 200 for line in lines)  # no opaque base64 blob


# --- a new region: distribution updated in place, per-region resources added ---------------------------


@pytest.fixture
def new_region():
    base = factory()
    head = factory(aws_regions=("eu-west-1", "us-east-1"), azure_regions=("westeurope", "northeurope"),
                   template_hash="2b2b2b02")
    return diff_plans(base, head)


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


def test_new_region_in_the_mermaid_map(new_region):
    graph = mermaid(new_region)
    assert graph.startswith("graph LR\n")
    assert 'f0["ubuntu-2404 1.0.0"]' in graph and "stack --> f0" in graph
    assert 'f0_aws["AWS"]' in graph and "f0 --> f0_aws" in graph
    assert 'f0_aws_r1(["us-east-1"])' in graph and "f0_aws --> f0_aws_r1" in graph
    assert 'f0_azure_r1(["northeurope"])' in graph
    added = next(line for line in graph.splitlines() if line.strip().startswith("class ") and line.endswith(" added"))
    assert set(added.split()[1].split(",")) == {"f0_aws_r1", "f0_azure_r1", "f1_aws_r1", "f1_azure_r1"}
    changed = next(line for line in graph.splitlines() if line.strip().startswith("class ") and line.endswith(" changed"))
    assert set(changed.split()[1].split(",")) == {"f0", "f1"}


def test_new_region_stack_outputs(new_region):
    paths = {c.path for c in new_region.outputs}
    assert "flavours.ubuntu-2404.aws.regions" in paths


# --- removals ------------------------------------------------------------------------------------------


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


# --- matching rules ------------------------------------------------------------------------------------


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


def test_json_documents_are_diffed_pretty_printed():
    base = factory()
    head = factory()
    role = find(head, "aws:iam/role:Role", "golden-images-build")
    role["inputs"]["assumeRolePolicy"] = role["inputs"]["assumeRolePolicy"].replace("ec2.amazonaws.com", "imagebuilder.amazonaws.com")
    [change] = diff_plans(base, head).changes
    [policy] = change.inputs
    lines = plan_diff.text_diff(policy)
    assert '-        "Service": "ec2.amazonaws.com"' in lines
    assert '+        "Service": "imagebuilder.amazonaws.com"' in lines
    assert '       "Action": "sts:AssumeRole",' in lines  # context lines, one key a line


def test_option_changes_are_reported():
    diff = diff_plans(factory(), factory(protect_shared=True))
    [role] = diff.changes
    assert (role.action, [(c.path, c.before, c.after) for c in role.options]) == (
        "update", [("options.protect", False, True)])


def test_long_text_diffs_are_cut():
    base, head = factory(), factory()
    comp = find(head, COMPONENT, "ubuntu-2404")
    comp["inputs"]["data"] = "\n".join(f"line {i}" for i in range(500))
    [change] = [c for c in diff_plans(base, head).changes if c.type == COMPONENT]
    lines = plan_diff.text_diff(change.inputs[0], max_lines=20)
    assert len(lines) == 21 and lines[-1].startswith("... ") and "more diff lines" in lines[-1]


# --- Markdown ------------------------------------------------------------------------------------------


def test_markdown_report(script_change):
    md = render_markdown(script_change)
    assert md.startswith("<!-- golden-images plan-diff stack=dev -->\n### Offline plan diff: stack `dev`")
    assert "| `ubuntu-2404` | 0 | 3 | 1 | 0 |" in md
    assert "| **all** | **0** | **6** | **2** | **0** |" in md
    assert "```mermaid\ngraph LR\n" in md
    assert "#### Flavour `ubuntu-2404`" in md
    assert (
        "| ♻️ replace | `aws:imagebuilder/component:Component` | `ubuntu-2404-os-updates-1a2b3c4d` → "
        "`ubuntu-2404-os-updates-9d8c7b6a` | content changed: `data` |"
    ) in md
    summary = "<details><summary><code>ubuntu-2404-os-updates-9d8c7b6a</code> <code>data</code>: text diff</summary>"
    assert summary in md
    block = md.split(summary)[1]
    block = block.split("</details>")[0]
    assert "```diff\n" in block and "+              apt-get -y dist-upgrade" in block
    assert md.count("<details>") == md.count("</details>")
    assert md.count("```") % 2 == 0


def test_markdown_shows_an_added_region_entry_whole(new_region):
    md = render_markdown(new_region)
    summary = ("<details><summary><code>ubuntu-2404</code> <code>distributions[region=us-east-1]</code>: added"
               "</summary>")
    assert summary in md
    block = md.split(summary)[1].split("</details>")[0]
    assert "```json\n" in block and '"region": "us-east-1"' in block and '"targetAccountIds": [' in block


def test_text_report_shows_an_added_region_entry_whole(new_region):
    text = render_text(new_region)
    assert "      + distributions[region=us-east-1] =\n          {\n" in text
    assert '"region": "us-east-1"' in text


def test_markdown_escapes_table_cells_and_fences():
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add(COMPONENT, "x", inputs={"data": "echo a | tee b\n```\n", "description": "a|b"})
    b2.add(COMPONENT, "x", inputs={"data": "echo c | tee b\n```\n", "description": "a|c"})
    md = render_markdown(diff_plans(b1.plan(), b2.plan()))
    assert "| `description` | `a\\|b` | `a\\|c` |" in md
    assert "````diff" in md  # a script containing ``` gets a longer fence


def test_markdown_shrinks_diffs_to_fit_a_comment():
    base, head = factory(), factory()
    for res in head["resources"]:
        if res["type"] == COMPONENT:
            res["inputs"]["data"] = "\n".join(f"changed line {i} of a long script" for i in range(3000))
    diff = diff_plans(base, head)
    md = render_markdown(diff, max_chars=20000)
    assert len(md) <= 20000
    assert "more diff lines" in md
    assert "#### Flavour `windows-2022-core`" in md


# --- the command line ----------------------------------------------------------------------------------


def test_cli_compares_plan_files(tmp_path, capsys):
    (tmp_path / "base.json").write_text(json.dumps(factory()))
    (tmp_path / "head.json").write_text(json.dumps(factory(aws_regions=("eu-west-1", "us-east-1"))))
    code = plan_diff.main(["--base-plan", str(tmp_path / "base.json"), "--head-plan", str(tmp_path / "head.json"),
                           "--markdown", "--out", str(tmp_path / "diff.md")])
    assert code == 0
    md = (tmp_path / "diff.md").read_text()
    assert "`distributions[region=us-east-1]`" in md and '(["us-east-1"])' in md


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository holding a copy of the project, one commit deep."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in (".gitignore", "__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "requirements.txt"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "image_flavours", repo / "image_flavours")
    shutil.copytree(ROOT / "components", repo / "components", ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", "base")
    return repo


def _run_cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "components.plan_diff", *args], cwd=repo,
                          capture_output=True, text=True, timeout=120)


def _a_flavour(repo: Path) -> tuple:
    """(file, parsed flavour) of the first flavour file; image_flavours/ also holds shared data."""
    for path in sorted((repo / "image_flavours").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and {"name", "version", "steps"} <= set(data):
            return path, data
    raise AssertionError("no flavour file in image_flavours/")


def test_cli_end_to_end_against_a_git_revision(repo):
    """A flavour's version bumped (its recipe is replaced) and a region added, in the working tree,
    diffed against HEAD rendered in a temporary worktree."""
    flavour_file, flavour = _a_flavour(repo)
    major, minor, patch = str(flavour["version"]).split(".")
    new_version = f"{major}.{minor}.{int(patch) + 1}"
    text, count = re.subn(r"(?m)^version:.*$", f"version: {new_version}", flavour_file.read_text())
    assert count == 1
    flavour_file.write_text(text)
    stack_file = repo / "Pulumi.dev.yaml"
    # Edited as text: the stack file is YAML 1.2 (`on:` is a key, not a boolean) and keeps its comments.
    stack_text, count = re.subn(r"(distribution_regions:\s*\[[^\]]*)\]", r"\1, eu-central-1]", stack_file.read_text())
    assert count == 1, "Pulumi.dev.yaml has no flow-style golden-images:aws distribution_regions list"
    stack_file.write_text(stack_text)
    status_before = _git(repo, "status", "--porcelain")

    result = _run_cli(repo, "--base", "HEAD", "--stack", "dev", "--markdown")
    assert result.returncode == 0, result.stderr
    md = result.stdout
    assert md.startswith("<!-- golden-images plan-diff stack=dev -->")
    assert "`HEAD (" in md and "`working tree`" in md
    section = md.split(f"#### Flavour `{flavour['name']}`")[1].split("#### ")[0]
    recipe = next(line for line in section.splitlines()
                  if line.startswith("| ♻️ replace | `aws:imagebuilder/imageRecipe:ImageRecipe` |"))
    assert "| EC2 Image Builder recipes cannot be updated in place; content changed: " in recipe
    assert "`version`" in recipe
    assert "`distributions[region=eu-central-1]`" in section
    assert '(["eu-central-1"])' in md
    assert next(line for line in md.splitlines() if line.startswith("  class ") and line.endswith(" added"))
    assert f"| `flavours.{flavour['name']}.version` | `{flavour['version']}` | `{new_version}` |" in md

    # The temporary worktree is gone and the repository is as it was.
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert _git(repo, "status", "--porcelain") == status_before


def test_cli_fails_with_the_plans_error(repo):
    flavour_file, _ = _a_flavour(repo)
    flavour_file.write_text(flavour_file.read_text() + "colour: blue\n")
    result = _run_cli(repo, "--base", "HEAD", "--stack", "dev")
    assert result.returncode != 0
    assert "the plan of the working tree failed" in result.stderr
    assert f"{flavour_file.name}: colour: unknown field" in result.stderr
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_cli_unknown_base_revision(repo):
    result = _run_cli(repo, "--base", "no-such-branch", "--stack", "dev")
    assert result.returncode == 2
    assert "unknown git revision 'no-such-branch'" in result.stderr
