"""What a flavour's images can do, derived from its steps and their parameters.

A step's `step.yaml` lists the capabilities it gives an image, e.g.
`capabilities: [iis]` or `capabilities: ["dotnet-runtime:{version}"]`. A
`{name}` placeholder is replaced by the value of that parameter as the flavour
uses the step (its default when the flavour does not set it); a list parameter
gives one capability per entry, so `package:{packages}` with
`packages: [nginx, curl]` gives `package:nginx` and `package:curl`; a value
pinned as `name=version` gives both `package:nginx=1.24.0-2ubuntu7` and
`package:nginx`. Every flavour also has `os:<windows|linux>`.

Capabilities are compared as lower-case strings with surrounding blanks removed.
There is no second list to keep in sync: change a flavour's steps and its
capabilities change with them.
"""
from __future__ import annotations

import itertools
import re
from fnmatch import fnmatchcase
from typing import Any, Iterable, Optional, Union

from .errors import Problem
from .flavour import Flavour, LoadedFlavour
from .steps import Catalogue, Step

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")
# A capability: no blanks, no braces (those are placeholders in step.yaml), at most 200 characters.
CAPABILITY_PATTERN = re.compile(r"^[^\s{}]{1,200}$")
ALL_CLOUDS = ("aws", "azure")


def normalise(capability: str) -> str:
    """The canonical spelling of a capability: trimmed and lower-case."""
    return str(capability).strip().lower()


def capability_error(capability: str) -> Optional[str]:
    """Why a capability string is malformed, or None when it is fine."""
    if not CAPABILITY_PATTERN.match(capability):
        return f"'{capability}' is not a capability: use 1-200 characters without blanks or braces (e.g. 'iis', 'dotnet-runtime:10.0')"
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def expand(template: str, params: dict[str, Any]) -> list[str]:
    """One step capability with its placeholders filled in from the step's parameters.

    A list parameter expands to one capability per entry (several list
    placeholders give every combination). A placeholder whose parameter is
    unset (None) or an empty list gives no capability.
    """
    names = PLACEHOLDER.findall(template)
    if not names:
        return [normalise(template)]
    choices: list[list[str]] = []
    for name in names:
        value = params.get(name)
        values = value if isinstance(value, (list, tuple)) else ([] if value is None else [value])
        values = [_text(v) for v in values if v is not None and _text(v).strip()]
        if not values:
            return []
        choices.append(values)
    out = []
    for combination in itertools.product(*choices):
        capability = normalise(_fill(template, combination))
        out.append(capability)
        # A value pinned as name=version (linux-packages: nginx=1.24.0-2ubuntu7) also gives the
        # unpinned capability: whoever needs package:nginx at any version is served.
        head, _, value = capability.rpartition(":")
        if "=" in value:
            out.append(f"{head}:{value.split('=', 1)[0]}" if head else value.split("=", 1)[0])
    return out


def _fill(template: str, values: Iterable[str]) -> str:
    """The template with its placeholders replaced by these values, in order."""
    it = iter(values)
    return PLACEHOLDER.sub(lambda _m: next(it), template)


def step_capabilities(step: Step, given: dict[str, Any]) -> set[str]:
    """The capabilities one use of a step gives an image, with these parameters."""
    params = step.resolve_params(given)
    found: set[str] = set()
    for template in step.spec.capabilities:
        found.update(expand(template, params))
    return found


def os_capability(os: str) -> str:
    return f"os:{os}"


def flavour_capabilities(flavour: Union[Flavour, LoadedFlavour], catalogue: Catalogue,
                         clouds: Optional[Iterable[str]] = None) -> set[str]:
    """Every capability the flavour's images have on every one of `clouds`.

    `clouds` defaults to the clouds the flavour names (all clouds when it names
    none). A step that does not run on one of them (the step's own `clouds`, or
    `options.only_on`) adds nothing: an application must find its capabilities
    on whichever cloud's image it starts from. Steps missing from the
    catalogue are ignored; the loader reports them.
    """
    # A layered flavour's image holds everything its base chain built, and what it adds.
    chain = [layer.flavour for layer in flavour.chain] if isinstance(flavour, LoadedFlavour) else [flavour]
    flavour = chain[-1]
    clouds = list(flavour.clouds or ALL_CLOUDS) if clouds is None else list(clouds)
    found = {os_capability(flavour.os)}
    for use in [use for layer in chain for use in layer.steps]:
        step = catalogue.get(use.name)
        if step is None or not step.supports(flavour.os):
            continue
        if not all(use.runs_on(cloud) and cloud in step.spec.clouds for cloud in clouds):
            continue
        found |= step_capabilities(step, use.params)
    return found


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def template_patterns(template: str, step: Optional[Step] = None) -> list[str]:
    """A step capability as globs of what it can give.

    A placeholder whose parameter lists its `allowed` values (or is a boolean)
    becomes each of them, so `dotnet-{kind}:{version}` gives exactly
    `dotnet-hosting-bundle:10.0` and `dotnet-runtime:10.0`; any other
    placeholder matches any value (`package:*`).
    """
    parts = PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    choices = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            choices.append([_glob_escape(part)])
            continue
        param = step.spec.parameters.get(part) if step is not None else None
        if param is not None and param.type == "boolean":
            choices.append(["true", "false"])
        elif param is not None and param.allowed and param.type != "list":
            choices.append([_glob_escape(_text(v)) for v in param.allowed])
        else:
            choices.append(["*"])
    return sorted({normalise("".join(c)) for c in itertools.product(*choices)})


def catalogue_patterns(catalogue: Catalogue) -> dict[str, list[str]]:
    """Every capability any catalogue step could give, as globs, with the steps giving it."""
    patterns: dict[str, list[str]] = {}
    for name in catalogue.names():
        step = catalogue.steps[name]
        for template in step.spec.capabilities:
            for pattern in template_patterns(template, step):
                patterns.setdefault(pattern, []).append(name)
    for os in ("windows", "linux"):
        patterns.setdefault(os_capability(os), []).append("(every flavour)")
    return patterns


def providers(capability: str, catalogue: Catalogue) -> list[str]:
    """The catalogue steps that can give this capability (empty: nothing can)."""
    found: list[str] = []
    for pattern, steps in catalogue_patterns(catalogue).items():
        if fnmatchcase(normalise(capability), pattern):
            found.extend(s for s in steps if s not in found)
    return found


def check_catalogue(catalogue: Catalogue) -> list[Problem]:
    """Step capabilities are well formed and their placeholders name declared parameters."""
    problems = []
    for name in catalogue.names():
        step = catalogue.steps[name]
        source = f"components/steps/{name}/step.yaml"
        for index, template in enumerate(step.spec.capabilities):
            where = f"capabilities[{index}]"
            for param in PLACEHOLDER.findall(template):
                if param not in step.spec.parameters:
                    known = ", ".join(sorted(step.spec.parameters)) or "none"
                    problems.append(Problem(source, where, f"placeholder '{{{param}}}' names no parameter of '{name}' (parameters: {known})"))
            if capability_error(PLACEHOLDER.sub("x", template)):
                problems.append(
                    Problem(source, where, f"'{template}' is not a capability: use characters without blanks, and braces only around a parameter name")
                )
    return problems
