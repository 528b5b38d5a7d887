"""Load and check every flavour file and the stack settings before anything is created."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError

from .applications import check_applications
from .assets import Asset, AssetError, pack_directory, pack_file, text_files
from .errors import Problem, ValidationFailed, problems_from_pydantic
from .flavour import Flavour, LoadedFlavour
from .layers import build_problems, check_stack, resolve, schedule_problems
from .secrets import find_secret_values, scan_text
from .settings import StackSettings, parse_settings
from .steps import MAX_FILE_PARAM_CHARS, Catalogue, Parameter, is_secret_reference, load_catalogue
from .vocabulary import did_you_mean
from .yaml_files import read_yaml

# Files in image_flavours/ that are not flavours.
NON_FLAVOUR_FILES = {"applications.yaml"}


@dataclass(frozen=True)
class Inputs:
    """Everything the program needs, validated: settings, the flavours built here, the catalogue."""

    settings: StackSettings
    flavours: list[LoadedFlavour]  # in file order, filtered to the stack's selection
    catalogue: Catalogue
    # application -> owner, os, needs, served_by (a stack output)
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # reported, never fatal


def load_flavour_files(folder: Path, root: Path) -> tuple[list[LoadedFlavour], list[Problem]]:
    """Parse and model-check every image_flavours/*.yaml."""
    loaded: list[LoadedFlavour] = []
    problems: list[Problem] = []
    files = sorted(p for p in folder.glob("*.y*ml") if p.name not in NON_FLAVOUR_FILES)
    if not files:
        problems.append(Problem(_rel(folder, root), "", "no flavour files (*.yaml) found"))
    for path in files:
        source = _rel(path, root)
        data, errors = read_yaml(path, source)
        if errors:
            problems.extend(errors)
            continue
        if data is None:
            problems.append(Problem(source, "", "file is empty; a flavour needs name, description, version, os, base_image, steps"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(source, "", f"a flavour file is a mapping of fields, not a {type(data).__name__}"))
            continue
        try:
            loaded.append(LoadedFlavour(Flavour.model_validate(data), source))
        except ValidationError as err:
            problems.extend(problems_from_pydantic(source, err, Flavour))
    seen: dict[str, str] = {}
    for item in loaded:
        if item.flavour.name in seen:
            problems.append(
                Problem(item.source, "name", f"duplicate flavour name '{item.flavour.name}' (also in {seen[item.flavour.name]})")
            )
        seen.setdefault(item.flavour.name, item.source)
    return loaded, problems


def load_flavours(flavours_dir: Path, root: Path, catalogue: Catalogue) -> tuple[list[LoadedFlavour], list[Problem], bool]:
    """Every flavour file checked against the catalogue, files embedded, layers resolved (bases first).

    What holds in every stack; load_inputs adds the stack's own checks. Returns
    (flavours, problems, whether the layer graph itself is sound).
    """
    problems: list[Problem] = []
    loaded, file_problems = load_flavour_files(flavours_dir, root)
    problems.extend(file_problems)
    embedded = []
    for item in loaded:
        step_problems = check_steps(item, catalogue)
        problems.extend(step_problems)
        if not step_problems:
            item, found = embed_files(item, catalogue, flavours_dir)
            problems.extend(found)
        embedded.append(item)
    resolved, graph_problems = resolve(embedded, catalogue)
    problems.extend(graph_problems)
    return resolved, problems, not (file_problems or graph_problems)


def check_steps(item: LoadedFlavour, catalogue: Catalogue) -> list[Problem]:
    """Steps exist, support the OS, and take these parameters with these types; no secrets."""
    flavour, source = item.flavour, item.source
    problems: list[Problem] = []
    secret_candidates: list[tuple[str, str, str]] = []
    for index, use in enumerate(flavour.steps):
        where = f"steps[{index}]"
        if use.options.repeat is not None and flavour.base_image.flavour is None:
            problems.append(Problem(source, f"{where}.options.repeat",
                                    "only a layered flavour (base_image: {flavour: ...}) repeats or skips its base's steps"))
        step = catalogue.get(use.name)
        if step is None:
            hint = _close(use.name, catalogue.names())
            problems.append(Problem(source, where, f"unknown step '{use.name}'{hint} (known: {', '.join(catalogue.names())})"))
            continue
        if not step.supports(flavour.os):
            reason = step.spec.unsupported.get(flavour.os)
            problems.append(
                Problem(source, where, f"step '{use.name}' does not support {flavour.os}: {reason}" if reason else
                        f"step '{use.name}' does not support {flavour.os} (supports: {', '.join(step.spec.os)})")
            )
        if use.options.only_on and use.options.only_on not in step.spec.clouds:
            problems.append(Problem(source, f"{where}.options.only_on", f"step '{use.name}' does not run on {use.options.only_on}"))
        declared = step.spec.parameters
        for key, value in use.params.items():
            at = f"{where}.{use.name}.{key}"
            if key not in declared:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(Problem(source, at, f"unknown parameter{_close(key, list(declared))} (parameters of '{use.name}': {known})"))
                continue
            problems.extend(Problem(source, at, msg) for msg in _check_value(declared[key], value))
            allowed_here = declared[key].allowed_on.get(flavour.os)
            if allowed_here is not None and isinstance(value, str) and value not in allowed_here:
                problems.append(Problem(source, at, f"{value!r} does not run on a {flavour.os} flavour "
                                                    f"(use {' or '.join(allowed_here)})"))
            texts = _texts(at, key, value)
            for where_text, _, text in texts:
                if "{{" in text:
                    problems.append(Problem(source, where_text, AWSTOE_BRACES))
            if declared[key].secret_reference or declared[key].not_secret:
                continue
            secret_candidates.extend(texts)
        for key, param in declared.items():
            if param.required and key not in use.params:
                problems.append(Problem(source, f"{where}.{use.name}.{key}", f"required parameter is missing ({param.description})"))
        for group in step.spec.one_of:
            given = [key for key in group if use.params.get(key) not in (None, "")]
            if len(given) != 1:
                what = "only one" if given else "one"
                problems.append(Problem(source, f"{where}.{use.name}", f"give {what} of {', '.join(group)} (got {', '.join(given) or 'none'})"))
        for group in step.spec.exclusive:
            given = [key for key in group if use.params.get(key) not in (None, "")]
            if len(given) > 1:
                problems.append(Problem(source, f"{where}.{use.name}", f"give at most one of {', '.join(group)} (got {', '.join(given)})"))
        problems.extend(_option_problems(source, where, use, step, flavour.os))
        for group in step.spec.together:
            given = [key for key in group if use.params.get(key) not in (None, "")]
            if given and len(given) != len(group):
                missing = [key for key in group if key not in given]
                problems.append(Problem(source, f"{where}.{use.name}.{missing[0]}", f"required together with {', '.join(given)}"))
    for key, value in flavour.tags.items():
        secret_candidates.append((f"tags.{key}", key, value))
    for at, kinds in find_secret_values(secret_candidates).items():
        problems.append(
            Problem(
                source,
                at,
                f"value looks like a secret ({', '.join(sorted(set(kinds)))}); never put secrets in flavours: "
                "pass a Secrets Manager/SSM name or Key Vault URI to a parameter that takes a reference, "
                "or configure it at boot",
            )
        )
    return problems


# Options that only mean something on Windows (AIB's PowerShell customizer fields).
WINDOWS_ONLY_OPTIONS = {
    "run_as_system": "runs Windows steps as SYSTEM; Linux steps run as root on both clouds",
    "run_elevated": "is about Windows elevation; Linux steps run as root on both clouds",
}


def _option_problems(source: str, where: str, use: Any, step: Any, os: str) -> list[Problem]:
    """Options the flavour set that this step (or this OS) cannot honour, with the reason."""
    problems = []
    defaults = type(use.options)()
    for option in sorted(use.options.model_fields_set):
        if getattr(use.options, option) == getattr(defaults, option):
            continue  # the default, spelled out: nothing asked that the step cannot do
        reason = step.spec.refused_options.get(option)
        if reason:
            problems.append(Problem(source, f"{where}.options.{option}", f"step '{use.name}' cannot honour it: {reason}"))
        elif os == "linux" and option in WINDOWS_ONLY_OPTIONS:
            problems.append(Problem(source, f"{where}.options.{option}",
                                    f"a Linux flavour cannot honour it: {option} {WINDOWS_ONLY_OPTIONS[option]}"))
    return problems


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAX_ENVIRONMENT = 50


def _environment_problem(value: dict[Any, Any]) -> str:
    """Why an `environment` value is not a flat map of variable names to plain text, or ''."""
    if len(value) > MAX_ENVIRONMENT:
        return f"has {len(value)} variables; at most {MAX_ENVIRONMENT}"
    for key, item in value.items():
        if not isinstance(key, str) or not ENV_NAME.fullmatch(key):
            return f"{key!r} is not a variable name (letters, digits and underscores, not starting with a digit)"
        if key.upper().startswith("GI_"):
            return f"{key!r}: names starting with GI_ are the build's own (GI_STEP, GI_PARAM_*)"
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            return f"{key}: must be text or a whole number, got {type(item).__name__} {item!r}; quote it"
        if any(ord(c) < 32 and c not in "\t\n" for c in str(item)):
            return f"{key}: holds a control character; values are plain text"
    if len(json.dumps(value)) > MAX_FILE_PARAM_CHARS:
        return f"is longer than {MAX_FILE_PARAM_CHARS} characters"
    return ""


AWSTOE_BRACES = ("contains '{{', which EC2 Image Builder reads as one of its own variables and cannot escape; "
                 "keep templates (Ansible's Jinja) in the playbook's vars or group_vars and pass plain values here")


def _texts(at: str, key: str, value: Any) -> list[tuple[str, str, str]]:
    """(location, key, text) of every string in a value, nested mappings and lists included."""
    if isinstance(value, str):
        return [(at, key, value)]
    if isinstance(value, list):
        return [entry for item in value for entry in _texts(at, key, item)]
    if isinstance(value, dict):
        return [entry for k, item in value.items() for entry in _texts(f"{at}.{k}", str(k), item)]
    return []


def _mapping_problem(value: Any, depth: int = 0) -> str:
    """Why a mapping value cannot travel as JSON variables, or ''."""
    if depth > 8:
        return "is nested more than 8 levels deep"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                return f"key {key!r} is not a variable name (letters, digits, underscores)"
            problem = _mapping_problem(item, depth + 1)
            if problem:
                return problem
        return ""
    if isinstance(value, list):
        return next((p for p in (_mapping_problem(i, depth + 1) for i in value) if p), "")
    if value is None or isinstance(value, (str, int, float, bool)):
        return ""
    return f"holds a {type(value).__name__} ({value}), which JSON cannot carry; quote it to pass it as text"


def _check_value(param: Parameter, value: Any) -> list[str]:
    # type[Any]: the isinstance check below leaves value open to each type's own checks.
    expected: type[Any] = {"string": str, "integer": int, "boolean": bool, "list": list, "file": str, "directory": str,
                           "mapping": dict, "environment": dict}[param.type]
    if isinstance(value, bool) and param.type == "integer" or not isinstance(value, expected):
        what = "mapping of NAME: value" if param.type == "environment" else param.type
        return [f"must be a {what}, got {type(value).__name__} {value!r}"]
    if param.type == "environment" and isinstance(value, dict):
        problem = _environment_problem(value)
        return [problem] if problem else []
    if param.type == "integer" and param.minimum is not None and value < param.minimum:
        return [f"{value} is below the smallest value, {param.minimum}"]
    if param.type == "integer" and param.maximum is not None and value > param.maximum:
        return [f"{value} is above the largest value, {param.maximum}"]
    if param.type == "mapping":
        problem = _mapping_problem(value)
        if not problem and len(json.dumps(value)) > MAX_FILE_PARAM_CHARS:
            problem = f"is longer than {MAX_FILE_PARAM_CHARS} characters as JSON; ship larger data in the step's folder"
        return [problem] if problem else []
    if param.type == "list":
        for entry in value:
            if not isinstance(entry, str) or not entry or any(c.isspace() for c in entry):
                return [f"list entries must be non-empty strings without spaces, got {entry!r}"]
            if param.pattern and not re.fullmatch(param.pattern, entry):
                return [f"list entry {entry!r} does not match {param.pattern}"]
    if param.type in ("file", "directory") and (
        not re.fullmatch(r"(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+", value) or any(part in (".", "..") for part in value.split("/"))
    ):
        return [f"{value!r} is not a path inside image_flavours/ (use forward slashes, no '..', e.g. tests/web.Tests.ps1)"]
    if param.secret_reference and not is_secret_reference(value):
        return [
            "takes a reference, not a value: a Secrets Manager ARN or 'secretsmanager:<name>', an SSM "
            "'ssm:/<path>', or a Key Vault secret URI; the build instance reads it with its own identity"
        ]
    if param.allowed is not None and value not in param.allowed:
        return [f"{value!r} is not one of {param.allowed}"]
    if param.pattern and isinstance(value, str) and not re.fullmatch(param.pattern, value):
        return [f"{value!r} does not match {param.pattern}"]
    return []


def embed_files(item: LoadedFlavour, catalogue: Catalogue, flavours_dir: Path) -> tuple[LoadedFlavour, list[Problem]]:
    """Replace each file parameter's path (relative to image_flavours/) by the file's text.

    The build instance has no checkout of this repository, so a file shipped with a flavour
    (a test suite) travels inside the step; it is size-limited and scanned for secrets here.
    """
    problems: list[Problem] = []
    steps = []
    root = flavours_dir.resolve()
    for index, use in enumerate(item.flavour.steps):
        step = catalogue.get(use.name)
        params = dict(use.params)
        for key, param in (step.spec.parameters.items() if step else []):
            if param.type == "directory" and isinstance(params.get(key), str):
                params[key], found = _pack(item.source, f"steps[{index}].{use.name}.{key}", flavours_dir, params[key],
                                           param.files_too)
                problems.extend(found)
                continue
            if param.type != "file" or not isinstance(params.get(key), str):
                continue
            at = f"steps[{index}].{use.name}.{key}"
            path = (flavours_dir / params[key]).resolve()
            if root not in path.parents:
                # The path itself stays inside (checked above): a symbolic link on the way leads out.
                problems.append(Problem(item.source, at, f"'{params[key]}' leads outside {flavours_dir.name}/ through a "
                                                         "symbolic link; only files of this repository travel into a build"))
                continue
            if not path.is_file():
                problems.append(Problem(item.source, at, f"no file '{params[key]}' in {flavours_dir.name}/"))
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                problems.append(Problem(item.source, at, f"'{params[key]}' is not UTF-8 text"))
                continue
            if len(text) > MAX_FILE_PARAM_CHARS:
                problems.append(
                    Problem(item.source, at, f"'{params[key]}' has {len(text)} characters; at most {MAX_FILE_PARAM_CHARS} travel inside a build step")
                )
                continue
            for line, kind in scan_text(text, suffix=path.suffix or ".txt"):
                problems.append(Problem(item.source, at, f"'{params[key]}' line {line} looks like a secret ({kind})"))
            params[key] = text
        steps.append(use.model_copy(update={"params": params}) if params != use.params else use)
    flavour = item.flavour.model_copy(update={"steps": steps})
    return LoadedFlavour(flavour, item.source), problems


def _pack(source: str, at: str, flavours_dir: Path, value: str,
          files_too: bool = False) -> tuple[Asset | str, list[Problem]]:
    """A directory parameter's folder (or, files_too, a single file) as a build asset, scanned for
    secrets file by file."""
    root = flavours_dir.resolve()
    folder = (flavours_dir / value).resolve()
    if root not in folder.parents:
        return value, [Problem(source, at, f"'{value}' leads outside {flavours_dir.name}/ through a symbolic link; "
                                           "only files of this repository travel into a build")]
    single = files_too and folder.is_file() and not (flavours_dir / value).is_symlink()
    if not single and not folder.is_dir():
        what = "file or folder" if files_too else "folder"
        return value, [Problem(source, at, f"no {what} '{value}' in {flavours_dir.name}/")]
    try:
        asset = pack_file(folder, value) if single else pack_directory(folder, value)
    except AssetError as err:
        return value, [Problem(source, at, str(err))]
    problems: list[Problem] = []
    for path in [folder] if single else text_files(folder):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary files: nothing the text scanner can judge
        rel = value if single else f"{value}/{path.relative_to(folder).as_posix()}"
        lines: dict[int, list[str]] = {}
        for line, kind in scan_text(text, suffix=path.suffix or ".txt"):
            lines.setdefault(line, []).append(kind)
        for line, kinds in sorted(lines.items()):
            problems.append(Problem(source, at, f"'{rel}' line {line} looks like a secret ({', '.join(kinds)}); "
                                                "build assets end up on the build instance and in storage"))
    return asset, problems


def check_against_settings(item: LoadedFlavour, settings: StackSettings, catalogue: Catalogue) -> list[Problem]:
    """Each cloud a flavour is built on has a base image, and runs every step unless the flavour says otherwise."""
    problems: list[Problem] = []
    clouds = item.flavour.enabled_clouds(settings.clouds)
    for cloud in clouds:
        if item.flavour.base_image.flavour is None and getattr(item.flavour.base_image, cloud) is None:
            problems.append(
                Problem(item.source, f"base_image.{cloud}", f"required: this flavour is built on {cloud} in this stack")
            )
    # The steps the file lists (a layer also runs steps its base lists; the base's own check names them).
    for index, use in enumerate(item.flavour.steps):
        step = catalogue.get(use.name)
        if step is None:
            continue  # check_steps reports it
        for cloud in clouds:
            unsupported = step.spec.cloud_unsupported
            reason = unsupported.get(cloud, {}).get(item.flavour.os)  # type: ignore[call-overload]
            if reason and use.runs_on(cloud):
                problems.append(Problem(item.source, f"steps[{index}]",
                                        f"step '{use.name}' cannot run on {cloud} for {item.flavour.os}: {reason}"))
            if not use.runs_on(cloud) or cloud not in step.spec.clouds:
                continue
            defaults = type(use.options)()
            refused = step.spec.cloud_refused.get(cloud, {})
            for key, why in refused.get(item.flavour.os, {}).items():
                if key in use.options.model_fields_set and getattr(use.options, key) != getattr(defaults, key):
                    at = f"steps[{index}].options.{key}"
                elif key in use.params and use.params[key] != getattr(step.spec.parameters.get(key), "default", None):
                    at = f"steps[{index}].{use.name}.{key}"
                else:
                    continue
                problems.append(Problem(item.source, at, f"{cloud} cannot honour it for {item.flavour.os}: {why}"))
        missing = [c for c in clouds if c not in step.spec.clouds]
        if missing and use.options.only_on is None:
            # Otherwise one cloud's image silently lacks what the other's has.
            problems.append(Problem(
                item.source, f"steps[{index}]",
                f"step '{use.name}' runs only on {', '.join(step.spec.clouds)}, but this flavour is also built on "
                f"{', '.join(missing)}; add 'options: {{only_on: {step.spec.clouds[0]}}}' to say the images differ",
            ))
    return problems


def load_inputs(config: dict[str, Any], settings_source: str, flavours_dir: Path, root: Path) -> Inputs:
    """Load and check everything; raise ValidationFailed with every problem found."""
    problems: list[Problem] = []
    settings: Optional[StackSettings] = None
    try:
        settings = parse_settings(config, settings_source)
    except ValidationFailed as failed:
        problems.extend(failed.problems)
    try:
        catalogue = load_catalogue()
    except ValidationFailed as failed:
        raise ValidationFailed(problems + failed.problems) from None
    loaded, flavour_problems, graph_sound = load_flavours(flavours_dir, root, catalogue)
    problems.extend(flavour_problems)
    selected = loaded
    warnings: list[Problem] = []
    if settings is not None:
        names = [item.flavour.name for item in loaded]
        if settings.flavours is not None:
            for index, name in enumerate(settings.flavours):
                if name not in names and graph_sound:
                    problems.append(
                        Problem(settings_source, f"golden-images:flavours[{index}]", f"no flavour named '{name}'{_close(name, names)}")
                    )
            selected = [item for item in loaded if item.flavour.name in settings.flavours]
        for item in selected:
            problems.extend(check_against_settings(item, settings, catalogue))
        if graph_sound:
            problems.extend(check_stack(selected, loaded, settings.clouds, settings_source, settings.flavours is not None))
            problems.extend(schedule_problems(selected, settings.schedule, settings_source))
            build_errors, warnings = build_problems(selected, settings.schedule)
            problems.extend(build_errors)
    # Every application is served by a flavour built in this stack (image_flavours/applications.yaml).
    apps = check_applications(flavours_dir, root, selected, catalogue, settings.clouds if settings else None, ready=not problems)
    problems.extend(apps.problems)
    if problems or settings is None:  # settings are None only when they had problems
        raise ValidationFailed(problems)
    return Inputs(settings=settings, flavours=selected, catalogue=catalogue, applications=apps.applications,
                  warnings=warnings + apps.warnings)


_close = did_you_mean


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
