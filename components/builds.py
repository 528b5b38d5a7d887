"""A stack's resolved builds: everything the program and the tools beside it create from.

Loader, then builds, then the renderers' up-front pass (the clouds' own limits,
content-derived names), once. Pure: no Pulumi, so `make plan`, the local
rehearsal and the day-two commands all read the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .aws.render import AwsPlan, plan_aws
from .azure.render import AzurePlan, plan_azure
from .model.build import FlavourBuild, make_builds
from .model.errors import Problem, ValidationFailed
from .model.loader import load_inputs
from .model.settings import AwsSettings, AzureSettings, StackSettings


@dataclass(frozen=True)
class StackBuild:
    """One stack: its settings, every flavour's build, and each enabled cloud's plan."""

    stack: str
    settings: StackSettings
    builds: tuple[FlavourBuild, ...]  # bases before the layers on them
    aws: Optional[AwsSettings] = None  # present exactly when the stack builds on AWS
    azure: Optional[AzureSettings] = None
    aws_plan: Optional[AwsPlan] = None
    azure_plan: Optional[AzurePlan] = None
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    def build(self, name: str) -> FlavourBuild:
        for build in self.builds:
            if build.name == name:
                return build
        raise KeyError(name)


def resolve_stack(config: dict[str, Any], settings_source: str, stack: str, root: Path,
                  source_commit: Optional[str] = None) -> StackBuild:
    """Load, validate and resolve everything; raise ValidationFailed with every problem found."""
    inputs = load_inputs(config, settings_source, root / "image_flavours", root, stack=stack)
    settings = inputs.settings
    builds = make_builds(inputs.flavours, settings, inputs.catalogue, source_commit, stack)
    problems = []
    aws = settings.aws if "aws" in settings.clouds else None
    azure = settings.azure if "azure" in settings.clouds else None
    aws_plan = azure_plan = None
    if aws is not None:
        aws_plan, found = plan_aws(builds, aws, stack=stack, settings_source=settings_source)
        problems.extend(found)
    if azure is not None:
        azure_plan, found = plan_azure(builds, azure, settings.schedule, stack=stack, settings_source=settings_source)
        problems.extend(found)
    if problems:
        raise ValidationFailed(problems)
    return StackBuild(stack=stack, settings=settings, builds=tuple(builds), aws=aws, azure=azure,
                      aws_plan=aws_plan, azure_plan=azure_plan, applications=inputs.applications,
                      warnings=tuple(inputs.warnings))
