"""Distribution configurations: where each AMI goes, encrypted and tagged with its lineage."""
from __future__ import annotations

import json

from components.aws import render
from components.model.flavour import Flavour
from tests.aws.samples import (
    AMI_NAME,
    FULL_CATALOGUE,
    KEY,
    PREFIX,
    UBUNTU_SSM,
    WINDOWS_SSM,
    make_flavour,
    make_settings,
)
from tests.builds import build_of


class TestDistribution:
    def test_one_entry_per_region_encrypted_and_private(self):
        settings = make_settings(
            distribution_regions=["eu-west-1", "us-east-1"], target_account_ids=["210987654321"],
            launch_permissions={"account_ids": ["345678901234"],
                                "organization_arns": ["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"]},
            ssm_parameter_prefix="/images/dev")
        args = render.distribution_args(make_flavour(), settings.aws, prefix=PREFIX, key=KEY, account_id="123456789012",
                                        tags={"t": "v"})
        assert [d["region"] for d in args["distributions"]] == ["eu-west-1", "us-east-1"]
        for entry in args["distributions"]:
            ami = entry["ami_distribution_configuration"]
            assert ami["kms_key_id"] == KEY.arns[entry["region"]]
            assert ami["name"] == f"{PREFIX}-ubuntu-2404-1.2.3-{{{{ imagebuilder:buildDate }}}}"
            assert AMI_NAME.match(ami["name"]) and len(ami["name"]) <= 127
            assert ami["target_account_ids"] == ["210987654321"]
            assert ami["launch_permission"] == {
                "user_ids": ["345678901234"],
                "organization_arns": ["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"]}
            assert {k: v for k, v in ami["ami_tags"].items() if not k.startswith("golden-images:")} == {"t": "v"}
            assert entry["ssm_parameter_configurations"] == [
                {"parameter_name": "/images/dev/ubuntu-2404/latest", "data_type": "aws:ec2:image"}]
            assert "fast_launch_configurations" not in entry  # Linux

    def test_ami_description_fits_ec2(self):
        flavour = make_flavour(description="x" * 1000)
        args = render.distribution_args(flavour, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1", tags={})
        assert args["distributions"][0]["ami_distribution_configuration"]["description"] == "x" * 255

    def test_never_public(self):
        args = render.distribution_args(make_flavour(), make_settings().aws, prefix=PREFIX, key=KEY, account_id="1",
                                        tags={})
        ami = args["distributions"][0]["ami_distribution_configuration"]
        assert "launch_permission" not in ami and "target_account_ids" not in ami
        assert "user_groups" not in json.dumps(args)

    def test_fast_launch_for_windows_when_enabled(self):
        windows = make_flavour(os="windows", base_image={"aws": WINDOWS_SSM})
        off = render.distribution_args(windows, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1", tags={})
        assert "fast_launch_configurations" not in off["distributions"][0]
        on = render.distribution_args(windows, make_settings(fast_launch=True, fast_launch_snapshots=8).aws,
                                      prefix=PREFIX, key=KEY, account_id="123456789012", tags={})
        assert on["distributions"][0]["fast_launch_configurations"] == [{
            "enabled": True, "account_id": "123456789012", "max_parallel_launches": 6,
            "snapshot_configuration": {"target_resource_count": 8}}]



class TestLineage:
    """Every AMI says what it was built from (flavour, version, commit, parent), so any consumer can trace it."""

    def test_amis_carry_flavour_version_commit_and_parent(self):
        flavour = make_flavour(source_commit="0123456789abcdef0123456789abcdef01234567")
        args = render.distribution_args(flavour, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1",
                                        tags=render.flavour_tags(flavour))
        tags = args["distributions"][0]["ami_distribution_configuration"]["ami_tags"]
        assert tags["golden-images:flavour"] == "ubuntu-2404" and tags["golden-images:version"] == "1.2.3"
        assert tags["golden-images:source-commit"] == "0123456789abcdef0123456789abcdef01234567"
        assert tags["golden-images:built-from"] == UBUNTU_SSM
        assert "golden-images:base-flavour" not in tags

    def test_a_layers_amis_name_the_base_flavour(self):
        base = make_flavour()
        layer = build_of(Flavour.model_validate({
            "name": "web", "description": "web on ubuntu", "version": "2.0.0", "os": "linux",
            "base_image": {"flavour": "ubuntu-2404"}, "steps": ["os-updates"]}), make_settings(), FULL_CATALOGUE, base=base)
        args = render.distribution_args(layer, make_settings().aws, prefix=PREFIX, key=KEY, account_id="1", tags={})
        tags = args["distributions"][0]["ami_distribution_configuration"]["ami_tags"]
        assert tags["golden-images:built-from"] == "flavour:ubuntu-2404"
        assert tags["golden-images:base-flavour"] == "ubuntu-2404"
