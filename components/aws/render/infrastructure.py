"""Infrastructure configurations: where and how the build and test instances run."""
from __future__ import annotations

from typing import Any

from ...model.build import FlavourBuild
from ...model.settings import AwsSettings
from .names import LOG_PREFIX, RESOURCE_TAG_LIMIT, checked_tags, flavour_resource_name


def instance_types(build: FlavourBuild, aws: AwsSettings) -> list[str]:
    return list(build.machine.instance_types or getattr(aws.instance_types, build.os))


def infrastructure_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, instance_profile_name: Any,
                        log_bucket: Any, topic_arn: Any, tags: dict[str, str]) -> dict[str, Any]:
    """CreateInfrastructureConfiguration: where and how the build and test instances run."""
    args: dict[str, Any] = {
        "name": flavour_resource_name(prefix, build),
        "description": f"Build and test instances of {build.name}",
        "instance_types": instance_types(build, aws),
        "instance_profile_name": instance_profile_name,
        "instance_metadata_options": {"http_tokens": "required"},
        "terminate_instance_on_failure": True,
        "logging": {"s3_logs": {"s3_bucket_name": log_bucket, "s3_key_prefix": f"{LOG_PREFIX}/{build.name}"}},
        "sns_topic_arn": topic_arn,
        "resource_tags": checked_tags(dict(tags), RESOURCE_TAG_LIMIT, f"flavour '{build.name}' build instances"),
        "tags": tags,
        "region": aws.region,
    }
    if aws.subnet_id:
        args["subnet_id"] = aws.subnet_id
    if aws.security_group_ids:
        args["security_group_ids"] = list(aws.security_group_ids)
    return args
