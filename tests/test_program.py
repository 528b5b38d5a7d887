"""The real program under the plan's mock engine: what users see from `make plan`."""
import json
import subprocess
import sys

import pytest

from components.plan import ROOT, UserError, stack_config

FLAVOURS = {"windows-2022-core-dotnet", "windows-2022-core-dotnet-iis", "windows-2022-app-server", "ubuntu-2404",
            "rhel-9-stig", "win11-avd"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_component_per_flavour(plans, stack):
    plan = plans[stack]
    components = plan.of_type("golden-images:index:GoldenImage")
    assert {c.name for c in components} == FLAVOURS
    assert all(not c.custom and c.parent.endswith(f"pulumi:pulumi:Stack::golden-images-{stack}") for c in components)
    assert set(plan.outputs["flavours"]) == FLAVOURS


def test_plan_file_shape(plans):
    data = plans["dev"].as_json()
    assert set(data) == {"project", "stack", "resources", "outputs"}
    assert (data["project"], data["stack"]) == ("golden-images", "dev")
    for resource in data["resources"]:
        assert {"urn", "type", "name", "parent", "custom", "inputs"} <= set(resource)
        assert resource["urn"].startswith("urn:pulumi:dev::golden-images::")
    json.dumps(data)  # the file is plain JSON


def test_summary_follows_settings(plans):
    prod = plans["prod"].outputs["flavours"]["ubuntu-2404"]
    assert prod["schedule"] == "on day 15 of every month at 03:00 Europe/Amsterdam"
    assert prod["clouds"] == ["aws", "azure"]
    assert prod["steps"][0] == "os-updates"


def test_plans_are_deterministic(project):
    first = project.plan("dev").as_json()
    second = project.plan("dev").as_json()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_stack_selects_flavours_and_clouds(project):
    config = project.config("dev")
    config["golden-images:flavours"] = ["ubuntu-2404"]
    config["golden-images:clouds"] = ["aws"]
    (project.flavours / "applications.yaml").unlink()  # its Windows applications need a Windows flavour
    plan = project.plan("dev", config=config)
    assert [c.name for c in plan.of_type("golden-images:index:GoldenImage")] == ["ubuntu-2404"]
    assert plan.outputs["flavours"]["ubuntu-2404"]["clouds"] == ["aws"]
    assert not [r for r in plan.resources if r.type.startswith("azure-native:")]


BAD_INPUTS = {
    "yaml syntax": ("ubuntu-2404.yaml", lambda t: t + "tags: [\n", "image_flavours/ubuntu-2404.yaml: line "),
    "empty file": ("ubuntu-2404.yaml", lambda t: "", "image_flavours/ubuntu-2404.yaml: file is empty"),
    "not a mapping": ("ubuntu-2404.yaml", lambda t: "just text\n", "a flavour file is a mapping of fields, not a str"),
    "unknown field": ("ubuntu-2404.yaml", lambda t: t + "colour: blue\n", "ubuntu-2404.yaml: colour: unknown field"),
    "missing field": ("ubuntu-2404.yaml", lambda t: t.replace("os: linux\n", ""), "ubuntu-2404.yaml: os: required field is missing"),
    "wrong type": ("ubuntu-2404.yaml", lambda t: t + "clouds: aws\n", "ubuntu-2404.yaml: clouds: Input should be a valid list"),
    "invalid name": ("ubuntu-2404.yaml", lambda t: t.replace("name: ubuntu-2404", "name: Ubuntu 24.04"), "name: 'Ubuntu 24.04' is not a valid name"),
    "invalid version": ("ubuntu-2404.yaml", lambda t: t.replace("version: 1.0.0", "version: v1"), "version: 'v1' is not a semantic version"),
    "duplicate name": ("copy.yaml", None, "image_flavours/ubuntu-2404.yaml: name: duplicate flavour name 'ubuntu-2404' (also in image_flavours/copy.yaml)"),
    "unknown step": ("ubuntu-2404.yaml", lambda t: t.replace("  - os-updates\n", "  - os-upgrades\n", 1), "unknown step 'os-upgrades' (did you mean 'os-updates'?)"),
    "unknown parameter": ("ubuntu-2404.yaml", lambda t: t.replace("  - os-updates\n", "  - os-updates: {holds: [vim]}\n", 1), "steps[0].os-updates.holds: unknown parameter"),
    "missing layer base": ("windows-2022-core-dotnet-iis.yaml", lambda t: t.replace("flavour: windows-2022-core-dotnet\n", "flavour: windows-2022-core\n"), "image_flavours/windows-2022-core-dotnet-iis.yaml: base_image.flavour: no flavour named 'windows-2022-core'"),
    "layer os mismatch": ("windows-2022-core-dotnet-iis.yaml", lambda t: t.replace("flavour: windows-2022-core-dotnet\n", "flavour: ubuntu-2404\n"), "base_image.flavour: 'ubuntu-2404' (image_flavours/ubuntu-2404.yaml) is a linux flavour; a windows flavour cannot be built on it"),
    "secret value": ("ubuntu-2404.yaml", lambda t: t.replace("  - os-updates\n", "  - os-updates: {exclude: [ghp_abcdefghijklmnopqrstuvwxyz0123456789]}\n", 1), "steps[0].os-updates.exclude: value looks like a secret (Base64 High Entropy String, GitHub Token)"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_flavours_stop_before_anything_is_created(project, kind):
    filename, edit, expected = BAD_INPUTS[kind]
    original = project.flavour_text(filename if filename.startswith("windows") else "ubuntu-2404.yaml")
    project.write_flavour(filename, edit(original) if edit else original)
    with pytest.raises(UserError) as caught:
        project.plan("dev")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("1 problem found; nothing was created:")
    assert caught.value.registered == []


BAD_SETTINGS = {
    "schedule time": ("golden-images:schedule", {"every": "week", "on": "sunday", "at": "2:00pm"}, "golden-images:schedule.at: '2:00pm' is not a 24-hour time"),
    "time zone": ("golden-images:schedule", {"every": "week", "on": "sunday", "timezone": "CET+1"}, "golden-images:schedule.timezone: unknown time zone 'CET+1'"),
    "aws region": ("golden-images:aws", {"region": "eu-west-1", "distribution_regions": ["eu-west-7"]}, "golden-images:aws.distribution_regions[0]: unknown AWS region 'eu-west-7'"),
    "azure region": ("golden-images:azure", {"location": "europe-west"}, "golden-images:azure.location: unknown Azure region 'europe-west'"),
    # Cloud limits a valid model can still exceed are checked up front too.
    "single-region key": (
        "golden-images:aws",
        {"region": "eu-west-1", "distribution_regions": ["eu-west-1", "us-east-1"],
         "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
         # the app server's installer is read by key from the stack's artefact bucket
         "artefacts": {"bucket": "example-platform-artefacts", "prefix": "installers/"}},
        "golden-images:aws.kms_key_arn: aws.kms_key_arn arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab is a single-Region key",
    ),
    "azure time zone": (
        "golden-images:schedule", {"every": "week", "on": "sunday", "timezone": "Asia/Kathmandu"},
        "golden-images:schedule.timezone: 'Asia/Kathmandu'",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_SETTINGS))
def test_bad_settings_stop_before_anything_is_created(project, kind):
    key, value, expected = BAD_SETTINGS[kind]
    config = project.config("dev")
    config[key] = value
    with pytest.raises(UserError) as caught:
        project.plan("dev", config=config)
    assert f"Pulumi.dev.yaml: {expected}" in str(caught.value)
    assert caught.value.registered == []


def test_make_plan_reports_without_traceback(project):
    project.write_flavour("broken.yaml", "name: broken\n")
    out = project.root / "build" / "plan" / "dev.json"
    result = subprocess.run(
        [sys.executable, "-m", "components.plan", "--stack", "dev", "--root", str(project.root)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "image_flavours/broken.yaml: description: required field is missing" in result.stderr
    assert "image_flavours/broken.yaml: steps: required field is missing" in result.stderr
    assert not out.exists()


def test_make_plan_writes_the_plan_file(project):
    result = subprocess.run(
        [sys.executable, "-m", "components.plan", "--stack", "prod", "--root", str(project.root)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((project.root / "build" / "plan" / "prod.json").read_text())
    assert data["stack"] == "prod"
    assert "Flavour ubuntu-2404 1.0.0 (linux)" in result.stdout
    # The layers as a tree, the layered flavour's base and what its own build runs.
    assert ("Layers (each built on the newest image of the one above it):\n"
            "  rhel-9-stig (on day 15 of every month at 03:00 Europe/Amsterdam)\n"
            "  ubuntu-2404 (on day 15 of every month at 03:00 Europe/Amsterdam)\n"
            "  win11-avd (on day 15 of every month at 03:00 Europe/Amsterdam)\n"
            "  windows-2022-core-dotnet (on day 15 of every month at 03:00 Europe/Amsterdam)\n"
            "  ├─ windows-2022-app-server (on day 15 of every month at 07:00 Europe/Amsterdam, after "
            "windows-2022-core-dotnet)\n"
            "  └─ windows-2022-core-dotnet-iis (on day 15 of every month at 07:00 Europe/Amsterdam, after "
            "windows-2022-core-dotnet)\n") in result.stdout
    assert ("  built on: windows-2022-core-dotnet (its newest image)\n"
            "  schedule: on day 15 of every month at 07:00 Europe/Amsterdam, after windows-2022-core-dotnet\n"
            "  steps:    os-updates, windows-feature, dotnet-runtime, image-tests, cleanup\n"
            "    os-updates: runs again first (as in windows-2022-core-dotnet), updates since the base was built\n"
            "    dotnet-runtime: runs again, although windows-2022-core-dotnet already ran it\n"
            "    cleanup: runs again, although windows-2022-core-dotnet already ran it\n") in result.stdout


def test_layer_tree_draws_nested_layers():
    from components.plan import layer_tree

    flavours = {"a": {"schedule": "s0"}, "b": {"schedule": "s1", "built_on": "a"},
                "c": {"schedule": "s2", "built_on": "b"}, "d": {"schedule": "s1", "built_on": "a"}, "e": {"schedule": "s0"}}
    assert layer_tree(flavours) == [
        "Layers (each built on the newest image of the one above it):",
        "  a (s0)",
        "  ├─ b (s1)",
        "  │  └─ c (s2)",
        "  └─ d (s1)",
        "  e (s0)",
        "",
    ]
    assert layer_tree({"a": {"schedule": "s0"}}) == []


def test_unknown_stack_is_a_clear_error():
    with pytest.raises(UserError, match=r"Pulumi.staging.yaml: no such stack file \(stacks: dev, prod\)"):
        stack_config("staging", ROOT)
