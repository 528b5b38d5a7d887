"""Distribution configurations: the AMI per region, encrypted, shared privately, findable in SSM."""
from __future__ import annotations

from typing import Any

from ...model.build import FlavourBuild
from ...model.errors import RenderError
from ...model.settings import AwsSettings
from .keys import KmsKey
from .names import TAG_LIMIT, checked_tags, flavour_resource_name

AMI_NAME_LIMIT = 127
AMI_DESCRIPTION_LIMIT = 255
# EC2 refuses fewer parallel launches when it pre-provisions Fast Launch snapshots.
FAST_LAUNCH_PARALLEL_LAUNCHES = 6


def ami_name(prefix: str, build: FlavourBuild) -> str:
    name = f"{prefix}-{build.name}-{build.version}-{{{{ imagebuilder:buildDate }}}}"
    if len(name) > AMI_NAME_LIMIT:
        raise RenderError(f"flavour '{build.name}': AMI name '{name}' is longer than {AMI_NAME_LIMIT} "
                          "characters; use a shorter flavour name, version or stack name")
    return name


def ssm_parameter_name(aws: AwsSettings, build: FlavourBuild) -> str:
    return parameter_name(aws, build.name)


def parameter_name(aws: AwsSettings, flavour: str) -> str:
    """The SSM parameter Image Builder writes a flavour's newest AMI id into, in every region."""
    return f"{aws.ssm_parameter_prefix}/{flavour}/latest"


def distribution_regions(build: FlavourBuild, aws: AwsSettings) -> list[str]:
    """The regions a flavour's AMIs are copied to: its own distribution's, else the stack's."""
    return build.aws_distribution.regions_of(aws)


def distribution_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, key: KmsKey, account_id: Any,
                      tags: dict[str, str]) -> dict[str, Any]:
    """CreateDistributionConfiguration: one entry per region, encrypted, shared privately, findable.

    Regions, target accounts and launch permissions are the flavour's own when it sets them
    (build.aws_distribution, account names resolved), else the stack's.
    """
    plan = build.aws_distribution
    sharing = plan.sharing_of(aws)
    regions = plan.regions_of(aws)
    targets = plan.targets_of(aws)
    launch_permission = {k: list(v) for k, v in (("user_ids", sharing.account_ids),
                                                  ("organization_arns", sharing.organization_arns),
                                                  ("organizational_unit_arns", sharing.organizational_unit_arns)) if v}
    distributions: list[dict[str, Any]] = []
    for region in regions:
        ami: dict[str, Any] = {
            "name": ami_name(prefix, build),
            # EC2 (CreateImage, RegisterImage) takes AMI descriptions of up to 255 characters;
            # Image Builder would accept 1024 and fail at distribution.
            "description": build.description[:AMI_DESCRIPTION_LIMIT],
            # Lineage: flavour, version, commit and what it was built from, on every AMI.
            "ami_tags": checked_tags({**tags, **build.lineage("aws")}, TAG_LIMIT, f"flavour '{build.name}' AMIs"),
            "kms_key_id": key.arn(region),
        }
        if targets:
            ami["target_account_ids"] = targets
        if launch_permission:
            ami["launch_permission"] = launch_permission
        entry: dict[str, Any] = {
            "region": region,
            "ami_distribution_configuration": ami,
            "ssm_parameter_configurations": [
                {"parameter_name": ssm_parameter_name(aws, build), "data_type": "aws:ec2:image"},
            ],
        }
        if build.os == "windows" and aws.fast_launch:
            entry["fast_launch_configurations"] = [{
                "enabled": True,
                "account_id": account_id,
                "max_parallel_launches": FAST_LAUNCH_PARALLEL_LAUNCHES,
                "snapshot_configuration": {"target_resource_count": aws.fast_launch_snapshots},
            }]
        distributions.append(entry)
    return {
        "name": flavour_resource_name(prefix, build),
        "description": f"Distribution of {build.name} to {', '.join(regions)}",
        "distributions": distributions,
        "tags": tags,
        "region": aws.region,
    }
