"""Checks before anything is created, and the content-derived template names, decided once per stack."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ...model.build import FlavourBuild
from ...model.errors import Problem
from ...model.settings import AzureSettings, Schedule
from ...model.vocabulary import NAMESPACE
from .customizers import windows_update_exclusions
from .gallery import hyper_v_generation, image_features
from .names import FactoryNames, template_name
from .schedule import WINDOWS_TIME_ZONES
from .template import render_template, symbolic_refs, template_digest


@dataclass(frozen=True)
class AzurePlan:
    """What the stack's Azure factory is named before deployment, decided once."""

    names: FactoryNames
    templates: Mapping[str, str]  # flavour -> content-named template


def plan_azure(builds: Sequence[FlavourBuild], azure: AzureSettings, schedule: Schedule, *, stack: str,
               settings_source: str) -> tuple[AzurePlan, list[Problem]]:
    """(AzurePlan, problems): what Azure would reject although the model accepts it, and the
    template names, each template rendered with ids spelled from names (see symbolic_refs)."""
    problems: list[Problem] = []
    if schedule.timezone not in WINDOWS_TIME_ZONES:
        problems.append(Problem(
            settings_source, f"{NAMESPACE}:schedule.timezone",
            f"'{schedule.timezone}' has no known Windows time zone name, which Azure Logic Apps "
            "schedules need; use a zone such as UTC, Europe/Amsterdam or America/New_York "
            f"(supported: {', '.join(sorted(WINDOWS_TIME_ZONES))})"))
    if azure.location not in [r.region for r in azure.replicas]:
        problems.append(Problem(
            settings_source, f"{NAMESPACE}:azure.replication",
            f"must include the factory's location '{azure.location}' (the gallery keeps a replica there)"))
    names = FactoryNames.for_stack(stack, azure)
    templates: dict[str, str] = {}
    for build in builds:
        if not build.builds_on("azure"):
            continue
        found = _build_problems(build, azure, settings_source)
        problems.extend(found)
        if not found:
            body = render_template(build, azure, symbolic_refs(names, build))
            templates[build.name] = template_name(build, template_digest(body))
    return AzurePlan(names=names, templates=templates), problems


def _build_problems(build: FlavourBuild, azure: AzureSettings, settings_source: str = "the stack file") -> list[Problem]:
    """A flavour's values Azure would reject."""
    problems: list[Problem] = []
    own = build.flavour.distribution.azure.replication
    if own is not None and azure.location not in [r.region for r in own]:
        problems.append(Problem(
            build.source, "distribution.azure.replication",
            f"must include the stack's location '{azure.location}', where the gallery and the build are "
            f"(given: {', '.join(r.region for r in own)}): the gallery keeps a replica of each version there"))
    image = build.base_image.azure
    if azure.source_image_trigger and image and image.image_version_id is None and image.version != "latest":
        problems.append(Problem(
            build.source, "base_image.azure.version",
            "must be 'latest' while the stack's azure.source_image_trigger is on "
            "(Image Builder only watches 'latest' for new source images)"))
    if build.schedule is not None and build.schedule.timezone not in WINDOWS_TIME_ZONES:
        problems.append(Problem(build.source, "schedule.timezone",
                                f"'{build.schedule.timezone}' has no known Windows time zone name, which Azure "
                                "Logic Apps schedules need; use a zone such as UTC or Europe/Amsterdam"))
    try:
        image_features(build, hyper_v_generation(build))
    except ValueError as err:
        problems.append(Problem(build.source, "gallery", str(err)))
    # Paths name the file's entries: the first use of each updates step.
    declared: dict[str, int] = {}
    for index, use in enumerate(build.declared_steps):
        declared.setdefault(use.name, index)
    for step in build.steps_on("azure"):
        for name, ref in step.secrets:
            if ref.vault not in azure.key_vaults:
                problems.append(Problem(
                    build.source, f"steps[{declared.get(step.name, 0)}].{step.name}",
                    f"{name} reads {ref.reference}, whose vault '{ref.vault}' the stack does not know: add it to "
                    f"{NAMESPACE}:azure.key_vaults as {ref.vault}: /subscriptions/<subscription id>/resourceGroups/"
                    f"<group>/providers/Microsoft.KeyVault/vaults/{ref.vault} (a role assignment on the secret needs "
                    "the vault's resource id, which the URI does not carry)"))
        for download in step.downloads:
            if download.store == "aws":
                problems.append(Problem(
                    build.source, f"steps[{declared.get(step.name, 0)}].{step.name}.source",
                    f"{download.url} is in an S3 bucket, which the Azure build VM has no identity for; use an "
                    "Azure blob URL on Azure (options.only_on: aws for this use)"))
            elif download.store == "azure" and (azure.artefacts is None or not azure.artefacts.holds(download.url)):
                # The program grants read on the stack's artefact container only: a blob elsewhere
                # would fail on the build VM hours in, with an authorization error.
                where = (f"outside the stack's artefact container {azure.artefacts.container_url}"
                         if azure.artefacts is not None else "and the stack names no artefact container")
                problems.append(Problem(
                    build.source, f"steps[{declared.get(step.name, 0)}].{step.name}.source",
                    f"{download.url} is {where}; the build VM reads only that container (Storage Blob Data "
                    f"Reader, granted by the program): set {NAMESPACE}:azure.artefacts in {settings_source} and "
                    "give the file's key: instead of a URL"))
        if not step.azure_windows_update:
            continue
        try:
            windows_update_exclusions(step.params.get("exclude"))
        except ValueError as err:
            problems.append(Problem(build.source, f"steps[{declared.get(step.name, 0)}].{step.name}.exclude", str(err)))
    return problems
