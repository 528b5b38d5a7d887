"""What the day-two commands act on, read from the project model in this one module.

`load_targets(stack, root)` is the only place in components/daytwo that reads the
model (flavour files, stack settings) and the renderers' names; everything else
in the package depends on the frozen dataclasses below. The names come from the
same render functions the Pulumi program uses, so the commands find in the cloud
exactly what `pulumi up` created, without Pulumi state.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ..model.lineage import FLAVOUR as FLAVOUR_TAG

if TYPE_CHECKING:
    from ..builds import StackBuild
    from ..model.build import FlavourBuild

# A month is at most 31 days: a monthly schedule is stale only past that.
PERIOD_HOURS = {"day": 24, "week": 7 * 24, "month": 31 * 24}


class TargetError(Exception):
    """The stack or its flavours cannot be read; the message is the full report."""


@dataclass(frozen=True)
class AwsTarget:
    region: str  # where the pipeline builds
    regions: tuple  # where AMIs are distributed
    pipeline_name: str  # ListImagePipelines filter `name`
    ssm_parameters: tuple  # (region, parameter name) pairs, one per distribution region
    target_account_ids: tuple  # accounts AMIs are copied into besides the build account


@dataclass(frozen=True)
class AzureTarget:
    subscription_id: Optional[str]  # None: take AZURE_SUBSCRIPTION_ID when the command runs
    resource_group: str  # the factory's group: templates, gallery
    location: str
    template_prefix: str  # template names are `<flavour>-<content hash>`
    template_digest_length: int  # characters of that hash
    flavour_tag: tuple  # (key, value) every template of the flavour carries
    gallery: str
    image_definition: str
    replica_regions: tuple


@dataclass(frozen=True)
class Target:
    flavour: str
    version: str
    os: str
    clouds: tuple
    base: Optional[str]  # the flavour this one is layered on
    schedule_hours: int  # rebuild period: day 24, week 168, month 744
    schedule: str  # human description
    aws: Optional[AwsTarget] = None
    azure: Optional[AzureTarget] = None


def load_targets(stack: str, root: Path) -> list[Target]:
    """Every flavour the stack builds, bases before their layers, with its cloud names."""
    from ..builds import resolve_stack
    from ..model.errors import ValidationFailed
    from ..stack_file import UserError, stack_config

    try:
        config, source = stack_config(stack, root)
    except UserError as err:
        raise TargetError(str(err)) from None
    try:
        resolved = resolve_stack(config, source, stack, root)
    except ValidationFailed as failed:
        raise TargetError(failed.report()) from None
    subscription = config.get("azure-native:subscriptionId") or None
    return [_target(build, resolved, subscription) for build in resolved.builds]


def _target(build: FlavourBuild, resolved: StackBuild, subscription: Optional[str]) -> Target:
    aws_target = azure_target = None
    aws, aws_plan = resolved.aws, resolved.aws_plan
    if build.builds_on("aws") and aws is not None and aws_plan is not None:
        from ..aws import render as aws_render

        parameter = aws_render.ssm_parameter_name(aws, build)
        aws_target = AwsTarget(
            region=aws.region,
            regions=tuple(aws.regions),
            pipeline_name=aws_render.flavour_resource_name(aws_plan.prefix, build),
            ssm_parameters=tuple((region, parameter) for region in aws.regions),
            target_account_ids=tuple(aws.target_account_ids),
        )
    azure, azure_plan = resolved.azure, resolved.azure_plan
    if build.builds_on("azure") and azure is not None and azure_plan is not None:
        from ..azure import render as azure_render

        names = azure_plan.names
        azure_target = AzureTarget(
            subscription_id=subscription,
            resource_group=names.resource_group,
            location=names.location,
            # template_name(flavour, digest) is `<flavour>-<digest>`: the part before the digest.
            template_prefix=azure_render.template_name(build, ""),
            template_digest_length=len(azure_render.template_digest({})),
            flavour_tag=(FLAVOUR_TAG, build.name),
            gallery=names.gallery,
            # render_image_definition names the definition after the flavour.
            image_definition=build.name,
            replica_regions=tuple(replica.region for replica in azure.replicas),
        )
    return Target(
        flavour=build.name,
        version=build.version,
        os=build.os,
        clouds=build.clouds,
        base=build.base.name if build.base is not None else None,
        # An image without a schedule is judged as if it rebuilt monthly: it ages all the same.
        schedule_hours=PERIOD_HOURS[build.schedule.every if build.schedule is not None else "month"],
        schedule=build.schedule.describe() if build.schedule is not None else "none",
        aws=aws_target,
        azure=azure_target,
    )


def azure_subscription(target: AzureTarget) -> Optional[str]:
    """The stack's `azure-native:subscriptionId`, else the environment's AZURE_SUBSCRIPTION_ID."""
    return target.subscription_id or os.environ.get("AZURE_SUBSCRIPTION_ID") or None


def layers_of(targets: list[Target], flavour: str) -> list[Target]:
    """The flavours layered on `flavour`, directly or not, bases before layers (the targets' order)."""
    above = {flavour}
    found = []
    for target in targets:
        if target.base in above:
            above.add(target.flavour)
            found.append(target)
    return found
