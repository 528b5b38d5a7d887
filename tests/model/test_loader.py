"""Flavour files: every kind of mistake is reported with file, field path and a fix."""
from pathlib import Path

import pytest

from components.model.errors import ValidationFailed
from components.model.flavour import Flavour
from components.model.loader import LoadedFlavour, check_steps, load_inputs
from components.model.steps import Catalogue, Step, StepSpec, load_catalogue
from tests.samples import stack_config as settings
from tests.samples import ubuntu_flavour

GOOD = ubuntu_flavour(version="1.2.3") + "  - os-updates\n"


def load(tmp_path: Path, files: dict, config=None) -> list[str]:
    folder = tmp_path / "image_flavours"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(config or settings(), "Pulumi.dev.yaml", folder, tmp_path)
    return [str(p) for p in caught.value.problems]


def test_good_flavour_loads(tmp_path):
    folder = tmp_path / "image_flavours"
    folder.mkdir()
    (folder / "web.yaml").write_text(GOOD)
    inputs = load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)
    flavour = inputs.flavours[0].flavour
    assert (flavour.name, flavour.version, flavour.os) == ("web", "1.2.3", "linux")
    assert flavour.steps[0].name == "os-updates" and flavour.steps[0].params == {}
    assert flavour.base_image.azure.version == "latest"
    assert flavour.build.disk_size("linux") == 30


def test_yaml_syntax_error_names_the_line(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD + "tags: {team: [oops\n"})
    assert len(found) == 1
    assert found[0].startswith("image_flavours/web.yaml: line 11, column 1: YAML syntax error: expected ',' or ']'")


def test_duplicate_keys_are_refused(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD + "version: 2.0.0\n"})
    assert len(found) == 1 and "duplicate key 'version' (first on line 3)" in found[0]


def test_empty_and_non_mapping_files(tmp_path):
    found = load(tmp_path, {"empty.yaml": "", "list.yaml": "- name: web\n"})
    assert "image_flavours/empty.yaml: file is empty; a flavour needs name, description, version, os, base_image, steps" in found
    assert "image_flavours/list.yaml: a flavour file is a mapping of fields, not a list" in found


def test_unknown_field_suggests_the_right_one(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD + "descripton: typo\n"})
    assert len(found) == 1
    assert found[0].startswith("image_flavours/web.yaml: descripton: unknown field (did you mean 'description'?")


def test_missing_and_wrong_type_fields(tmp_path):
    text = GOOD.replace("description: A web server image\n", "").replace("steps:\n  - os-updates\n", "steps: os-updates\n")
    found = load(tmp_path, {"web.yaml": text})
    assert "image_flavours/web.yaml: description: required field is missing" in found
    assert any(p.startswith("image_flavours/web.yaml: steps: Input should be a valid list (got str 'os-updates')") for p in found)


def test_invalid_name_and_version(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD.replace("name: web", "name: Web_Server").replace("version: 1.2.3", 'version: "1.2"')})
    assert any("name: 'Web_Server' is not a valid name" in p and "(e.g. 'web-server')" in p for p in found)
    assert "image_flavours/web.yaml: version: '1.2' is not a semantic version x.y.z (e.g. 1.0.0)" in found


def test_unquoted_number_version(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD.replace("version: 1.2.3", "version: 1.2")})
    assert found == ['image_flavours/web.yaml: version: version must be a quoted string x.y.z (got 1.2); write "1.2.0"']


def test_duplicate_names_across_files(tmp_path):
    found = load(tmp_path, {"a.yaml": GOOD, "b.yaml": GOOD})
    assert found == ["image_flavours/b.yaml: name: duplicate flavour name 'web' (also in image_flavours/a.yaml)"]


def test_unknown_step_and_parameter(tmp_path):
    text = GOOD.replace("  - os-updates\n", "  - os-update\n  - os-updates: {exclud: [linux-image-generic]}\n")
    found = load(tmp_path, {"web.yaml": text})
    assert any(p.startswith("image_flavours/web.yaml: steps[0]: unknown step 'os-update' (did you mean 'os-updates'?)") for p in found)
    assert any(
        p.startswith("image_flavours/web.yaml: steps[1].os-updates.exclud: unknown parameter (did you mean 'exclude'?)")
        for p in found
    )


def test_wrong_parameter_type(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD.replace("  - os-updates\n", "  - os-updates: {exclude: linux-image-generic}\n")})
    assert found == ["image_flavours/web.yaml: steps[0].os-updates.exclude: must be a list, got str 'linux-image-generic'"]


def test_step_mapping_with_two_names(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD.replace("  - os-updates\n", "  - os-updates: {}\n    cleanup: {}\n")})
    assert len(found) == 1 and found[0].startswith("image_flavours/web.yaml: steps[0]: a step mapping names exactly one step")


def test_bad_step_options(tmp_path):
    text = GOOD.replace("  - os-updates\n", "  - os-updates: {}\n    options: {retries: 9}\n  - os-updates:\n    options: {run_as_system: true, run_elevated: false}\n")
    found = load(tmp_path, {"web.yaml": text})
    assert found == [
        "image_flavours/web.yaml: steps[0].options.retries: Input should be less than or equal to 5",
        "image_flavours/web.yaml: steps[1].options: run_as_system requires run_elevated: true",
    ]


def windows_only_catalogue() -> Catalogue:
    real = load_catalogue()
    spec = StepSpec(
        name="iis", category="software", description="IIS", os=["windows"],
        scripts={"windows": "install.ps1"}, checks={"windows": "check.ps1"},
    )
    iis = Step(spec=spec, scripts={"windows": "Install-WindowsFeature Web-Server"}, checks={"windows": "exit 0"}, folder=Path("."))
    return Catalogue(steps={**real.steps, "iis": iis}, pins=real.pins)


def test_step_that_does_not_support_the_os():
    flavour = Flavour.model_validate(
        {"name": "web", "description": "d", "version": "1.0.0", "os": "linux", "base_image": {"aws": "ami-0123456789abcdef0"},
         "steps": ["os-updates", "iis"]}
    )
    found = [str(p) for p in check_steps(LoadedFlavour(flavour, "image_flavours/web.yaml"), windows_only_catalogue())]
    assert found == ["image_flavours/web.yaml: steps[1]: step 'iis' does not support linux (supports: windows)"]


def test_secret_looking_values_are_refused(tmp_path):
    text = GOOD.replace("  - os-updates\n", "  - os-updates: {exclude: [AKIAIOSFODNN7EXAMPLE]}\n") + "tags:\n  api_key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0\n"
    found = load(tmp_path, {"web.yaml": text})
    assert any(p.startswith("image_flavours/web.yaml: steps[0].os-updates.exclude: value looks like a secret (AWS Access Key") for p in found)
    assert any(p.startswith("image_flavours/web.yaml: tags.api_key: value looks like a secret") for p in found)


def test_base_image_needed_for_each_cloud(tmp_path):
    text = GOOD.replace("  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}\n", "")
    assert load(tmp_path, {"web.yaml": text}) == [
        "image_flavours/web.yaml: base_image.azure: required: this flavour is built on azure in this stack"
    ]
    only_aws = text + "clouds: [aws]\n"
    folder = tmp_path / "image_flavours"
    (folder / "web.yaml").write_text(only_aws)
    assert load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path).flavours[0].flavour.clouds == ["aws"]


def test_bad_parent_image(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD.replace("aws: ssm:/aws", "aws: /aws")})
    assert len(found) == 1 and found[0].startswith("image_flavours/web.yaml: base_image.aws: '/aws/service")


def test_stack_selects_unknown_flavour(tmp_path):
    found = load(tmp_path, {"web.yaml": GOOD}, config=settings(flavours=["wbe"]))
    assert found == ["Pulumi.dev.yaml: golden-images:flavours[0]: no flavour named 'wbe' (did you mean 'web'?)"]


def test_problems_from_files_and_settings_come_together(tmp_path):
    found = load(tmp_path, {"a.yaml": "name: [\n", "b.yaml": GOOD.replace("os: linux", "os: macos")},
                 config=settings(schedule={"every": "week", "on": "sunday", "at": "7pm"}))
    sources = {p.split(":")[0] for p in found}
    assert sources == {"Pulumi.dev.yaml", "image_flavours/a.yaml", "image_flavours/b.yaml"}
    assert len(found) == 3


def test_shipped_flavours_are_valid():
    from components.plan import ROOT, stack_config

    for stack in ("dev", "prod"):
        inputs = load_inputs(stack_config(stack)[0], f"Pulumi.{stack}.yaml", ROOT / "image_flavours", ROOT)
        names = {item.flavour.name for item in inputs.flavours}
        assert {"windows-2022-core-dotnet", "windows-2022-core-dotnet-iis", "ubuntu-2404"} <= names


def test_step_limited_to_one_cloud_must_say_so(tmp_path):
    text = GOOD.replace("  - os-updates\n", "  - os-updates\n  - cloudwatch-agent\n")
    found = load(tmp_path, {"web.yaml": text})
    assert found == [
        "image_flavours/web.yaml: steps[1]: step 'cloudwatch-agent' runs only on aws, but this flavour is also built "
        "on azure; add 'options: {only_on: aws}' to say the images differ"
    ]
    folder = tmp_path / "image_flavours"
    (folder / "web.yaml").write_text(text.replace("  - cloudwatch-agent\n", "  - cloudwatch-agent:\n    options: {only_on: aws}\n"))
    assert load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path).flavours[0].flavour.steps[1].options.only_on == "aws"


def test_list_entries_follow_the_parameter_pattern():
    from components.model.loader import _check_value
    from components.model.steps import Parameter

    kbs = Parameter(type="list", description="KB ids", pattern=r"KB[0-9]{6,8}")
    assert _check_value(kbs, ["KB5005463"]) == []
    assert _check_value(kbs, ["KB5005463", "5005463"]) == [r"list entry '5005463' does not match KB[0-9]{6,8}"]
