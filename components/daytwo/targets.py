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
from typing import Optional

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
    from ..model.errors import ValidationFailed
    from ..model.loader import load_inputs
    from ..plan import UserError, stack_config

    try:
        config, source = stack_config(stack, root)
    except UserError as err:
        raise TargetError(str(err)) from None
    try:
        inputs = load_inputs(config, source, root / "image_flavours", root)
    except ValidationFailed as failed:
        raise TargetError(failed.report()) from None
    settings = inputs.settings
    subscription = config.get("azure-native:subscriptionId") or None
    return [_target(item.flavour, settings, stack, subscription) for item in inputs.flavours]


def _target(flavour, settings, stack: str, subscription: Optional[str]) -> Target:
    clouds = tuple(flavour.enabled_clouds(settings.clouds))
    schedule = settings.schedule_for(flavour)
    aws_target = azure_target = None
    if "aws" in clouds:
        from ..aws import render as aws_render

        aws = settings.aws
        prefix = aws_render.name_prefix(stack)
        parameter = aws_render.ssm_parameter_name(aws, flavour)
        aws_target = AwsTarget(
            region=aws.region,
            regions=tuple(aws.regions),
            pipeline_name=aws_render.flavour_resource_name(prefix, flavour),
            ssm_parameters=tuple((region, parameter) for region in aws.regions),
            target_account_ids=tuple(aws.target_account_ids),
        )
    if "azure" in clouds:
        from ..azure import render as azure_render
        from ..model.settings import NAMESPACE

        names = azure_render.FactoryNames.for_stack(stack, settings.azure)
        azure_target = AzureTarget(
            subscription_id=subscription,
            resource_group=names.resource_group,
            location=names.location,
            # template_name(flavour, digest) is `<flavour>-<digest>`: the part before the digest.
            template_prefix=azure_render.template_name(flavour, ""),
            template_digest_length=len(azure_render.template_digest({})),
            flavour_tag=(f"{NAMESPACE}:flavour", flavour.name),
            gallery=names.gallery,
            # render_image_definition names the definition after the flavour.
            image_definition=flavour.name,
            replica_regions=tuple(replica.region for replica in settings.azure.replicas),
        )
    return Target(
        flavour=flavour.name,
        version=flavour.version,
        os=flavour.os,
        clouds=clouds,
        base=flavour.base.name if flavour.base is not None else None,
        schedule_hours=PERIOD_HOURS[schedule.every],
        schedule=schedule.describe(),
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
