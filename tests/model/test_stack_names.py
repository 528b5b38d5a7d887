"""Names and numbers the clouds would refuse or misread, refused here with the file and field.

Facts: Systems Manager parameter names "can't be prefixed with aws or ssm (case-insensitive)"
(PutParameter); a Windows exit code is a 32-bit DWORD (GetExitCodeProcess), which
PowerShell's $LASTEXITCODE, an Int32, reports signed; a Linux parent sees only the low
8 bits of a child's exit status (wait(2), WEXITSTATUS), so 0-255; Image Builder names, IAM role names and Azure names are cut to the
clouds' limits (components/aws/render/names.py, components/azure/render/names.py).
"""
from __future__ import annotations

import pytest

from components.plan import UserError
from tests.flavour_folders import UBUNTU, WINDOWS, folder_with, planned_refusal, refused
from tests.samples import stack_config as settings


@pytest.mark.parametrize("prefix", ["/aws/golden", "/AWS", "/ssm/images", "/SsmImages", "/awsImages"])
def test_a_reserved_ssm_prefix_is_refused_at_its_setting(tmp_path, prefix):
    config = settings(aws={"region": "eu-west-1", "ssm_parameter_prefix": prefix})
    found = refused(tmp_path, {"web.yaml": UBUNTU}, config)
    assert len(found) == 1 and found[0].startswith("Pulumi.dev.yaml: golden-images:aws.ssm_parameter_prefix: "), found
    assert "AWS reserves for its own parameters" in found[0]


@pytest.mark.parametrize("prefix", ["/golden-images", "/platform/aws", "/awx", "/images/ssm"])
def test_other_prefixes_are_accepted(tmp_path, prefix):
    from components.model.loader import load_inputs

    config = settings(aws={"region": "eu-west-1", "ssm_parameter_prefix": prefix})
    inputs = load_inputs(config, "Pulumi.dev.yaml", folder_with(tmp_path, {"web.yaml": UBUNTU}), tmp_path)
    assert inputs.settings.aws.ssm_parameter_prefix == prefix


def test_linux_exit_codes_beyond_255_are_refused_with_the_reason(tmp_path):
    text = UBUNTU.replace("  - os-updates\n", "  - os-updates:\n    options: {valid_exit_codes: [0, 255, 256, -1]}\n")
    found = refused(tmp_path, {"web.yaml": text})
    assert found == [
        "image_flavours/web.yaml: steps[0].options.valid_exit_codes[2]: 256 is out of range: a Linux process exits "
        "with 0 to 255 (the kernel keeps the low 8 bits), so this code never comes back",
        "image_flavours/web.yaml: steps[0].options.valid_exit_codes[3]: -1 is out of range: a Linux process exits "
        "with 0 to 255 (the kernel keeps the low 8 bits), so this code never comes back",
    ]


def test_windows_exit_codes_are_32_bit_as_powershell_reports_them(tmp_path):
    # $LASTEXITCODE is an Int32: an access violation (0xC0000005 = 3221225477) arrives as -1073741819.
    text = WINDOWS + ("  - dotnet-framework-48:\n    options: {valid_exit_codes: "
                      "[0, 3010, -1073741819, 2147483647, 3221225477, 4294967296]}\n")
    found = refused(tmp_path, {"win.yaml": text})
    assert found == [
        "image_flavours/win.yaml: steps[0].options.valid_exit_codes[4]: 3221225477 is out of range: PowerShell "
        "reports Windows exit codes as signed 32-bit numbers, so this one arrives as -1073741819; write that instead",
        "image_flavours/win.yaml: steps[0].options.valid_exit_codes[5]: 4294967296 is out of range: Windows exit "
        "codes are 32-bit (-2147483648 to 2147483647 as PowerShell reports them)",
    ]


def test_a_flavour_this_stack_builds_on_no_cloud_is_refused_naming_its_clouds(tmp_path):
    text = UBUNTU.replace("steps:\n", "clouds: [azure]\nsteps:\n")
    found = refused(tmp_path, {"web.yaml": text}, settings(clouds=["aws"]))
    assert found == [
        "image_flavours/web.yaml: clouds: this flavour is built on azure, and this stack builds on aws only, so it "
        "would build nothing here; add a cloud of this stack, or leave the flavour out of the stack's "
        "golden-images:flavours"]


def test_a_flavour_left_out_of_the_selection_may_name_other_clouds(tmp_path):
    from components.model.loader import load_inputs

    files = {"web.yaml": UBUNTU, "other.yaml": UBUNTU.replace("name: web", "name: other")
             .replace("steps:\n", "clouds: [azure]\nsteps:\n")}
    config = settings(clouds=["aws"], flavours=["web"])
    inputs = load_inputs(config, "Pulumi.dev.yaml", folder_with(tmp_path, files), tmp_path)
    assert [item.flavour.name for item in inputs.flavours] == ["web"]


def _add_stack(project, name: str, text: str) -> None:
    (project.root / f"Pulumi.{name}.yaml").write_text(text)


def test_two_stacks_whose_aws_prefix_is_cut_equal_are_refused_naming_both_files(project, capsys):
    # "golden-images-<slug cut to 16>": platform-images-blue and platform-images-green share it.
    dev = (project.root / "Pulumi.dev.yaml").read_text()
    (project.root / "Pulumi.dev.yaml").unlink()
    _add_stack(project, "platform-images-blue", dev)
    _add_stack(project, "platform-images-green", dev)
    with pytest.raises(UserError) as caught:
        project.plan("platform-images-blue", config=project.config("platform-images-blue"))
    message = str(caught.value)
    assert caught.value.registered == []
    assert ("Pulumi.platform-images-blue.yaml: golden-images:aws: the AWS name prefix (IAM roles, Image Builder "
            "objects) 'golden-images-platform-images' is also stack 'platform-images-green''s "
            "(Pulumi.platform-images-green.yaml)") in message
    # The Azure names are not cut at this length: only the AWS prefix collides.
    assert "Azure" not in message


def test_two_stacks_sharing_an_azure_gallery_name_are_refused(project, capsys):
    dev = (project.root / "Pulumi.dev.yaml").read_text()
    _add_stack(project, "dev2", dev.replace("  golden-images:azure:\n    location: westeurope\n",
                                            "  golden-images:azure:\n    location: westeurope\n"
                                            "    gallery_name: golden_images_dev\n"))
    status, err = planned_refusal(project, capsys)
    assert status == 2 and "Traceback" not in err
    assert ("Pulumi.dev.yaml: golden-images:azure.gallery_name: the Azure compute gallery 'golden_images_dev' is "
            "also stack 'dev2''s (Pulumi.dev2.yaml)") in err

