"""A retired flavour's SSM parameters on AWS (golden-images:retired): taken over and marked
deprecated, or deleted, as the provider receives them."""
from __future__ import annotations

import pytest

from components.model.settings import AwsSettings, RetiredFlavour
from tests.conftest import ProjectCopy
from tests.samples import RETIRE_2204

PARAMETER = "aws:ssm/parameter:Parameter"
COMMAND = "command:local:Command"
RETIRED = "golden-images:aws:RetiredFlavour"


def _retiring(root, stack: str, **entry):
    """The stack's plan with ubuntu-2204 (no longer in image_flavours/) retired."""
    project = ProjectCopy(root)
    config = project.config(stack)
    config["golden-images:retired"] = [{**RETIRE_2204, **entry}]
    return project.plan(stack, config)


@pytest.fixture(scope="module")
def deprecated(tmp_path_factory):
    """prod (three distribution regions) after ubuntu-2204 was removed and retired."""
    return _retiring(tmp_path_factory.mktemp("deprecate"), "prod")


@pytest.fixture(scope="module")
def deleted(tmp_path_factory):
    return _retiring(tmp_path_factory.mktemp("delete"), "dev", ssm_parameter="delete")


def test_each_region_s_parameter_is_taken_over_with_its_current_value_and_marked_deprecated(deprecated):
    parameters = {r.inputs["region"]: r for r in deprecated.of_type(PARAMETER)
                  if r.inputs.get("name") == "/golden-images/ubuntu-2204/latest"}
    # Image Builder wrote the parameter in every distribution region of the stack (Pulumi.prod.yaml).
    assert sorted(parameters) == ["eu-central-1", "eu-west-1", "us-east-1"]
    param = parameters["us-east-1"]
    # PutParameter refuses an existing name unless Overwrite is set; pulumi-aws 7.51.1's `overwrite`.
    assert param.inputs["overwrite"] is True
    # "You can't change a parameter to or from [aws:ec2:image]" (Parameter Store data types).
    assert param.inputs["dataType"] == "aws:ec2:image"
    assert param.inputs["type"] == "String"
    # The value it holds, read at deploy time (the mock engine's stand-in AMI for that name and region):
    # an aws:ec2:image value must be an AMI available in the account, validated asynchronously.
    from components.mocks import stable_guid

    assert "value" not in param.inputs  # pulumi-aws makes `value` secret; an AMI id is not one
    assert param.inputs["insecureValue"] == "ami-" + stable_guid("ssm", "/golden-images/ubuntu-2204/latest",
                                                         "us-east-1").replace("-", "")[:17]
    assert param.inputs["description"] == (
        "DEPRECATED: flavour ubuntu-2204 is retired: Ubuntu 22.04 leaves standard support in April 2027. Use "
        "/golden-images/ubuntu-2404/latest (flavour ubuntu-2404) instead. This parameter keeps the last image "
        "built, which is no longer rebuilt or patched.")
    assert param.inputs["tags"] == {"environment": "prod", "owner": "platform-team",
                                    "golden-images:flavour": "ubuntu-2204", "golden-images:retired": "deprecated",
                                    "golden-images:replaced-by": "/golden-images/ubuntu-2404/latest"}
    # Never deleted by surprise: when the entry goes, the parameter stays.
    assert param.options["retainOnDelete"] is True
    [component] = [r for r in deprecated.resources if r.type == RETIRED]
    assert param.parent == component.urn and component.name == "ubuntu-2204"


def test_the_stack_output_says_what_became_of_the_retired_flavour(deprecated):
    assert deprecated.outputs["retired"] == {"ubuntu-2204": {
        "reason": "Ubuntu 22.04 leaves standard support in April 2027",
        "replaced_by": "ubuntu-2404",
        "aws": {"ssm_parameter": "deprecate",
                "ssm_parameters": {region: "/golden-images/ubuntu-2204/latest"
                                   for region in ("eu-west-1", "eu-central-1", "us-east-1")}},
        "azure": {"gallery_image_definition": "retained (list the flavour in golden-images:azure.adopt when it "
                                              "comes back)"},
    }}


def test_delete_runs_a_command_that_deletes_the_parameter_and_registers_no_parameter(deleted):
    assert not [r for r in deleted.of_type(PARAMETER) if "2204" in str(r.inputs.get("name"))]
    [command] = [r for r in deleted.of_type(COMMAND) if r.name == "ubuntu-2204-ssm-delete-eu-west-1"]
    assert command.inputs["create"] == (
        "aws ssm delete-parameter --region eu-west-1 --name /golden-images/ubuntu-2204/latest "
        "|| ! aws ssm get-parameter --region eu-west-1 --name /golden-images/ubuntu-2204/latest >/dev/null 2>&1")
    assert command.inputs["triggers"] == ["/golden-images/ubuntu-2204/latest", "eu-west-1"]


def test_the_delete_command_succeeds_only_when_the_parameter_is_gone(tmp_path):
    # The command, run with a stand-in `aws` on PATH: deleted now, gone before, or still there.
    import os
    import subprocess

    from components.aws.render import delete_parameter_command

    command = delete_parameter_command(RetiredFlavour(**RETIRE_2204), AwsSettings(region="eu-west-1"), "eu-west-1")
    fake = tmp_path / "aws"

    def run(delete_status: int, get_status: int) -> int:
        fake.write_text(f"#!/bin/sh\ncase \"$2\" in delete-parameter) exit {delete_status};; *) exit {get_status};; esac\n")
        fake.chmod(0o755)
        env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
        return subprocess.run(["sh", "-c", command], env=env).returncode

    assert run(0, 0) == 0  # deleted now
    assert run(254, 254) == 0  # ParameterNotFound: already gone
    assert run(254, 0) != 0  # the delete failed (no permission) and the parameter is still there


def test_a_retired_flavour_s_regions_replace_the_stack_s(tmp_path):
    plan = _retiring(tmp_path, "dev", regions=["eu-north-1", "ca-central-1"])
    regions = sorted(r.inputs["region"] for r in plan.of_type(PARAMETER)
                     if r.inputs.get("name") == "/golden-images/ubuntu-2204/latest")
    assert regions == ["ca-central-1", "eu-north-1"]


def test_a_long_reason_is_cut_to_ssm_s_description_limit():
    from components.aws.render import deprecation_description

    entry = RetiredFlavour(flavour="ubuntu-2204", reason="x" * 300, replaced_by="ubuntu-2404")
    text = deprecation_description(entry, AwsSettings(region="eu-west-1", ssm_parameter_prefix="/p" * 300))
    # PutParameter: Description, at most 1024 characters.
    assert len(text) == 1024 and text.endswith("...")


def test_the_plan_summary_lists_the_retired_flavour_and_its_parameters(deprecated, deleted):
    from components.plan import summary

    lines = summary(deprecated).splitlines()
    assert "  ubuntu-2204: Ubuntu 22.04 leaves standard support in April 2027; replaced by ubuntu-2404" in lines
    assert ("    aws us-east-1: SSM parameter /golden-images/ubuntu-2204/latest taken over and marked deprecated, "
            "its value (the last image) kept") in lines
    assert "    aws eu-west-1: SSM parameter /golden-images/ubuntu-2204/latest deleted" in summary(deleted).splitlines()
