"""Image recipes: components in order, parent image, volumes, content-derived names."""
from __future__ import annotations

import pytest

from components.aws import render
from tests.aws.samples import (
    KEY,
    PREFIX,
    RESOURCE_NAME,
    UBUNTU_SSM,
    WINDOWS_SSM,
    make_flavour,
    plan_of,
    prepared,
)


class TestNames:
    def test_recipe_name_follows_content_not_version(self, catalogue):
        flavour = make_flavour()
        entries = render.recipe_entries(prepared(flavour, catalogue), prefix=PREFIX, region="eu-west-1", key=KEY)
        name = render.recipe_name(flavour, entries, prefix=PREFIX, key=KEY)
        bumped = make_flavour(version="1.2.4")
        assert render.recipe_name(bumped, entries, prefix=PREFIX, key=KEY) == name
        bigger = make_flavour(build={"disk_size_gb": 64})
        assert render.recipe_name(bigger, entries, prefix=PREFIX, key=KEY) != name
        described = make_flavour(description="another description")
        assert render.recipe_name(described, entries, prefix=PREFIX, key=KEY) != name
        other_key = render.KmsKey(identity="arn:aws:kms:eu-west-1:123456789012:key/mrk-other", arns=KEY.arns)
        assert render.recipe_name(flavour, entries, prefix=PREFIX, key=other_key) != name
        other = render.recipe_entries(prepared(make_flavour(steps=[{"os-updates": {"exclude": ["vim"]}}]), catalogue),
                                      prefix=PREFIX, region="eu-west-1", key=KEY)
        assert render.recipe_name(flavour, other, prefix=PREFIX, key=KEY) != name
        assert RESOURCE_NAME.match(name)


class TestRecipe:
    def test_recipe_request(self, catalogue):
        flavour = make_flavour()
        entries = render.recipe_entries(prepared(flavour, catalogue), prefix=PREFIX, region="eu-west-1", key=KEY)
        args = render.recipe_args(flavour, plan_of(flavour, entries), ["arn:component"], region="eu-west-1", key=KEY,
                                  tags={"a": "b"})
        assert args["version"] == "1.2.3"
        assert args["parent_image"] == UBUNTU_SSM
        assert args["components"] == [{"component_arn": "arn:component"}]
        assert args["working_directory"] == "/var/tmp"
        assert args["block_device_mappings"] == [{"device_name": "/dev/sda1", "ebs": {
            "encrypted": "true", "delete_on_termination": "true", "volume_type": "gp3", "volume_size": 30,
            "kms_key_id": KEY.arns["eu-west-1"]}}]

    def test_at_most_twenty_components(self):
        entries = [render.RecipeEntry(managed_arn=f"arn:{i}") for i in range(21)]
        with pytest.raises(render.RenderError, match="21 Image Builder components, a recipe takes at most 20"):
            flavour = make_flavour()
            render.recipe_args(flavour, plan_of(flavour, entries), [e.managed_arn for e in entries],
                               region="eu-west-1", key=KEY, tags={})

    def test_root_volume_size_and_device_follow_the_flavour(self):
        windows = make_flavour(os="windows", base_image={"aws": WINDOWS_SSM})
        assert windows.machine.disk_size("windows") == 128
        assert render.root_device_name(windows) == "/dev/sda1"
        amazon = make_flavour(base_image={"aws": "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"},
                              build={"disk_size_gb": 50})
        args = render.recipe_args(amazon, plan_of(amazon, [render.RecipeEntry(managed_arn="arn:m")]), ["arn:m"],
                                  region="eu-west-1", key=KEY, tags={})
        assert args["block_device_mappings"][0]["device_name"] == "/dev/xvda"
        assert args["block_device_mappings"][0]["ebs"]["volume_size"] == 50

