"""Image Builder components: a step's documents as CreateComponent receives them, named by content."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ...model.errors import RenderError
from ...model.prepared import PreparedStep
from ...model.vocabulary import content_hash
from .documents import (
    ASSET_BUCKET_PARAMETER,
    INLINE_DOCUMENT_LIMIT,
    component_document,
    component_phases,
    dump_document,
    needs_asset_bucket,
)
from .keys import KmsKey
from .names import hashed_name

COMPONENT_VERSION = "1.0.0"
PLATFORMS = {"linux": "Linux", "windows": "Windows"}


@dataclass(frozen=True)
class ComponentSpec:
    """One Image Builder component of ours, as CreateComponent receives it."""

    name: str
    version: str
    platform: str
    description: str
    data: str
    step: str
    parameters: tuple[str, ...] = ()  # AWSTOE document parameters the recipe must set


class DocumentCache:
    """Rendered components per step content, name prefix and key, for one run.

    A step used by ten flavours is one component: its AWSTOE documents (most of
    this renderer's cost) are dumped once and the frozen specs shared. The key is
    the step's repr (every field, in order, so nothing a document reads is left
    out), the prefix and the key identity, the only other inputs.
    """

    def __init__(self) -> None:
        self._specs: dict[tuple[str, str, str], tuple[ComponentSpec, ...]] = {}

    def specs(self, step: PreparedStep, prefix: str, key: KmsKey) -> tuple[ComponentSpec, ...]:
        cache_key = (repr(step), prefix, key.identity)
        found = self._specs.get(cache_key)
        if found is None:
            found = self._specs[cache_key] = tuple(_render_specs(step, prefix=prefix, key=key))
        return found


def component_specs(step: PreparedStep, *, prefix: str, key: KmsKey,
                    cache: Optional[DocumentCache] = None) -> list[ComponentSpec]:
    """The components of one step use: one, unless its document exceeds the inline limit.

    Image Builder runs the components' build and validate phases on the build
    instance and their test phases on the test instance, in recipe order.
    Phases moved into adjacent components of their own keep that order, so a
    large step is split by phase rather than refused; only a single phase over
    the limit is an error.
    """
    return list((cache or DocumentCache()).specs(step, prefix, key))


def _render_specs(step: PreparedStep, *, prefix: str, key: KmsKey) -> list[ComponentSpec]:
    phases = component_phases(step)
    if not phases:
        return []  # an AWS-managed component alone: the recipe names it, nothing of ours runs
    whole = _fitting_document(step, phases)
    if whole is not None:
        # A document only grows with each phase added, so the grouping below would keep every
        # phase in one component: that component is this document, dumped once instead of four times.
        return [_component_spec(step, phases, split=False, prefix=prefix, key=key, data=whole)]
    groups: list[list[dict[str, Any]]] = []
    for phase in phases:
        if groups and _fitting_document(step, [*groups[-1], phase]) is not None:
            groups[-1].append(phase)
            continue
        if _fitting_document(step, [phase]) is None:
            size = len(dump_document(component_document(step, [phase]), compact=True))
            raise RenderError(
                f"step '{step.name}' ({step.os}): its {phase['name']} phase alone is an AWSTOE document of "
                f"{size} characters; Image Builder takes at most {INLINE_DOCUMENT_LIMIT} inline. "
                "Shorten the script (or the parameter values) or split the step")
        groups.append([phase])
    return [_component_spec(step, group, split=len(groups) > 1, prefix=prefix, key=key,
                            data=_fitting_document(step, group)) for group in groups]


def _fitting_document(step: PreparedStep, phases: list[dict[str, Any]]) -> Optional[str]:
    """The document within the inline limit: scripts as literal blocks, which the console shows as
    written, or else compactly as quoted strings (the indentation of a long script's lines alone
    can be a sixth of a document); None when neither fits."""
    document = component_document(step, phases)
    for compact in (False, True):
        data = dump_document(document, compact=compact)
        if len(data) <= INLINE_DOCUMENT_LIMIT:
            return data
    return None


def _component_spec(step: PreparedStep, phases: list[dict[str, Any]], *, split: bool, prefix: str, key: KmsKey,
                    data: Optional[str] = None) -> ComponentSpec:
    """Name = hash of everything CreateComponent receives, so changed content is a new component.

    The version stays 1.0.0: a component is shared by flavours with different
    versions, and the name already changes with every change of content, so one
    name never meets two different documents.
    """
    if data is None:
        data = dump_document(component_document(step, phases))
    # A use's name (use_names.py) tells a flavour's several script, file and artifact components apart.
    what = f"{step.name} '{step.label}'" if step.label else step.name
    description = f"{what} for {step.os}, rendered from the golden-images step catalogue"
    platform = PLATFORMS[step.os]
    digest = content_hash({"data": data, "platform": platform, "version": COMPONENT_VERSION,
                           "description": description, "kms": key.identity})
    if split:
        kind = f"{step.os}-{'-'.join(p['name'] for p in phases)}"
    else:
        kind = f"{step.os}-check" if step.aws_managed_component else step.os
    use = f"{step.name}-{step.label}" if step.label else step.name
    return ComponentSpec(name=hashed_name(f"{prefix}-{use}-{kind}", digest), version=COMPONENT_VERSION,
                         platform=platform, description=description, data=data, step=step.name,
                         parameters=(ASSET_BUCKET_PARAMETER,) if needs_asset_bucket(phases) else ())
