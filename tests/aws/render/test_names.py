"""Names, ARNs and tags shared by every AWS resource."""
from __future__ import annotations

import pytest

from components.aws import render
from tests.aws.samples import (
    make_flavour,
)


class TestNames:
    def test_prefix_is_a_valid_name_part(self):
        assert render.name_prefix("Prod.EU_West 1") == "golden-images-prod-eu-west-1"
        assert len(render.name_prefix("x" * 100)) == len("golden-images-") + 16

    def test_partition_follows_the_region(self):
        assert render.managed_component_arn("update-linux", "cn-north-1").startswith("arn:aws-cn:imagebuilder:cn-north-1:aws:")
        assert render.managed_policy_arn("AmazonSSMManagedInstanceCore", "us-gov-west-1") == (
            "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore")



class TestTags:
    def test_flavour_tags(self):
        assert render.flavour_tags(make_flavour()) == {
            "environment": "dev", "team": "platform", "golden-images:flavour": "ubuntu-2404",
            "golden-images:version": "1.2.3"}
        assert render.flavour_tags(make_flavour(source_commit="abc123"))["golden-images:source-commit"] == "abc123"

    def test_tag_limit(self):
        flavour = make_flavour(tags={f"k{i}": "v" for i in range(48)})
        with pytest.raises(render.RenderError, match="51 tags, AWS takes at most 50"):
            render.flavour_tags(flavour)

