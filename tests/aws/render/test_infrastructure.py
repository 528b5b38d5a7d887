"""Infrastructure configurations: the build instance."""
from __future__ import annotations

import pytest

from components.aws import render
from tests.aws.samples import (
    PREFIX,
    WINDOWS_SSM,
    make_flavour,
    make_settings,
)


class TestInfrastructure:
    def test_defaults(self):
        settings = make_settings()
        args = render.infrastructure_args(make_flavour(), settings.aws, prefix=PREFIX, instance_profile_name="p",
                                          log_bucket="logs", topic_arn="t", tags={"k": "v"})
        assert args["instance_types"] == ["m6i.large"]
        assert args["instance_metadata_options"] == {"http_tokens": "required"}
        assert args["terminate_instance_on_failure"] is True
        assert args["logging"] == {"s3_logs": {"s3_bucket_name": "logs", "s3_key_prefix": "image-builder/ubuntu-2404"}}
        assert args["sns_topic_arn"] == "t" and args["instance_profile_name"] == "p"
        assert args["resource_tags"] == args["tags"] == {"k": "v"}
        assert "subnet_id" not in args and "security_group_ids" not in args

    def test_overrides(self):
        settings = make_settings(subnet_id="subnet-0123456789abcdef0", security_group_ids=["sg-0123456789abcdef0"],
                                 instance_types={"windows": ["m6i.xlarge"], "linux": ["t3.large"]})
        windows = make_flavour(os="windows", base_image={"aws": WINDOWS_SSM})
        args = render.infrastructure_args(windows, settings.aws, prefix=PREFIX, instance_profile_name="p",
                                          log_bucket="l", topic_arn="t", tags={})
        assert args["instance_types"] == ["m6i.xlarge"]
        assert args["subnet_id"] == "subnet-0123456789abcdef0"
        assert args["security_group_ids"] == ["sg-0123456789abcdef0"]
        own = make_flavour(build={"aws_instance_types": ["c7i.2xlarge"]})
        assert render.infrastructure_args(own, settings.aws, prefix=PREFIX, instance_profile_name="p",
                                          log_bucket="l", topic_arn="t", tags={})["instance_types"] == ["c7i.2xlarge"]

    def test_too_many_instance_tags(self):
        tags = {f"k{i}": "v" for i in range(31)}
        with pytest.raises(render.RenderError, match="at most 30"):
            render.infrastructure_args(make_flavour(), make_settings().aws, prefix=PREFIX, instance_profile_name="p",
                                       log_bucket="l", topic_arn="t", tags=tags)

