"""Readable names for the uses of a step a flavour lists several times (script, file, artifact).

A flavour with three `script` steps would otherwise render three Image Builder components
and three sets of Azure customizers that differ only by a hash or a position. Each use of a
step that takes a `name` parameter (type name) gets one: the flavour's own, or one derived
from the use (a script file's stem, a destination's last segment, else its position). The
name travels in the cloud objects' names and descriptions only, never to the script.

Names are lower-case letters, digits and hyphens, at most 32 characters: Image Builder's
ResourceName (botocore: ^[-_A-Za-z-0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z-0-9]$, 128 characters)
takes them inside a component name with room to spare, and since Image Builder treats names
that differ only in case, spaces or underscores as one (CreateComponent's `name`), none of
those is allowed. AIB's customizer `name` is free text (azure-mgmt-imagebuilder
ImageTemplateCustomizer.name).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from .errors import Problem
from .flavour import LoadedFlavour, StepUse
from .steps import Catalogue, Step

USE_NAME_LIMIT = 32
USE_NAME_PATTERN = re.compile(rf"^[a-z0-9](?:[a-z0-9-]{{0,{USE_NAME_LIMIT - 2}}}[a-z0-9])?$")


def use_name_problem(value: str) -> str:
    """Why `value` cannot name a step use, or ''."""
    if USE_NAME_PATTERN.match(value):
        return ""
    hint = slug(value)
    example = f" (e.g. '{hint}')" if hint and hint != value else ""
    return (f"{value!r} is not a step name: 1-{USE_NAME_LIMIT} lower-case letters, digits and hyphens, "
            f"starting and ending with a letter or digit{example}")


def slug(text: str) -> str:
    """`text` as a use name: lower case, runs of anything else as one hyphen, cut to the limit."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:USE_NAME_LIMIT].strip("-")


def _last_segment(path: str) -> str:
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1]


def derived_name(step: Step, params: dict[str, Any], index: int) -> tuple[str, str]:
    """(name, what it was derived from) of a use that gives none: a file parameter's stem
    (scripts/crypto-and-banner.sh -> crypto-and-banner), a path's last segment
    (/etc/chrony.conf -> chrony-conf), else the position in steps (inline-3)."""
    for key in step.spec.named_from:
        value = params.get(key)
        if not isinstance(value, str) or not value:
            continue
        segment = _last_segment(value)
        param = step.spec.parameters.get(key)
        if param is not None and param.type == "file" and "." in segment.lstrip("."):
            segment = segment.rsplit(".", 1)[0]
        name = slug(segment)
        if name:
            return name, key
    return f"inline-{index}" if step.spec.render == "script" else f"step-{index}", "position"


def may_run_together(a: StepUse, b: StepUse) -> bool:
    """Whether two uses can be in one build: not when they run on different clouds, in
    different stacks or under flags that contradict each other (`when`)."""
    if a.only_cloud and b.only_cloud and a.only_cloud != b.only_cloud:
        return False
    wa, wb = a.when, b.when
    if wa is None or wb is None:
        return True
    if wa.os and wb.os and wa.os != wb.os:
        return False
    if wa.stack is not None and wb.stack is not None and not set(wa.stack) & set(wb.stack):
        return False
    return all(wb.flags.get(flag, value) == value for flag, value in wa.flags.items())


def name_uses(item: LoadedFlavour, catalogue: Catalogue,
              skip: frozenset[str] = frozenset()) -> tuple[LoadedFlavour, list[Problem]]:
    """Every use of a step with a `name` parameter labelled, before file parameters are
    embedded (a script's stem is read from its path); two uses of one step with one name
    are refused at the later one, naming the earlier. `skip`: field paths already refused."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], list[int]] = {}
    steps: list[StepUse] = []
    for index, use in enumerate(item.flavour.steps):
        step = catalogue.get(use.name)
        key = step.name_parameter if step is not None else None
        if step is None or key is None:
            steps.append(use)
            continue
        at = f"steps[{index}].{use.name}.{key}"
        given: Optional[Any] = use.params.get(key)
        if given is not None:
            if at in skip or not isinstance(given, str) or use_name_problem(given):
                steps.append(use)
                continue  # refused with the parameter's own checks
            label, origin = given, ""
        else:
            label, origin = derived_name(step, use.params, index)
        others = seen.setdefault((use.name, label), [])
        earlier = next((n for n in others if may_run_together(item.flavour.steps[n], use)), None)
        others.append(index)
        if earlier is not None:
            why = f"(derived from {origin}) " if origin and origin != "position" else ""
            problems.append(Problem(item.source, at, f"{label!r} {why}is also the name of steps[{earlier}] "
                                    f"(both {use.name} steps of one build); set a different name: on one of them"))
        steps.append(use.model_copy(update={"label": label}))
    flavour = item.flavour.model_copy(update={"steps": steps})
    return LoadedFlavour(flavour, item.source, item.layer, item.versions), problems
