"""The applications that run on golden images, and which flavours serve them.

`image_flavours/applications.yaml` lists every application: its name, owner,
OS family and the capabilities it needs. A flavour *serves* an application
when it has the application's OS and every capability it needs (capabilities
come from the flavour's steps; see capabilities.py). Versions match exactly:
`dotnet-runtime:10.0` is served by a flavour with `dotnet-runtime:10.0`, not by
one with `dotnet-runtime:8.0` or `dotnet-runtime:10`.

The check, run before anything is created: every application is served by at
least one flavour enabled in the stack (an error otherwise, naming the
application, what it misses and the closest flavour); a flavour that serves no
application is a warning. `rules` in the same file describe which
capabilities must not be on an image that does not need them and which cannot
share an image; the check warns about the first and the suggestion
(suggest.py) honours both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence

from pydantic import Field, ValidationError, field_validator, model_validator

from .capabilities import capability_error, catalogue_patterns, check_catalogue, flavour_capabilities, normalise, os_capability
from .errors import Problem, problems_from_pydantic
from .flavour import LoadedFlavour, OsFamily
from .inert import control_problems
from .steps import Catalogue
from .vocabulary import StrictModel, did_you_mean
from .yaml_files import read_yaml

APPLICATIONS_FILE = "applications.yaml"
APP_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$"


def _capability_list(value: list[str], what: str) -> list[str]:
    """Normalised capabilities (or capability globs), each well formed and listed once."""
    out = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"{what} are strings, got {type(item).__name__} {item!r}")
        cap = normalise(item)
        error = capability_error(cap)
        if error:
            raise ValueError(error)
        if cap in out:
            raise ValueError(f"'{cap}' is listed twice")
        out.append(cap)
    return out


class Application(StrictModel):
    """One application that runs on machines built from a golden image."""

    name: str = Field(pattern=APP_NAME_PATTERN, description="Unique id: lower-case letters, digits, hyphens")
    description: Optional[str] = Field(default=None, min_length=1, max_length=1000)
    owner: str = Field(min_length=1, max_length=200, description="Team or person answerable for the application")
    os: OsFamily
    needs: list[str] = Field(
        default_factory=list,
        description="Capabilities the application needs on its image, e.g. [iis, dotnet-runtime:10.0]",
    )
    stacks: Optional[list[str]] = Field(
        default=None, min_length=1,
        description="Stacks that must serve it (default: every stack); other stacks need not build its flavour")
    clouds: Optional[list[Literal["aws", "azure"]]] = Field(
        default=None, min_length=1,
        description="Clouds it runs on (default: any); a stack on none of them need not serve it")

    def needed_in(self, stack: Optional[str], stack_clouds: Optional[Sequence[str]]) -> bool:
        """Whether a stack must serve this application (unknown stack or clouds: yes)."""
        if self.stacks is not None and stack is not None and stack not in self.stacks:
            return False
        if self.clouds is not None and stack_clouds is not None and not set(self.clouds) & set(stack_clouds):
            return False
        return True

    @field_validator("name", mode="before")
    @classmethod
    def _name_hint(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.match(APP_NAME_PATTERN, value):
            slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "my-application"
            raise ValueError(
                f"'{value}' is not a valid name; use 2-63 lower-case letters, digits and hyphens, "
                f"starting with a letter (e.g. '{slug[:63]}')"
            )
        return value

    @field_validator("needs")
    @classmethod
    def _needs(cls, value: list[str]) -> list[str]:
        value = _capability_list(value, "capabilities")
        for cap in value:
            if cap.startswith("os:"):
                raise ValueError(f"'{cap}': the os field says which OS the application runs on; leave os: out of needs")
        return value


class Rules(StrictModel):
    """What may go on an image together; globs such as `package:*` are allowed."""

    only_where_needed: list[str] = Field(
        default_factory=list,
        description="Capabilities an image carries only if every application on it needs them (e.g. iis)",
    )
    exclusive: list[list[str]] = Field(
        default_factory=list,
        description="Groups of capabilities of which one image carries at most one (e.g. [\"dotnet-framework:*\"])",
    )

    @field_validator("only_where_needed")
    @classmethod
    def _only(cls, value: list[str]) -> list[str]:
        return _capability_list(value, "capabilities")

    @field_validator("exclusive")
    @classmethod
    def _exclusive(cls, value: list[list[str]]) -> list[list[str]]:
        out = []
        for group in value:
            if not group:
                raise ValueError("an exclusive group lists at least one capability or glob")
            out.append(_capability_list(group, "capabilities"))
        return out

    def is_exposure(self, capability: str) -> bool:
        return any(fnmatchcase(capability, p) for p in self.only_where_needed)

    def exposure(self, capabilities: Iterable[str]) -> frozenset[str]:
        return frozenset(c for c in capabilities if self.is_exposure(c))

    def clashes(self, capabilities: Iterable[str]) -> list[tuple[int, list[str]]]:
        """The exclusive groups these capabilities break: (group index, the clashing capabilities)."""
        caps = sorted(set(capabilities))
        found = []
        for index, group in enumerate(self.exclusive):
            members = [c for c in caps if any(fnmatchcase(c, p) for p in group)]
            if len(members) > 1:
                found.append((index, members))
        return found

    def compatible(self, a: Iterable[str], b: Iterable[str]) -> bool:
        """Whether two applications with these needs can share one image under the rules."""
        a, b = set(a), set(b)
        return self.exposure(a) == self.exposure(b) and not self.clashes(a | b)


class ApplicationsFile(StrictModel):
    """image_flavours/applications.yaml."""

    applications: list[Application] = Field(min_length=1)
    rules: Rules = Field(default_factory=Rules)

    @model_validator(mode="after")
    def _unique(self) -> "ApplicationsFile":
        seen = set()
        for app in self.applications:
            if app.name in seen:
                raise ValueError(f"application '{app.name}' is listed twice")
            seen.add(app.name)
        return self


@dataclass(frozen=True)
class Offering:
    """What one flavour offers applications: its OS and its capabilities."""

    name: str
    os: str
    capabilities: frozenset[str]
    source: str = ""


def requirements(app: Application) -> frozenset[str]:
    """Everything an application needs from an image, its OS included."""
    return frozenset(app.needs) | {os_capability(app.os)}


def missing(app: Application, offering: Offering) -> list[str]:
    """What the application needs that the flavour lacks (empty: the flavour serves it)."""
    return sorted(requirements(app) - offering.capabilities)


def serves(offering: Offering, app: Application) -> bool:
    return offering.os == app.os and not missing(app, offering)


def _fit(app: Application, offering: Offering, rules: Rules) -> tuple[int, int, int, str]:
    """Sort key: fewest missing, then fewest unneeded exposed capabilities, then fewest extras."""
    extra = offering.capabilities - requirements(app)
    return (len(missing(app, offering)), len(rules.exposure(extra)), len(extra), offering.name)


def serving(apps: ApplicationsFile, offerings: list[Offering]) -> dict[str, list[str]]:
    """Application name -> the flavours serving it, best fit first."""
    return {
        app.name: [o.name for o in sorted(offerings, key=lambda o: _fit(app, o, apps.rules)) if serves(o, app)]
        for app in apps.applications
    }


def offerings_of(flavours: Iterable[LoadedFlavour], catalogue: Catalogue,
                 stack_clouds: Optional[Sequence[str]] = None) -> list[Offering]:
    """Offerings of loaded flavours.

    With `stack_clouds`, a flavour offers what its images have on every cloud it
    is built on in that stack, and a flavour built on none of them offers nothing.
    """
    out = []
    for item in flavours:
        flavour = item.flavour
        clouds = flavour.enabled_clouds(stack_clouds) if stack_clouds is not None else None
        if clouds == []:
            continue
        caps = frozenset(flavour_capabilities(item, catalogue, clouds))
        out.append(Offering(flavour.name, flavour.os, caps, item.source))
    return out


def unknown_needs(apps: ApplicationsFile, catalogue: Catalogue) -> list[tuple[int, int, str, str]]:
    """Needs no catalogue step can give: (application index, need index, need, hint)."""
    patterns = list(catalogue_patterns(catalogue))
    literal = [p for p in patterns if "*" not in p]
    found = []
    for i, app in enumerate(apps.applications):
        for j, cap in enumerate(app.needs):
            if not any(fnmatchcase(cap, p) for p in patterns):
                found.append((i, j, cap, did_you_mean(cap, literal)))
    return found


def check(apps: ApplicationsFile, source: str, offerings: list[Offering], catalogue: Catalogue,
          stack: Optional[str] = None, stack_clouds: Optional[Sequence[str]] = None) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of these applications against these flavours.

    An application that says which stacks or clouds need it (`stacks`, `clouds`) is not an
    error in a stack outside them: a dev stack trying one flavour need not build the rest.
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    rules = apps.rules
    for i, j, cap, hint in unknown_needs(apps, catalogue):
        errors.append(Problem(source, f"applications[{i}].needs[{j}]", f"no step in the catalogue gives '{cap}'{hint}"))
    served = serving(apps, offerings)
    by_name = {o.name: o for o in offerings}
    for i, app in enumerate(apps.applications):
        where = f"applications[{i}]"
        for index, members in rules.clashes(app.needs):
            errors.append(
                Problem(source, f"{where}.needs", f"{', '.join(members)} cannot share an image (rules.exclusive[{index}]); split the application")
            )
        if not served[app.name]:
            if app.needed_in(stack, stack_clouds):
                errors.append(Problem(source, where, _unserved(app, offerings, rules)))
            continue
        clean = [n for n in served[app.name] if not (rules.exposure(by_name[n].capabilities) - set(app.needs))]
        if not clean:
            best = by_name[served[app.name][0]]
            extra = sorted(rules.exposure(best.capabilities) - set(app.needs))
            warnings.append(
                Problem(
                    source,
                    where,
                    f"application '{app.name}' runs only on flavours with capabilities it does not need "
                    f"and rules.only_where_needed keeps off such images: '{best.name}' has {', '.join(extra)}",
                )
            )
    users = {name for names in served.values() for name in names}
    for offering in offerings:
        if offering.name not in users:
            warnings.append(
                Problem(
                    offering.source or offering.name,
                    "",
                    f"flavour '{offering.name}' serves no application listed in {APPLICATIONS_FILE}; "
                    "list the applications that use it or retire it",
                )
            )
        for index, members in rules.clashes(offering.capabilities):
            warnings.append(
                Problem(offering.source or offering.name, "steps", f"carries {', '.join(members)}, which cannot share an image (rules.exclusive[{index}])")
            )
    return errors, warnings


def _unserved(app: Application, offerings: list[Offering], rules: Rules) -> str:
    head = f"application '{app.name}' (owner {app.owner}) is not served by any flavour enabled in this stack"
    same_os = [o for o in offerings if o.os == app.os]
    needs = ", ".join(app.needs) or "nothing beyond the OS"
    if not same_os:
        return f"{head}: missing {os_capability(app.os)} (no flavour runs {app.os}); it needs {needs}"
    closest = min(same_os, key=lambda o: _fit(app, o, rules))
    return f"{head}: missing {', '.join(missing(app, closest))} on the closest flavour, '{closest.name}'"


def export(apps: ApplicationsFile, served: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """The stack output: application -> owner, OS, needs and the flavours serving it."""
    return {
        app.name: {"owner": app.owner, "os": app.os, "needs": list(app.needs), "served_by": served.get(app.name, [])}
        for app in apps.applications
    }


@dataclass
class Report:
    """The outcome of the applications check for one stack."""

    applications: dict[str, dict[str, Any]] = field(default_factory=dict)  # the stack output, see export()
    problems: list[Problem] = field(default_factory=list)  # errors: the run stops
    warnings: list[Problem] = field(default_factory=list)  # reported, never fatal


def load_file(path: Path, source: str, root: Optional[Path] = None) -> tuple[Optional[ApplicationsFile], list[Problem]]:
    """Parse and model-check applications.yaml; every mistake as a Problem."""

    data, problems = read_yaml(path, source, root)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        return None, [Problem(source, "", f"an applications file is a mapping with an 'applications' list, not {kind}")]
    controls = control_problems(data, source)
    if controls:
        return None, controls
    try:
        return ApplicationsFile.model_validate(data), []
    except ValidationError as err:
        return None, problems_from_pydantic(source, err, ApplicationsFile)


def check_applications(
    flavours_dir: Path,
    root: Path,
    flavours: Iterable[LoadedFlavour],
    catalogue: Catalogue,
    stack_clouds: Optional[Sequence[str]],
    ready: bool = True,
    stack: Optional[str] = None,
) -> Report:
    """The loader's entry point: no applications file, nothing to check.

    The file itself is always checked; whether the flavours serve the
    applications only when everything else is valid (`ready`), because broken
    flavours would only add noise.
    """
    path = flavours_dir / APPLICATIONS_FILE
    if not path.exists() and not path.is_symlink():
        return Report()  # a directory, FIFO or dangling link of that name is refused by name
    try:
        source = str(path.absolute().relative_to(Path(root).absolute()))
    except ValueError:
        source = str(path)
    apps, problems = load_file(path, source, flavours_dir)
    if apps is None or not ready:
        return Report(problems=problems)
    problems = check_catalogue(catalogue)
    if problems:
        return Report(problems=problems)
    offerings = offerings_of(flavours, catalogue, stack_clouds)
    errors, warnings = check(apps, source, offerings, catalogue, stack, stack_clouds)
    return Report(applications=export(apps, serving(apps, offerings)), problems=errors, warnings=warnings)


def summary_lines(applications: Optional[Mapping[str, Mapping[str, Any]]], flavour_names: Iterable[str]) -> list[str]:
    """The applications part of `make plan`'s summary, from the stack output."""
    if not applications:
        return []
    lines = [f"Applications ({len(applications)}):"]
    for name, info in applications.items():
        served_by = ", ".join(info.get("served_by") or []) or "NOTHING"
        needs = ", ".join(info.get("needs") or []) or "nothing beyond the OS"
        lines.append(f"  {name} ({info.get('os', '')}, owner {info.get('owner', '')}) needs {needs}")
        lines.append(f"    served by: {served_by}")
    used = {f for info in applications.values() for f in info.get("served_by") or []}
    for flavour in flavour_names:
        if flavour not in used:
            lines.append(f"  warning: flavour {flavour} serves no application")
    lines.append("")
    return lines
