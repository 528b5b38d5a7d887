"""golden-images:retired and golden-images:azure.adopt refused when they do not fit the flavours
the stack builds: every problem named by field, exit code 2, nothing registered, no plan written."""
from __future__ import annotations

import pytest

from components.builds import resolve_stack
from components.model.errors import ValidationFailed
from tests.flavour_folders import folder_with
from tests.samples import RETIRE_2204, SUBSCRIPTION_ID, UBUNTU_2204, stack_config, ubuntu_flavour

WEB = ubuntu_flavour(name="ubuntu-2404") + "  - os-updates\n"


def _problems(tmp_path, files: dict, **overrides) -> list[str]:
    folder_with(tmp_path, files)
    with pytest.raises(ValidationFailed) as caught:
        resolve_stack(stack_config(**overrides), "Pulumi.dev.yaml", "dev", tmp_path)
    return [str(p) for p in caught.value.problems]


def _resolves(tmp_path, files: dict, **overrides):
    folder_with(tmp_path, files)
    return resolve_stack(stack_config(**overrides), "Pulumi.dev.yaml", "dev", tmp_path)


def test_a_retired_flavour_that_is_still_built_is_refused_with_the_adopt_it_needs(tmp_path):
    problems = _problems(tmp_path, {"ubuntu-2204.yaml": UBUNTU_2204, "ubuntu-2404.yaml": WEB},
                         retired=[RETIRE_2204])
    assert problems == [
        "Pulumi.dev.yaml: golden-images:retired[0].flavour: flavour 'ubuntu-2204' is built in this stack "
        "(image_flavours/ubuntu-2204.yaml), so it is not retired: remove this entry; list it in "
        "golden-images:azure.adopt so its retained gallery image definition is imported instead of created"]


def test_an_aws_only_stack_is_not_told_to_adopt(tmp_path):
    problems = _problems(tmp_path, {"ubuntu-2204.yaml": UBUNTU_2204, "ubuntu-2404.yaml": WEB},
                         retired=[RETIRE_2204], clouds=["aws"])
    assert problems == [
        "Pulumi.dev.yaml: golden-images:retired[0].flavour: flavour 'ubuntu-2204' is built in this stack "
        "(image_flavours/ubuntu-2204.yaml), so it is not retired: remove this entry"]


def test_the_replacement_must_be_built_here_and_every_problem_is_listed_at_once(tmp_path):
    problems = _problems(tmp_path, {"ubuntu-2404.yaml": WEB},
                         retired=[{**RETIRE_2204, "replaced_by": "ubuntu-2044", "regions": ["eu-west-1"]}],
                         clouds=["azure"])
    assert sorted(problems) == [
        "Pulumi.dev.yaml: golden-images:retired[0].regions: the stack does not build on AWS: regions say where "
        "the flavour's SSM parameter is, which exists on AWS only",
        "Pulumi.dev.yaml: golden-images:retired[0].replaced_by: no flavour named 'ubuntu-2044' is built in this "
        "stack (did you mean 'ubuntu-2404'?) (built: ubuntu-2404)",
    ]


def test_adopting_a_flavour_the_stack_does_not_build_on_azure_is_refused(tmp_path):
    problems = _problems(tmp_path, {"ubuntu-2404.yaml": WEB},
                         azure={"location": "westeurope", "subscription_id": SUBSCRIPTION_ID,
                                "adopt": ["ubuntu-2204"]})
    assert problems == [
        "Pulumi.dev.yaml: golden-images:azure.adopt[0]: no flavour named 'ubuntu-2204' is built on Azure in this "
        "stack (did you mean 'ubuntu-2404'?) (built on Azure: ubuntu-2404); adopt a retained definition when its "
        "flavour comes back"]


@pytest.mark.parametrize("settings, message", [
    ({"adopt": ["ubuntu-2404"]},
     "golden-images:azure: adopt needs subscription_id: the import names each retained gallery image definition "
     "by its full resource id (/subscriptions/<id>/resourceGroups/...)"),
    ({"adopt": ["ubuntu-2404", "ubuntu-2404"], "subscription_id": SUBSCRIPTION_ID},
     "golden-images:azure.adopt: a flavour is listed twice"),
    ({"subscription_id": "8f2c6a1e"}, "golden-images:azure.subscription_id: "),
])
def test_adopt_settings_are_checked(tmp_path, settings, message):
    problems = _problems(tmp_path, {"ubuntu-2404.yaml": WEB}, azure={"location": "westeurope", **settings})
    assert len(problems) == 1 and problems[0].startswith(f"Pulumi.dev.yaml: {message}"), problems


@pytest.mark.parametrize("entry, message", [
    ({**RETIRE_2204, "ssm_parameter": "keep"}, "golden-images:retired[0].ssm_parameter: "),
    ({"flavour": "ubuntu-2204"}, "golden-images:retired[0].reason: "),
    ({**RETIRE_2204, "flavour": "Ubuntu 22.04"}, "golden-images:retired[0].flavour: "),
])
def test_retired_entries_are_checked(tmp_path, entry, message):
    problems = _problems(tmp_path, {"ubuntu-2404.yaml": WEB}, retired=[entry])
    assert len(problems) == 1 and problems[0].startswith(f"Pulumi.dev.yaml: {message}"), problems


def test_a_flavour_retired_twice_is_refused(tmp_path):
    problems = _problems(tmp_path, {"ubuntu-2404.yaml": WEB}, retired=[RETIRE_2204, RETIRE_2204])
    assert problems == ["Pulumi.dev.yaml: golden-images:retired: ubuntu-2204 listed twice"]


def test_a_fitting_retirement_and_adoption_resolve(tmp_path):
    stack = _resolves(tmp_path, {"ubuntu-2404.yaml": WEB}, retired=[RETIRE_2204],
                      azure={"location": "westeurope", "subscription_id": SUBSCRIPTION_ID, "adopt": ["ubuntu-2404"]})
    assert [e.flavour for e in stack.settings.retired] == ["ubuntu-2204"]
    assert stack.azure is not None and stack.azure.adopt == ["ubuntu-2404"]


def test_make_plan_exits_2_registers_nothing_and_writes_no_plan(project, capsys):
    from components.plan import USER_ERROR, main

    project.write_flavour("ubuntu-2204.yaml", UBUNTU_2204)
    text = (project.root / "Pulumi.dev.yaml").read_text()
    (project.root / "Pulumi.dev.yaml").write_text(text + (
        "  golden-images:retired:\n"
        "    - flavour: ubuntu-2204\n"
        "      reason: Ubuntu 22.04 leaves standard support in April 2027\n"
        "      replaced_by: ubuntu-2404\n"))
    out = project.root / "build" / "plan" / "dev.json"
    out.parent.mkdir(parents=True)
    out.write_text("{}")  # a stale plan of an earlier run
    assert main(["--stack", "dev", "--root", str(project.root), "--quiet"]) == USER_ERROR
    err = capsys.readouterr().err
    assert ("Pulumi.dev.yaml: golden-images:retired[0].flavour: flavour 'ubuntu-2204' is built in this stack "
            "(image_flavours/ubuntu-2204.yaml), so it is not retired") in err
    assert "nothing was created" in err and "Traceback" not in err
    assert not out.exists()
