"""A stack's resolved builds: everything the program and the tools beside it create from.

Loader, then builds, then the renderers' up-front pass (the clouds' own limits,
content-derived names), once. Pure: no Pulumi, so `make plan`, the local
rehearsal and the day-two commands all read the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from .aws.render import AwsPlan, plan_aws
from .aws.render.names import name_prefix
from .azure.render import AzurePlan, plan_azure
from .azure.render.names import FactoryNames
from .model.build import FlavourBuild, make_builds
from .model.errors import Problem, ValidationFailed
from .model.loader import Inputs, load_inputs
from .model.retirement import retirement_problems
from .model.settings import AwsSettings, AzureSettings, StackSettings, parse_settings


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
    """Load, validate and resolve everything; raise ValidationFailed with every problem found.

    When the loader finds problems, the clouds' up-front checks still run on the flavours it
    found sound, and their problems are reported in the same run; the ValidationFailed then
    carries the StackBuild of the flavours that passed everything as its `partial`.
    """
    try:
        inputs = load_inputs(config, settings_source, root / "image_flavours", root, stack=stack)
    except ValidationFailed as failed:
        if failed.partial is None:
            raise
        try:
            partial = _resolve(failed.partial, stack, settings_source, root, source_commit)
        except ValidationFailed as later:
            raise ValidationFailed(failed.problems + later.problems, partial=later.partial) from None
        except Exception:  # noqa: BLE001  # only an extra: the user's problems are reported as found
            raise ValidationFailed(failed.problems) from None
        raise ValidationFailed(failed.problems, partial=partial) from None
    return _resolve(inputs, stack, settings_source, root, source_commit)


def _resolve(inputs: Inputs, stack: str, settings_source: str, root: Path, source_commit: Optional[str]) -> StackBuild:
    settings = inputs.settings
    builds = make_builds(inputs.flavours, settings, inputs.catalogue, source_commit, stack)
    problems: list[Problem] = []
    aws = settings.aws if "aws" in settings.clouds else None
    azure = settings.azure if "azure" in settings.clouds else None
    aws_plan = azure_plan = None
    if aws is not None:
        aws_plan, found = plan_aws(builds, aws, stack=stack, settings_source=settings_source)
        problems.extend(found)
    if azure is not None:
        azure_plan, found = plan_azure(builds, azure, settings.schedule, stack=stack, settings_source=settings_source)
        problems.extend(found)
    problems.extend(retirement_problems(builds, settings, settings_source))
    problems.extend(name_collisions(stack, settings, settings_source, root))
    if problems:
        # The flavours a render problem names are left out of what can still be checked.
        faulty = {p.source for p in problems}
        sound = [item for item in inputs.flavours if all(c.source not in faulty for c in item.chain)]
        partial = None
        if len(sound) < len(inputs.flavours) and sound and not faulty & {settings_source}:
            try:
                partial = _resolve(replace(inputs, flavours=sound), stack, settings_source, root, source_commit)
            except ValidationFailed:
                partial = None
        raise ValidationFailed(problems, partial=partial)
    return StackBuild(stack=stack, settings=settings, builds=tuple(builds), aws=aws, azure=azure,
                      aws_plan=aws_plan, azure_plan=azure_plan, applications=inputs.applications,
                      warnings=tuple(inputs.warnings))


def cloud_names(stack: str, settings: StackSettings) -> dict[str, tuple[str, str]]:
    """The names a stack's shared objects take in the clouds: {what: (field, name)}."""
    names: dict[str, tuple[str, str]] = {}
    if "aws" in settings.clouds:
        names["AWS name prefix (IAM roles, Image Builder objects)"] = ("golden-images:aws", name_prefix(stack))
    if "azure" in settings.clouds and settings.azure is not None:
        factory = FactoryNames.for_stack(stack, settings.azure)
        names["Azure resource group"] = ("golden-images:azure.resource_group_name", factory.resource_group.lower())
        names["Azure compute gallery"] = ("golden-images:azure.gallery_name", factory.gallery.lower())
        names["Azure builder identity"] = ("golden-images:azure", factory.builder_identity.lower())
    return names


def name_collisions(stack: str, settings: StackSettings, settings_source: str, root: Path) -> list[Problem]:
    """Another stack of the project whose cloud names equal this one's (names are cut to the clouds' limits).

    Two such stacks in one account or subscription would update each other's objects.
    A stack file that does not load is skipped: its own run reports it.
    """
    from .stack_file import UserError, stack_config

    mine = cloud_names(stack, settings)
    problems: list[Problem] = []
    for path in sorted(root.glob("Pulumi.*.yaml")):
        other = path.name[len("Pulumi."):-len(".yaml")]
        if other == stack:
            continue
        try:
            config, source = stack_config(other, root)
            theirs = cloud_names(other, parse_settings(config, source))
        except (UserError, ValidationFailed):
            continue
        for what, (at, name) in mine.items():
            if what in theirs and theirs[what][1] == name:
                problems.append(Problem(settings_source, at,
                                        f"the {what} '{name}' is also stack '{other}''s ({source}): the stack names "
                                        "become equal once cut to the cloud's length limits, and the two stacks would "
                                        "overwrite each other's objects; rename one stack or set distinct names"))
    return problems
