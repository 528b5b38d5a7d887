"""Layered flavours: a flavour built on the newest image of another flavour.

`base_image: {flavour: windows-2022-core-dotnet}` builds on the base flavour's
own output (its Image Builder image on AWS, its gallery image on Azure)
instead of a marketplace image, so the layer adds only what it adds and can
never drift from its base.

What a layered flavour's build runs is decided here, once for both clouds:

- A step the base chain already ran with the same parameters is already in the
  image, so it is skipped when its catalogue rule (`layers` in step.yaml) is
  `once`, the default.
- `again` steps (cleanup, image tests) run whenever the layer lists them:
  they concern the build they are part of.
- `always` steps (updates) run in every layer, first when the layer does not
  list them itself: time passes between the base's build and the layer's.
- `options.repeat` on a step use overrides the rule: `true` runs it again (the
  .NET Hosting Bundle must be installed again after IIS, for instance),
  `false` does not.

Errors name every file involved: a missing base, a cycle, an OS mismatch, a
base this stack does not build, or on other clouds than the layer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from .capabilities import ALL_CLOUDS
from .errors import Problem
from .flavour import Layer, LoadedFlavour, StepUse
from .steps import Catalogue
from .vocabulary import did_you_mean

if TYPE_CHECKING:
    from .settings import Schedule

MAX_LAYERS = 3  # layers above the marketplace-based flavour; each one rebuilds layer_delay_hours later


@dataclass(frozen=True)
class LayerNote:
    """How the layer treats one step of its chain, for the plan and the stack outputs."""

    step: str
    action: str  # "skipped" | "repeated" | "added"
    base: str  # the flavour whose build already ran it

    def __str__(self) -> str:
        if self.action == "skipped":
            return f"{self.step}: skipped, already built into {self.base}"
        if self.action == "repeated":
            return f"{self.step}: runs again, although {self.base} already ran it"
        return f"{self.step}: runs again first (as in {self.base}), updates since the base was built"


def check_graph(loaded: Sequence[LoadedFlavour]) -> list[Problem]:
    """Bases exist, share the OS, form no cycle and are at most MAX_LAYERS deep."""
    by_name = {item.flavour.name: item for item in loaded}
    problems: list[Problem] = []
    for item in loaded:
        base = item.flavour.base_image.flavour
        if base is None:
            continue
        if base == item.flavour.name:
            problems.append(Problem(item.source, "base_image.flavour", "a flavour cannot be built on itself"))
        elif base not in by_name:
            hint = did_you_mean(base, by_name)
            problems.append(Problem(item.source, "base_image.flavour",
                                    f"no flavour named '{base}'{hint} (flavours: {', '.join(sorted(by_name))})"))
        elif by_name[base].flavour.os != item.flavour.os:
            other = by_name[base]
            problems.append(Problem(item.source, "base_image.flavour",
                                    f"'{base}' ({other.source}) is a {other.flavour.os} flavour; a {item.flavour.os} "
                                    "flavour cannot be built on it"))
    reported: set[frozenset[str]] = set()
    for item in loaded:
        path = [item]
        while path[-1].flavour.base_image.flavour in by_name and path[-1].flavour.base_image.flavour != path[-1].flavour.name:
            following = by_name[path[-1].flavour.base_image.flavour]
            if following in path:
                cycle = path[path.index(following):]
                members = frozenset(c.flavour.name for c in cycle)
                if members not in reported:
                    reported.add(members)
                    first = min(cycle, key=lambda c: c.source)
                    start = cycle.index(first)
                    ordered = cycle[start:] + cycle[:start]
                    text = " -> ".join(f"{c.flavour.name} ({c.source})" for c in ordered)
                    problems.append(Problem(first.source, "base_image.flavour",
                                            f"layers form a cycle: {text} -> {first.flavour.name}; one of them must "
                                            "start from a marketplace image"))
                break
            path.append(following)
        else:
            depth = len(path) - 1
            if depth > MAX_LAYERS and path[-1].flavour.base_image.flavour is None:
                chain = " -> ".join(f"{c.flavour.name} ({c.source})" for c in path)
                problems.append(Problem(item.source, "base_image.flavour",
                                        f"{depth} layers above a marketplace image ({chain}); at most {MAX_LAYERS}"))
    return problems


def check_stack(selected: Sequence[LoadedFlavour], all_loaded: Sequence[LoadedFlavour], stack_clouds: Sequence[str],
                settings_source: str, selection_given: bool) -> list[Problem]:
    """The stack builds each layer's base, on every cloud it builds the layer on."""
    by_name = {item.flavour.name: item for item in all_loaded}
    chosen = {item.flavour.name for item in selected}
    problems: list[Problem] = []
    for item in selected:
        base_name = item.flavour.base_image.flavour
        if base_name is None or base_name not in by_name:
            continue
        base = by_name[base_name]
        if base_name not in chosen:
            if selection_given:
                problems.append(Problem(settings_source, "golden-images:flavours",
                                        f"'{item.flavour.name}' ({item.source}) is built on '{base_name}' ({base.source}), "
                                        f"which this stack does not build; add '{base_name}'"))
            continue
        mine, theirs = item.flavour.enabled_clouds(stack_clouds), base.flavour.enabled_clouds(stack_clouds)
        if mine != theirs:
            problems.append(Problem(item.source, "base_image.flavour",
                                    f"'{base_name}' ({base.source}) is built on {', '.join(theirs) or 'no cloud'} in this "
                                    f"stack, this flavour on {', '.join(mine) or 'no cloud'}; a layer and its base are "
                                    f"built on the same clouds (set clouds here, or in {base.source})"))
    return problems


def base_first(items: Sequence[LoadedFlavour]) -> list[LoadedFlavour]:
    """Bases before the flavours built on them, otherwise in the given order."""
    names = {item.flavour.name for item in items}
    placed: list[LoadedFlavour] = []
    done: set[str] = set()
    pending = list(items)
    while pending:
        progress = False
        for item in list(pending):
            base = item.flavour.base_image.flavour
            if base is None or base in done or base not in names:
                placed.append(item)
                done.add(item.flavour.name)
                pending.remove(item)
                progress = True
        if not progress:  # a cycle; check_graph reports it
            placed.extend(pending)
            break
    return placed


def _key(use: StepUse, catalogue: Catalogue) -> str:
    step = catalogue.get(use.name)
    params = step.resolve_params(use.params) if step else use.params
    return use.name + json.dumps(params, sort_keys=True, default=str)


def _clouds(use: StepUse) -> set[str]:
    return {use.only_cloud} if use.only_cloud else set(ALL_CLOUDS)


def build_layer(item: LoadedFlavour, base: LoadedFlavour, catalogue: Catalogue) -> LoadedFlavour:
    """The flavour layered on `base` (itself already resolved): the steps its own build runs."""
    flavour = item.flavour
    # What the base's image already has: every step every flavour of the chain lists, by the
    # clouds it ran on. A step a lower layer skipped is in the image all the same.
    built: dict[str, tuple[set[str], str]] = {}
    always: list[tuple[StepUse, str]] = []
    for layer in base.chain:
        for use in layer.flavour.steps:
            clouds, _ = built.get(_key(use, catalogue), (set(), layer.flavour.name))
            built[_key(use, catalogue)] = (clouds | _clouds(use), layer.flavour.name)
            step = catalogue.get(use.name)
            if step is not None and step.spec.layers == "always" and all(u.name != use.name for u, _ in always):
                always.append((use, layer.flavour.name))
    steps: list[StepUse] = []
    notes: list[LayerNote] = []
    listed = {use.name for use in flavour.steps}
    for use, origin in always:
        if use.name not in listed:
            steps.append(use)
            notes.append(LayerNote(use.name, "added", origin))
    for use in flavour.steps:
        step = catalogue.get(use.name)
        rule = step.spec.layers if step else "once"
        clouds, origin = built.get(_key(use, catalogue), (set(), ""))
        covered = _clouds(use) <= clouds
        repeat = use.options.repeat
        if repeat is None:
            repeat = rule != "once"
        if covered and not repeat:
            notes.append(LayerNote(use.name, "skipped", origin))
            continue
        if covered:
            notes.append(LayerNote(use.name, "repeated", origin))
        steps.append(use)
    # Build machine and disk: what the layer does not set, it takes from its base. Its build boots
    # the base's image, so it needs at least the base's disk and an instance type that boots it.
    base_build = base.flavour.build
    inherited = {name: getattr(base_build, name) for name in type(base_build).model_fields
                 if name not in flavour.build.model_fields_set}
    if inherited:
        flavour = flavour.model_copy(update={"build": flavour.build.model_copy(update=inherited)})
    return LoadedFlavour(flavour, item.source, Layer(base=base, steps=tuple(steps), notes=tuple(notes)),
                         versions=item.versions)


def build_problems(selected: Sequence[LoadedFlavour], schedule: Schedule) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings): a layer's disk is at least its base's; a layer's delay covers its base's build."""
    sources = {item.flavour.name: item.source for item in selected}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for item in selected:
        if item.base is None:
            continue
        flavour, base = item.flavour, item.base.flavour
        base_source = sources.get(base.name, f"flavour {base.name}")
        if flavour.build.disk_size(flavour.os) < base.build.disk_size(base.os):
            errors.append(Problem(item.source, "build.disk_size_gb",
                                  f"{flavour.build.disk_size(flavour.os)} GB is smaller than the disk of '{base.name}' "
                                  f"({base.build.disk_size(base.os)} GB, {base_source}), whose image this flavour's "
                                  "build boots; leave it out to take the base's, or make it larger"))
        delay = schedule.layer_delay_hours * 60
        if base.build.timeout_minutes > delay:
            warnings.append(Problem(item.source, "base_image.flavour",
                                    f"rebuilds {schedule.layer_delay_hours} h after '{base.name}', whose builds may take up "
                                    f"to {base.build.timeout_minutes} minutes ({base_source}: build.timeout_minutes); a "
                                    "late base build is picked up a period later (on AWS the layer fails until a base "
                                    "whose recipe changed has built once); raise golden-images:schedule.layer_delay_hours"))
    return errors, warnings


def sound_names(loaded: Sequence[LoadedFlavour], problems: Sequence[Problem]) -> set[str]:
    """The flavours whose whole chain (the flavour and every base under it) has no graph problem:
    each reaches a marketplace-based flavour through flavours that exist, share its OS, form no
    cycle and stay within MAX_LAYERS."""
    by_name = {item.flavour.name: item for item in loaded}
    faulty = {p.source for p in problems}
    sound: set[str] = set()
    for item in loaded:
        seen: list[LoadedFlavour] = []
        current: LoadedFlavour | None = item
        while current is not None and current not in seen and current.source not in faulty:
            seen.append(current)
            base = current.flavour.base_image.flavour
            if base is None:
                if len(seen) - 1 <= MAX_LAYERS:
                    sound.add(item.flavour.name)
                break
            following = by_name.get(base)
            if following is None or following.flavour.os != current.flavour.os:
                break
            current = following
    return sound


def resolve(loaded: list[LoadedFlavour], catalogue: Catalogue) -> tuple[list[LoadedFlavour], list[Problem]]:
    """Loaded flavours with every layer built on its resolved base, bases first, and the graph's problems.

    A layer whose chain has a problem (a missing base, a cycle, too deep) stays unresolved; every
    other flavour is resolved all the same, so the checks that need a layer's base still run for it.
    """
    problems = check_graph(loaded)
    sound = sound_names(loaded, problems)
    resolved: dict[str, LoadedFlavour] = {}
    ordered = []
    for item in base_first(loaded):
        base_name = item.flavour.base_image.flavour
        base = resolved.get(base_name) if base_name is not None else None
        if base is not None and item.flavour.name in sound:
            item = build_layer(item, base, catalogue)
        resolved[item.flavour.name] = item
        ordered.append(item)
    return ordered, problems


def schedule_problems(selected: Sequence[LoadedFlavour], schedule: Schedule, settings_source: str) -> list[Problem]:
    """Every layer's shifted schedule exists (a monthly one must not move past day 28)."""
    problems = []
    for item in selected:
        try:
            schedule.for_layer(item.depth)
        except ValueError as err:
            problems.append(Problem(settings_source, "golden-images:schedule", f"{item.flavour.name}: {err}"))
    return problems
