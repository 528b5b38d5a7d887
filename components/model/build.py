"""The resolved build: one flavour in one stack, decided once, after every check.

Everything downstream (renderers, components, plan, the tools beside the
program) reads a FlavourBuild and the stack's narrowed cloud settings; none of
them goes back to the flavour files, the catalogue or the whole settings. A
build is immutable: what it says is what every cloud builds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping, Optional

from .flavour import BaseImage, BuildSettings, Flavour, LoadedFlavour, ScheduleOff, StepUse, TestSettings, chain_of
from .lineage import azure_marketplace_reference, lineage_tags
from .prepared import ArtefactStore, PreparedStep, prepare_flavour
from .settings import AwsSettings, LaunchSharing, Schedule, StackSettings, resolve_account
from .steps import Catalogue
from .vocabulary import NAMESPACE

if TYPE_CHECKING:
    from .layers import LayerNote

SOURCE_COMMIT_TAG = f"{NAMESPACE}:source-commit"
# A flavour's recorded decisions, on its resources: the guardrails read them (policy/rules.py).
NO_SCHEDULE_TAG = f"{NAMESPACE}:no-schedule"
NO_IMAGE_TESTS_TAG = f"{NAMESPACE}:no-image-tests"


@dataclass(frozen=True)
class AwsDistributionPlan:
    """What a flavour sets of its own AWS distribution, account names resolved; None: the stack's."""

    regions: Optional[tuple[str, ...]] = None
    target_account_ids: Optional[tuple[str, ...]] = None
    launch_permissions: Optional[LaunchSharing] = None

    def regions_of(self, aws: AwsSettings) -> list[str]:
        return list(self.regions) if self.regions is not None else aws.regions

    def targets_of(self, aws: AwsSettings) -> list[str]:
        return list(self.target_account_ids) if self.target_account_ids is not None else list(aws.target_account_ids)

    def sharing_of(self, aws: AwsSettings) -> LaunchSharing:
        return self.launch_permissions if self.launch_permissions is not None else aws.launch_permissions


@dataclass(frozen=True)
class FlavourBuild:
    """One flavour as a stack builds it."""

    flavour: Flavour  # as validated, file parameters embedded, build settings inherited by layers
    source: str  # the flavour file, for messages
    clouds: tuple[str, ...]  # the clouds this stack builds it on, in the stack's order
    declared_steps: tuple[StepUse, ...]  # as the file lists them (paths in messages index these)
    build_steps: tuple[StepUse, ...]  # what this flavour's own build runs (a layer skips what its base built)
    prepared: Mapping[str, tuple[PreparedStep, ...]]  # cloud -> the build steps ready to render there
    schedule: Optional[Schedule]  # when it rebuilds: the flavour's or the stack's, later per layer; None: never
    tags: Mapping[str, str]  # stack tags, flavour tags, identity and source commit
    base: Optional["FlavourBuild"] = None  # the build of the flavour it is layered on
    layer_notes: tuple[LayerNote, ...] = ()  # what a layer skips, repeats or adds
    aws_distribution: AwsDistributionPlan = AwsDistributionPlan()  # the flavour's own, else the stack's
    schedule_off_reason: Optional[str] = None  # why a flavour has no schedule
    versions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # versions-map pins read
    skipped_steps: tuple[str, ...] = ()  # steps whose `when` does not hold in this stack

    @property
    def name(self) -> str:
        return self.flavour.name

    @property
    def os(self) -> str:
        return self.flavour.os

    @property
    def version(self) -> str:
        return self.flavour.version

    @property
    def description(self) -> str:
        return self.flavour.description

    @property
    def base_image(self) -> BaseImage:
        return self.flavour.base_image

    @property
    def machine(self) -> BuildSettings:
        """Build machine, disk and timeout."""
        return self.flavour.build

    @property
    def tests(self) -> TestSettings:
        return self.flavour.tests

    @property
    def tests_enabled(self) -> bool:
        return self.flavour.tests.enabled

    @property
    def chain(self) -> list["FlavourBuild"]:
        """The builds that make this image, the marketplace-based one first."""
        return chain_of(self)

    @property
    def depth(self) -> int:
        return len(self.chain) - 1

    @property
    def root(self) -> "FlavourBuild":
        """The build on a marketplace image at the bottom of the chain: every layer boots like it."""
        return self.chain[0]

    def builds_on(self, cloud: str) -> bool:
        return cloud in self.clouds

    def steps_on(self, cloud: str) -> tuple[PreparedStep, ...]:
        return self.prepared.get(cloud, ())

    @property
    def source_commit(self) -> Optional[str]:
        return self.tags.get(SOURCE_COMMIT_TAG)

    def lineage(self, cloud: str) -> dict[str, str]:
        """What this flavour's images on `cloud` are built from, as tags (see lineage.py).

        A layer's parent is its base flavour's newest image when the build starts,
        named by the base flavour; a marketplace-based flavour's is its base image.
        """
        if self.base is not None:
            built_from = f"flavour:{self.base.name}"
        elif cloud == "aws":
            built_from = self.base_image.aws_reference()
        else:
            image = self.base_image.azure
            if image is not None and image.image_version_id is not None:
                built_from = image.image_version_id
            elif image is not None and image.publisher and image.offer and image.sku:
                built_from = azure_marketplace_reference(image.publisher, image.offer, image.sku, image.version)
            else:
                built_from = ""
        return lineage_tags(self.name, self.version, self.source_commit, built_from,
                            self.base.name if self.base is not None else None)

    @property
    def tags_without_commit(self) -> dict[str, str]:
        """The tags of objects a changed tag would replace (content-named Azure templates)."""
        return {key: value for key, value in self.tags.items() if key != SOURCE_COMMIT_TAG}


def build_tags(settings: StackSettings, flavour: Flavour, source_commit: Optional[str]) -> dict[str, str]:
    """Stack tags, then the flavour's, then its identity, which always wins."""
    tags = {**settings.tags, **flavour.tags,
            f"{NAMESPACE}:flavour": flavour.name, f"{NAMESPACE}:version": flavour.version}
    if isinstance(flavour.schedule, ScheduleOff):
        tags[NO_SCHEDULE_TAG] = flavour.schedule.reason
    if not flavour.tests.enabled and flavour.tests.reason:
        tags[NO_IMAGE_TESTS_TAG] = flavour.tests.reason
    if source_commit:
        tags[SOURCE_COMMIT_TAG] = source_commit
    return tags


def flavour_schedule(flavour: Flavour, settings: StackSettings, depth: int) -> Optional[Schedule]:
    """The flavour's own schedule or the stack's, shifted per layer; None when the flavour has none.
    (A layered flavour on its own cadence is shifted from that cadence.)"""
    own = flavour.schedule
    if isinstance(own, ScheduleOff):
        return None
    if own is not None:
        # The stack's layer delay applies to a flavour's own cadence too, unless it sets one.
        base = Schedule.model_validate(own.model_dump(exclude_unset=True) | (
            {} if "layer_delay_hours" in own.model_fields_set else
            {"layer_delay_hours": settings.schedule.layer_delay_hours}))
    else:
        base = settings.schedule
    return base.for_layer(depth)


def aws_distribution(flavour: Flavour, accounts: Mapping[str, str]) -> AwsDistributionPlan:
    """Per-flavour regions, accounts and launch permissions, names resolved (the loader checked them)."""
    own = flavour.distribution.aws
    sharing = None
    if own.launch_permissions is not None:
        sharing = LaunchSharing.model_validate({
            "account_ids": [resolve_account(a, dict(accounts)) for a in own.launch_permissions.accounts],
            "organization_arns": list(own.launch_permissions.organization_arns),
            "organizational_unit_arns": list(own.launch_permissions.organizational_unit_arns)})
    targets = (None if own.target_accounts is None else
               tuple(resolve_account(a, dict(accounts)) for a in own.target_accounts))
    return AwsDistributionPlan(regions=tuple(own.regions) if own.regions else None, target_account_ids=targets,
                               launch_permissions=sharing)


def artefact_store(settings: StackSettings, cloud: str) -> Optional[ArtefactStore]:
    """The stack's artefact bucket (aws) or container (azure), where artifact steps' keys are read."""
    section = settings.aws if cloud == "aws" else settings.azure
    return section.artefacts if section is not None else None


def make_build(item: LoadedFlavour, settings: StackSettings, catalogue: Catalogue,
               base: Optional[FlavourBuild], source_commit: Optional[str] = None,
               stack: Optional[str] = None) -> FlavourBuild:
    """The build of one validated flavour (its base's build made first)."""
    flavour = item.flavour
    clouds = tuple(flavour.enabled_clouds(settings.clouds))
    steps = [use for use in item.build_steps if use.applies(os=flavour.os, stack=stack, flags=flavour.flags)]
    skipped = tuple(use.name for use in item.build_steps if use not in steps)
    prepared = {cloud: tuple(prepare_flavour(flavour.os, steps, catalogue, cloud, artefact_store(settings, cloud)))
                for cloud in clouds}
    distribution = aws_distribution(flavour, settings.accounts)
    off = flavour.schedule.reason if isinstance(flavour.schedule, ScheduleOff) else None
    return FlavourBuild(
        flavour=flavour,
        source=item.source,
        clouds=clouds,
        declared_steps=tuple(flavour.steps),
        build_steps=tuple(steps),
        prepared=MappingProxyType(prepared),
        schedule=flavour_schedule(flavour, settings, item.depth),
        tags=MappingProxyType(build_tags(settings, flavour, source_commit)),
        base=base,
        layer_notes=item.layer.notes if item.layer is not None else (),
        aws_distribution=distribution,
        schedule_off_reason=off,
        versions=MappingProxyType(dict(item.versions)),
        skipped_steps=skipped,
    )


def make_builds(flavours: list[LoadedFlavour], settings: StackSettings, catalogue: Catalogue,
                source_commit: Optional[str] = None, stack: Optional[str] = None) -> list[FlavourBuild]:
    """Every selected flavour's build, bases before the layers on them (as the loader orders them)."""
    builds: dict[str, FlavourBuild] = {}
    for item in flavours:
        base = builds[item.base.flavour.name] if item.base is not None else None
        builds[item.flavour.name] = make_build(item, settings, catalogue, base, source_commit, stack)
    return list(builds.values())
