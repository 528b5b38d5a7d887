"""Flavour-level reach: disks, base images, per-flavour settings, accounts, versions, conditions."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.model.build import make_builds
from components.model.errors import ValidationFailed
from components.model.flavour import Flavour
from components.model.loader import load_inputs
from components.model.settings import parse_settings
from tests.samples import stack_config as settings
from tests.samples import ubuntu_flavour

GOOD = ubuntu_flavour() + "  - os-updates\n"
ACCOUNTS = {"shared-services": "111122223333", "workloads-prod": "444455556666"}


def write(tmp_path: Path, files: dict) -> Path:
    folder = tmp_path / "image_flavours"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    for stack in ("dev", "prod"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    return folder


def load(tmp_path: Path, files: dict, config=None):
    folder = write(tmp_path, files)
    return load_inputs(config or settings(), "Pulumi.dev.yaml", folder, tmp_path)


def problems(tmp_path: Path, files: dict, config=None) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        load(tmp_path, files, config)
    return [str(p) for p in caught.value.problems]


def flavour(**fields) -> Flavour:
    data = {"name": "web", "description": "d", "version": "1.0.0", "os": "linux",
            "base_image": {"aws": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"},
            "steps": ["os-updates"]}
    data.update(fields)
    return Flavour.model_validate(data)


# Accounts --------------------------------------------------------------------------------


def test_account_names_resolve_to_ids_in_stack_settings():
    raw = settings(accounts=ACCOUNTS, aws={"region": "eu-west-1", "target_account_ids": ["workloads-prod"],
                                           "launch_permissions": {"account_ids": ["shared-services", "999988887777"]}})
    parsed = parse_settings(raw, "Pulumi.dev.yaml")
    assert parsed.aws.target_account_ids == ["444455556666"]
    assert parsed.aws.launch_permissions.account_ids == ["111122223333", "999988887777"]


def test_unknown_account_name_lists_the_known_ones_and_every_bad_entry():
    raw = settings(accounts=ACCOUNTS, aws={"region": "eu-west-1", "target_account_ids": ["workload-prod", "nobody"]})
    with pytest.raises(ValidationFailed) as caught:
        parse_settings(raw, "Pulumi.dev.yaml")
    found = [str(p) for p in caught.value.problems]
    assert found == [
        "Pulumi.dev.yaml: golden-images:aws.target_account_ids[0]: unknown account name 'workload-prod' "
        "(did you mean 'workloads-prod'?) (known: shared-services, workloads-prod)",
        "Pulumi.dev.yaml: golden-images:aws.target_account_ids[1]: unknown account name 'nobody' "
        "(known: shared-services, workloads-prod)",
    ]


def test_an_account_name_is_not_told_to_quote_it_but_a_number_is():
    raw = settings(aws={"region": "eu-west-1", "target_account_ids": ["Bad Name", 11112222333]})
    with pytest.raises(ValidationFailed) as caught:
        parse_settings(raw, "Pulumi.dev.yaml")
    # Each bad entry is its own problem, at its own index.
    first, second = caught.value.problems
    assert first.path.endswith("target_account_ids[0]") and second.path.endswith("target_account_ids[1]")
    assert "'Bad Name': not a 12-digit AWS account id or an account name" in first.message
    assert "quote" not in first.message
    assert 'quote it in YAML ("011112222333")' in second.message


# Disks -----------------------------------------------------------------------------------


def test_root_volume_limits_follow_ebs():
    with pytest.raises(ValueError, match="gp3 iops must be 3000-16000, got 20000"):
        flavour(build={"aws": {"root_volume": {"type": "gp3", "iops": 20000}}})
    with pytest.raises(ValueError, match="io2 needs iops"):
        flavour(build={"aws": {"root_volume": {"type": "io2"}}})
    with pytest.raises(ValueError, match="gp2 takes neither iops nor throughput"):
        flavour(build={"aws": {"volumes": [{"device_name": "/dev/sdf", "size_gb": 10, "type": "gp2", "throughput": 200}]}})
    with pytest.raises(ValueError, match="a volume needs size_gb, snapshot_id or both"):
        flavour(build={"aws": {"volumes": [{"device_name": "/dev/sdf"}]}})


def test_azure_data_disks_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="vmProfile has no data disks"):
        flavour(build={"azure": {"data_disks": [{"size_gb": 64}]}})


def test_a_10_gb_root_is_accepted_on_aws_for_an_amazon_linux_parent(tmp_path):
    text = GOOD.replace("  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}\n", "")
    text = text.replace("ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
                        "ssm:/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-x86_64-gp2")
    text += "clouds: [aws]\nbuild:\n  disk_size_gb: 10\n"
    inputs = load(tmp_path, {"node.yaml": text})
    assert inputs.flavours[0].flavour.build.disk_size_on("aws", "linux") == 10


def test_a_root_smaller_than_the_parent_is_refused_per_cloud(tmp_path):
    found = problems(tmp_path, {"web.yaml": GOOD + "build:\n  disk_size_gb: 6\n"})
    assert "image_flavours/web.yaml: build.disk_size_gb: 6 GB is smaller than the 8 GB root of its parent " \
           "(ubuntu) on aws; the build fails on a root smaller than its parent's" in found
    # Azure's Ubuntu images ship 30 GB OS disks.
    assert any(p.startswith("image_flavours/web.yaml: build.disk_size_gb: 6 GB is smaller than the 30 GB root of "
                            "Azure's ubuntu-24_04-lts image on azure") for p in found)


# Base images -----------------------------------------------------------------------------


def test_regional_parents_need_the_build_region(tmp_path):
    text = GOOD.replace(
        "  aws: ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id\n",
        "  aws:\n    regions:\n      us-east-1: arn:aws:imagebuilder:us-east-1:111122223333:image/team-base/x.x.x\n")
    assert problems(tmp_path, {"web.yaml": text}) == [
        "image_flavours/web.yaml: base_image.aws.regions: no parent image for eu-west-1, where this stack builds "
        "(given for us-east-1)"]


def test_ami_filter_owners_are_checked():
    with pytest.raises(ValueError, match="'12345': an owner is a 12-digit account id"):
        flavour(base_image={"aws": {"owners": ["12345"], "name": "CIS Amazon Linux 2*"}})
    assert flavour(base_image={"aws": {"owners": ["679593333241"], "name": "CIS Amazon Linux 2*"}}).base_image.aws.owners \
        == ["679593333241"]


def test_azure_source_is_a_marketplace_image_or_a_gallery_version():
    version_id = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                  "Microsoft.Compute/galleries/team/images/windows-base/versions/latest")
    with pytest.raises(ValueError, match="is the whole source; remove sku"):
        flavour(base_image={"azure": {"image_version_id": version_id, "sku": "x"}})
    with pytest.raises(ValueError, match=r"needs publisher, offer and sku \(missing sku\)"):
        flavour(base_image={"azure": {"publisher": "p", "offer": "o"}})


def test_a_gallery_version_source_states_its_generation(tmp_path):
    version_id = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                  "Microsoft.Compute/galleries/team/images/linux-base/versions/latest")
    text = GOOD.replace("  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}\n",
                        f"  azure: {{image_version_id: '{version_id}'}}\n")
    assert "image_flavours/web.yaml: gallery.hyper_v_generation: required with base_image.azure.image_version_id: " \
           "the gallery image definition must match that image's generation (V1 or V2), which its id does not tell" \
           in problems(tmp_path, {"web.yaml": text})


def test_windows_11_and_azure_edition_are_gen2():
    from components.model.flavour import AzureImageRef

    def generation(offer, sku):
        return AzureImageRef(publisher="MicrosoftWindowsDesktop", offer=offer, sku=sku).hyper_v_generation

    # Windows 11 is Gen2-only (UEFI, Secure Boot, vTPM): its SKUs have no -g2 suffix.
    assert generation("windows-11", "win11-24h2-avd") == "V2"
    assert generation("office-365", "win11-24h2-avd-m365") == "V2"
    assert generation("WindowsServer", "2022-datacenter-azure-edition") == "V2"
    assert generation("WindowsServer", "2022-datacenter-core") == "V1"
    assert generation("windows-10", "win10-22h2-avd") == "V1"


def test_trusted_launch_needs_gen2():
    with pytest.raises(ValueError, match="security_type TrustedLaunch needs hyper_v_generation V2"):
        flavour(gallery={"hyper_v_generation": "V1", "security_type": "TrustedLaunch"})


# Per-flavour settings ---------------------------------------------------------------------


def test_schedule_off_needs_a_reason_and_none_is_explained():
    with pytest.raises(ValueError, match="reason"):
        flavour(schedule={"enabled": False})
    with pytest.raises(ValueError, match=r"turn scheduled rebuilds off with \{enabled: false, reason"):
        flavour(schedule="none")


def test_tests_off_needs_a_reason():
    with pytest.raises(ValueError, match="enabled: false needs a reason"):
        flavour(tests={"enabled": False})


def test_flavour_schedule_and_distribution_reach_the_build(tmp_path):
    text = GOOD + ("schedule: {every: month, on: 3, at: '05:00', timezone: UTC}\n"
                   "distribution:\n  aws:\n    regions: [eu-west-1, eu-central-1]\n"
                   "    launch_permissions: {accounts: [workloads-prod]}\n")
    config = settings(accounts=ACCOUNTS, aws={"region": "eu-west-1",
                                              "launch_permissions": {"account_ids": ["workloads-prod", "shared-services"]}})
    inputs = load(tmp_path, {"web.yaml": text}, config)
    (build,) = make_builds(inputs.flavours, inputs.settings, inputs.catalogue)
    assert build.schedule.describe() == "on day 3 of every month at 05:00 UTC"
    assert build.aws_distribution.regions == ("eu-west-1", "eu-central-1")
    assert build.aws_distribution.launch_permissions.account_ids == ["444455556666"]


def test_a_flavour_shares_only_with_accounts_the_stack_allows(tmp_path):
    text = GOOD + "distribution:\n  aws:\n    target_accounts: [shared-services, sharde-services]\n"
    found = problems(tmp_path, {"web.yaml": text}, settings(accounts=ACCOUNTS))
    assert found == [
        "image_flavours/web.yaml: distribution.aws.target_accounts[0]: 'shared-services' (111122223333) is not in "
        "golden-images:aws.target_account_ids; a flavour shares only with accounts the stack allows (the reviewed "
        "list the guardrails enforce)",
        "image_flavours/web.yaml: distribution.aws.target_accounts[1]: unknown account name 'sharde-services' "
        "(did you mean 'shared-services'?) (known: shared-services, workloads-prod)",
    ]


def test_no_schedule_and_no_tests_tag_the_resources(tmp_path):
    text = GOOD + ("schedule: {enabled: false, reason: built before each EKS upgrade}\n"
                   "tests: {enabled: false, reason: tested by the cluster conformance suite}\n")
    inputs = load(tmp_path, {"web.yaml": text})
    (build,) = make_builds(inputs.flavours, inputs.settings, inputs.catalogue)
    assert build.schedule is None
    assert build.tags["golden-images:no-schedule"] == "built before each EKS upgrade"
    assert build.tags["golden-images:no-image-tests"] == "tested by the cluster conformance suite"


# Versions ----------------------------------------------------------------------------------


VERSIONS = "versions:\n  dotnet: '10.0'\n  ubuntu-packages: jq\n"


def test_versions_map_fills_step_parameters(tmp_path):
    text = ubuntu_flavour() + "  - os-updates\n  - linux-packages:\n      packages: [curl, '${versions.ubuntu-packages}']\n"
    inputs = load(tmp_path, {"web.yaml": text, "versions.yaml": VERSIONS})
    item = inputs.flavours[0]
    assert item.flavour.steps[1].params["packages"] == ["curl", "jq"]
    assert item.versions == (("ubuntu-packages", "jq"),)


def test_unknown_version_names_the_field(tmp_path):
    text = ubuntu_flavour() + "  - os-updates\n  - linux-packages:\n      packages: ['${versions.ubuntu-pakages}']\n"
    assert problems(tmp_path, {"web.yaml": text, "versions.yaml": VERSIONS}) == [
        "image_flavours/web.yaml: steps[1].linux-packages.packages[0]: unknown version 'ubuntu-pakages' "
        "(did you mean 'ubuntu-packages'?) (versions.yaml knows: dotnet, ubuntu-packages)"]


def test_unquoted_version_pin_is_refused(tmp_path):
    found = problems(tmp_path, {"web.yaml": GOOD, "versions.yaml": "versions:\n  dotnet: 8.10\n"})
    assert found == ["image_flavours/versions.yaml: versions.dotnet: 8.1 is read as a number; quote it (\"8.1\") "
                     "so that 8.10 stays 8.10"]


# Conditions ----------------------------------------------------------------------------------


def test_when_stack_and_flags_pick_steps(tmp_path):
    text = ubuntu_flavour() + ("  - os-updates\n  - linux-baseline:\n    when: {stack: [prod]}\n"
                               "  - datadog-agent:\n    when: {flags: {monitored: false}}\nflags: {monitored: true}\n")
    inputs = load(tmp_path, {"web.yaml": text})
    (dev,) = make_builds(inputs.flavours, inputs.settings, inputs.catalogue, stack="dev")
    (prod,) = make_builds(inputs.flavours, inputs.settings, inputs.catalogue, stack="prod")
    assert [u.name for u in dev.build_steps] == ["os-updates"]
    assert dev.skipped_steps == ("linux-baseline", "datadog-agent")
    assert [u.name for u in prod.build_steps] == ["os-updates", "linux-baseline"]


def test_unknown_condition_names_are_errors(tmp_path):
    text = ubuntu_flavour() + ("  - os-updates\n  - linux-baseline:\n    when: {stack: [prd], flags: {fips: true}}\n")
    found = problems(tmp_path, {"web.yaml": text})
    assert any("steps[1].when.flags.fips: unknown flag (known: none declared (add flags: {fips: true}))" in p
               for p in found)


def test_unknown_stack_in_when(tmp_path):
    text = ubuntu_flavour() + "  - os-updates\n  - linux-baseline:\n    when: {stack: prd}\n"
    assert problems(tmp_path, {"web.yaml": text}) == [
        "image_flavours/web.yaml: steps[1].when.stack: unknown stack 'prd' (did you mean 'prod'?) (known: dev, prod)"]


# Every problem in one run ---------------------------------------------------------------------


def test_step_problems_come_with_field_problems(tmp_path):
    text = ubuntu_flavour() + "  - os-updatez\n  - linux-packages: {pakages: [jq]}\nbuild: {disk_size_gb: lots}\n"
    found = problems(tmp_path, {"web.yaml": text})
    assert any(p.startswith("image_flavours/web.yaml: build.disk_size_gb:") for p in found)
    assert any(p.startswith("image_flavours/web.yaml: steps[0]: unknown step 'os-updatez'") for p in found)
    assert any(p.startswith("image_flavours/web.yaml: steps[1].linux-packages.pakages: unknown parameter") for p in found)


def test_options_indented_under_the_parameters_gets_a_hint(tmp_path):
    text = ubuntu_flavour() + "  - os-updates\n  - cloudwatch-agent:\n      options: {only_on: aws}\n"
    found = problems(tmp_path, {"web.yaml": text})
    assert any("'options' is indented under the step's parameters; write it at the step's level, aligned with "
               "'cloudwatch-agent:'" in p for p in found)


# Applications per stack -------------------------------------------------------------------------

APPS = """\
applications:
  - name: report-exporter
    owner: data-team
    os: linux
    needs: [package:jq]
  - name: jump-host
    owner: platform-team
    os: windows
    stacks: [prod]
"""


def test_an_application_is_checked_only_in_the_stacks_that_need_it(tmp_path):
    text = ubuntu_flavour() + "  - os-updates\n  - linux-packages: {packages: [jq]}\n"
    folder = write(tmp_path, {"web.yaml": text, "applications.yaml": APPS})
    inputs = load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path, stack="dev")
    assert inputs.applications["jump-host"]["served_by"] == []
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(), "Pulumi.prod.yaml", folder, tmp_path, stack="prod")
    assert [p.path for p in caught.value.problems] == ["applications[1]"]
    assert "application 'jump-host' (owner platform-team) is not served" in caught.value.problems[0].message


def test_a_digits_only_value_is_told_to_be_quoted(tmp_path):
    text = ubuntu_flavour() + "  - os-updates\n  - dotnet-runtime: {version: 10}\n"
    found = problems(tmp_path, {"web.yaml": text})
    assert any("steps[1].dotnet-runtime.version: must be a string, got the number 10; quote it in YAML (\"10\")" in p
               for p in found)
