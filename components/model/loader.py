"""Load and check every flavour file and the stack settings before anything is created."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError

from . import secret_refs
from .applications import check_applications
from .assets import Asset, AssetError, pack_and_read, pack_file_and_read
from .distributions import NAMES as DISTRIBUTION_NAMES
from .distributions import base_distributions
from .errors import Problem, ValidationFailed, problems_from_pydantic
from .files import FileRefused, inside, read_text
from .flavour import Flavour, FlavourSchedule, LoadedFlavour
from .inert import control_problems
from .layers import build_problems, check_stack, resolve, schedule_problems
from .secrets import ScanRefused, SecretCache, active_cache, decode_for_scan, find_secret_values, scan_text
from .settings import Schedule, StackSettings, parse_settings
from .steps import MAX_FILE_PARAM_CHARS, SECRET_TYPES, Catalogue, Parameter, is_secret_reference, load_catalogue
from .use_names import name_uses, use_name_problem
from .versions import VERSIONS_FILE, load_versions, substitute
from .vocabulary import NAMESPACE, did_you_mean
from .yaml_files import read_yaml

# Files in image_flavours/ that are not flavours.
NON_FLAVOUR_FILES = {"applications.yaml", VERSIONS_FILE}


@dataclass(frozen=True)
class Inputs:
    """Everything the program needs, validated: settings, the flavours built here, the catalogue."""

    settings: StackSettings
    flavours: list[LoadedFlavour]  # in file order, filtered to the stack's selection
    catalogue: Catalogue
    # application -> owner, os, needs, served_by (a stack output)
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # reported, never fatal


def load_flavour_files(folder: Path, root: Path, catalogue: Catalogue | None = None,
                       cache: Optional[SecretCache] = None,
                       partials: Optional[list[tuple[LoadedFlavour, frozenset[str]]]] = None,
                       ) -> tuple[list[LoadedFlavour], list[Problem]]:
    """Parse and model-check every image_flavours/*.yaml, the versions map put in first.

    A file whose fields fail the model still has its steps checked (with a catalogue),
    so a new flavour's mistakes all show in one run; `partials`, when given, receives such a
    file's flavour without the failed fields (and the names of those), for the stack's checks.
    """
    loaded: list[LoadedFlavour] = []
    problems: list[Problem] = []
    versions, version_problems = load_versions(folder, _rel(folder / VERSIONS_FILE, root))
    problems.extend(version_problems)
    files = sorted(p for p in folder.glob("*.y*ml") if p.name not in NON_FLAVOUR_FILES)
    if not files:
        problems.append(Problem(_rel(folder, root), "", "no flavour files (*.yaml) found"))
    for path in files:
        source = _rel(path, root)
        data, errors = read_yaml(path, source, folder)
        if errors:
            problems.extend(errors)
            continue
        if data is None:
            problems.append(Problem(source, "", "file is empty; a flavour needs name, description, version, os, base_image, steps"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(source, "", f"a flavour file is a mapping of fields, not a {type(data).__name__}"))
            continue
        # Versions first: the control-character check then sees the text the build receives,
        # a version's value included.
        data, unknown, used = substitute(data, versions)
        problems.extend(Problem(source, at, message) for at, message in unknown)
        controls = control_problems(data, source)
        if controls:
            problems.extend(controls)
            continue
        try:
            flavour = Flavour.model_validate(data)
        except ValidationError as err:
            problems.extend(problems_from_pydantic(source, err, Flavour))
            if catalogue is not None:
                problems.extend(_steps_of_invalid(data, source, err, catalogue, folder, cache))
            partial, later = _without_failed(data, err, source)
            # What the model checks only once every field holds (a step's `when` against the flags).
            problems.extend(later)
            if partials is not None and partial is not None:
                partials.append((LoadedFlavour(partial[0], source), partial[1]))
            continue
        loaded.append(LoadedFlavour(flavour, source, versions=tuple(sorted((k, versions[k]) for k in used))))
    seen: dict[str, str] = {}
    for item in loaded:
        if item.flavour.name in seen:
            problems.append(
                Problem(item.source, "name", f"duplicate flavour name '{item.flavour.name}' (also in {seen[item.flavour.name]})")
            )
        seen.setdefault(item.flavour.name, item.source)
    return loaded, problems


# Stand-ins for required fields that failed, so that the rest of the file can be checked
# against the stack; problems at these fields are left to the model's own message.
_STAND_INS = {"description": "-", "version": "0.0.0", "steps": ["cleanup"]}


def _without_failed(data: dict[str, Any], err: ValidationError,
                    source: str) -> tuple[tuple[Flavour, frozenset[str]] | None, list[Problem]]:
    """(the flavour with the fields that failed left out, required ones stood in for, and their
    names; or None when what the stack's checks rest on (name, os, base image, clouds) failed or
    the rest does not hold), and the problems of the checks across fields that the rest fails."""
    failed = frozenset(str(e["loc"][0]) for e in err.errors() if e["loc"])
    if not failed or failed & {"os", "base_image", "clouds"}:
        return None, []
    kept = {key: value for key, value in data.items() if key not in failed}
    kept.update({key: value for key, value in _STAND_INS.items() if key in failed})
    kept.setdefault("name", "unnamed")
    try:
        flavour = Flavour.model_validate(kept)
    except ValidationError as later:
        # The problems of the stand-ins, and of fields left out, are not this file's.
        found = problems_from_pydantic(source, later, Flavour)
        return None, [p for p in found if _top(p.path) not in failed | {"name"}]
    return ((flavour, failed) if "name" not in failed else None), []


def _step_problems(item: LoadedFlavour, catalogue: Catalogue, folder: Path,
                   cache: Optional[SecretCache] = None) -> list[Problem]:
    """A flavour's step problems, and those of the files and folders its steps name, in one pass."""
    problems = check_steps(item, catalogue, cache)
    _, found = embed_files(item, catalogue, folder, cache, skip=frozenset(p.path for p in problems))
    return problems + found


def _steps_of_invalid(data: dict[str, Any], source: str, err: ValidationError, catalogue: Catalogue,
                      folder: Path, cache: Optional[SecretCache] = None) -> list[Problem]:
    """The step problems of a file whose other fields failed: its steps and os are checked on their own,
    with the files and folders they name."""
    from pydantic import TypeAdapter

    from .flavour import BaseImage, StepUse

    failed = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
    if "os" in failed or not isinstance(data.get("steps"), list):
        return []
    try:
        base = BaseImage.model_validate(data.get("base_image") or {})
    except ValidationError:
        base = BaseImage()
    if "steps" not in failed:
        steps = TypeAdapter(list[StepUse]).validate_python(data["steps"])
        partial = Flavour.model_construct(name=str(data.get("name", "")), description="", version="0.0.0",
                                          os=data["os"], steps=steps, base_image=base, tags={}, flags={})
        return _step_problems(LoadedFlavour(partial, source), catalogue, folder, cache)
    # Some step uses did not parse (reported already): every other one is checked on its own,
    # under its own index.
    problems: list[Problem] = []
    adapter = TypeAdapter(StepUse)
    for index, raw in enumerate(data["steps"]):
        try:
            use = adapter.validate_python(raw)
        except ValidationError:
            continue
        partial = Flavour.model_construct(name=str(data.get("name", "")), description="", version="0.0.0",
                                          os=data["os"], steps=[use], base_image=base, tags={}, flags={})
        for found in _step_problems(LoadedFlavour(partial, source), catalogue, folder, cache):
            path = f"steps[{index}]{found.path[len('steps[0]'):]}" if found.path.startswith("steps[0]") else found.path
            if path.startswith("steps["):
                problems.append(Problem(found.source, path, found.message))
    return problems


def load_flavours(flavours_dir: Path, root: Path, catalogue: Catalogue,
                  cache: Optional[SecretCache] = None,
                  partials: Optional[list[tuple[LoadedFlavour, frozenset[str]]]] = None,
                  ) -> tuple[list[LoadedFlavour], list[Problem], bool]:
    """Every flavour file checked against the catalogue, files embedded, layers resolved (bases first).

    What holds in every stack; load_inputs adds the stack's own checks. Returns
    (flavours, problems, whether every file loaded as a flavour). A layer whose chain has a
    problem stays unresolved (`layered` is False); every other flavour is resolved.
    """
    problems: list[Problem] = []
    cache = cache if cache is not None else active_cache()
    loaded, file_problems = load_flavour_files(flavours_dir, root, catalogue, cache, partials)
    problems.extend(file_problems)
    embedded = []
    for item in loaded:
        step_problems = check_steps(item, catalogue, cache)
        problems.extend(step_problems)
        # Embedding reads only file and directory parameters given as paths: it runs whatever
        # else is wrong, so a missing file shows in the same run as a misspelt parameter (a
        # parameter already refused is not read).
        refused_paths = frozenset(p.path for p in step_problems)
        # Named before embedding (a script's derived name is its file's stem); a use refused
        # for something else is not also reported for the name it would have had.
        item, collisions = name_uses(item, catalogue, skip=refused_paths)
        item, found = embed_files(item, catalogue, flavours_dir, cache, skip=refused_paths)
        problems.extend(found)
        refused_uses = {p.path.split(".", 1)[0] for p in (*step_problems, *found)}
        problems.extend(p for p in collisions if p.path.split(".", 1)[0] not in refused_uses)
        embedded.append(item)
    resolved, graph_problems = resolve(embedded, catalogue)
    problems.extend(graph_problems)
    return resolved, problems, not file_problems


def layered(item: LoadedFlavour) -> bool:
    """Built on a marketplace image, or a layer resolved on its base: the layer checks can run."""
    return item.flavour.base_image.flavour is None or item.layer is not None


def check_steps(item: LoadedFlavour, catalogue: Catalogue, cache: Optional[SecretCache] = None) -> list[Problem]:
    """Steps exist, support the OS, and take these parameters with these types; no secrets."""
    flavour, source = item.flavour, item.source
    problems: list[Problem] = []
    secret_candidates: list[tuple[str, str, str]] = []
    secret_advice: dict[str, str] = {}  # location -> what to write instead, for step parameters
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
        for cloud, distribution in base_distributions(flavour.base_image).items():
            reason = step.spec.unsupported_distributions.get(distribution)
            if reason and use.only_cloud in (None, cloud):
                problems.append(Problem(source, f"{where}.{use.name}", f"step '{use.name}' does not support "
                                        f"{DISTRIBUTION_NAMES[distribution]} (base_image.{cloud}): {reason}"))
        problems.extend(Problem(source, f"{where}.options.valid_exit_codes[{n}]", message)
                        for n, message in exit_code_problems(flavour.os, use.options.valid_exit_codes))
        if use.only_cloud and use.only_cloud not in step.spec.clouds:
            field_name = "options.only_on" if use.options.only_on else "when.cloud"
            problems.append(Problem(source, f"{where}.{field_name}", f"step '{use.name}' does not run on {use.only_cloud}"))
        declared = step.spec.parameters
        for key, value in use.params.items():
            at = f"{where}.{use.name}.{key}"
            if key not in declared:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(Problem(source, at, f"unknown parameter{_close(key, list(declared))} (parameters of '{use.name}': {known})"))
                continue
            if declared[key].type in SECRET_TYPES:
                problems.extend(Problem(source, at + sub, msg)
                                for sub, msg in _secret_problems(declared[key], key, value, _step_clouds(flavour, use, step)))
                continue  # references, not values: nothing to scan
            problems.extend(Problem(source, at, msg) for msg in _check_value(declared[key], value))
            refused_here = declared[key].refused_on.get(flavour.os, {})
            if isinstance(value, str) and value in refused_here:
                problems.append(Problem(source, at, f"{value!r} does not run on a {flavour.os} flavour: {refused_here[value]}"))
            allowed_here = declared[key].allowed_on.get(flavour.os)
            if allowed_here is not None and isinstance(value, str) and value not in allowed_here and value not in refused_here:
                problems.append(Problem(source, at, f"{value!r} does not run on a {flavour.os} flavour "
                                                    f"(use {' or '.join(allowed_here)})"))
            texts = _texts(at, key, value)
            if declared[key].secret_reference or declared[key].not_secret:
                continue
            secret_candidates.extend(texts)
            for location, name, _ in texts:
                secret_advice[location] = _secret_hint(step, key, name, _step_clouds(flavour, use, step))
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
        resolved = step.resolve_params(use.params)
        for condition in step.spec.conditions:
            if not condition.holds(resolved):
                continue
            what = ", ".join(f"{k}: {v}" for k, v in condition.when.items())
            for key in condition.requires:
                if use.params.get(key) in (None, ""):
                    problems.append(Problem(source, f"{where}.{use.name}.{key}", f"required with {what} "
                                            f"({declared[key].description})"))
            field_at = f"{where}.{use.name}." + next(iter(condition.when))
            for cloud, distribution in base_distributions(flavour.base_image).items():
                reason = condition.unsupported_distributions.get(distribution)
                if reason and use.only_cloud in (None, cloud):
                    problems.append(Problem(source, field_at, f"{what} does not run on "
                                            f"{DISTRIBUTION_NAMES[distribution]} (base_image.{cloud}): {reason}"))
        problems.extend(_option_problems(source, where, use, step, flavour.os))
        for group in step.spec.together:
            given = [key for key in group if use.params.get(key) not in (None, "")]
            if given and len(given) != len(group):
                missing = [key for key in group if key not in given]
                problems.append(Problem(source, f"{where}.{use.name}.{missing[0]}", f"required together with {', '.join(given)}"))
    for key, value in flavour.tags.items():
        secret_candidates.append((f"tags.{key}", key, value))
    # The description becomes the recipe's, the template's and the gallery definition's.
    secret_candidates.append(("description", "description", flavour.description))
    if "{{" in flavour.description or "${" in flavour.description:
        problems.append(Problem(source, "description", "contains '{{' or '${', which Image Builder substitutes as a variable"))
    problems.extend(secret_problems(source, secret_candidates, cache,
                                    "never put secrets in flavours: pass a Secrets Manager/SSM name or Key Vault URI "
                                    "to a parameter that takes a reference, or configure it at boot", secret_advice))
    return problems


def _secret_hint(step: Any, key: str, name: str, clouds: list[str]) -> str:
    """What to write instead of a secret-looking literal in a step parameter: the exact YAML."""
    clouds = clouds or list(secret_refs.CLOUDS)
    declared = step.spec.parameters
    if declared[key].type == "environment" and any(p.type == "secrets" for p in declared.values()):
        target = next(k for k, p in declared.items() if p.type == "secrets")
        return (f"never put secrets in flavours: move it from {key} to {target}, which the build machine "
                f"fills from a secret store with its own identity: "
                f"{target}: {{{secret_refs.reference_yaml(name, clouds)}}}")
    takes = [k for k, p in declared.items() if p.type == "secret"]
    if takes:
        return (f"never put secrets in flavours: step '{step.name}' reads {' or '.join(takes)} from a secret "
                f"store with the build machine's identity: {secret_refs.reference_yaml(takes[0], clouds)}")
    return (f"never put secrets in flavours: step '{step.name}' takes no secret; configure it at boot, or read it "
            f"in a script step: secrets: {{{secret_refs.reference_yaml('NAME', clouds)}}}")


def _step_clouds(flavour: Any, use: Any, step: Any) -> list[str]:
    """The clouds a step use runs on for this flavour in some stack: those its base image names
    (a layered flavour: those it is restricted to, else both), the step's and the use's own."""
    base = flavour.base_image
    named = [c for c in secret_refs.CLOUDS if getattr(base, c, None) is not None]
    clouds = named or list(flavour.clouds or secret_refs.CLOUDS)
    return [c for c in clouds if (flavour.clouds is None or c in flavour.clouds) and c in step.spec.clouds
            and use.only_cloud in (None, c)]


def _secret_problems(param: Parameter, key: str, value: Any, clouds: list[str]) -> list[tuple[str, str]]:
    """(sub-path, message) for a `secret` parameter's reference or a `secrets` map of them."""
    if param.type == "secret":
        return secret_refs.value_problems(key, value, clouds)
    if not isinstance(value, dict) or secret_refs.is_reference_value(value):
        return [("", "must map variable names to secret references, e.g. "
                     f"{key}: {{{secret_refs.reference_yaml('DD_API_KEY', clouds or secret_refs.CLOUDS)}}}")]
    problems: list[tuple[str, str]] = []
    if len(value) > MAX_ENVIRONMENT:
        problems.append(("", f"has {len(value)} variables; at most {MAX_ENVIRONMENT}"))
    for name, item in value.items():
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name) or name.upper().startswith("GI_"):
            problems.append((f".{name}", "is not a variable name (letters, digits and underscores, not starting "
                                         "with a digit or GI_)"))
            continue
        problems.extend((f".{name}{sub}", msg) for sub, msg in secret_refs.value_problems(name, item, clouds))
    return problems


# A Windows exit code is a 32-bit DWORD (GetExitCodeProcess), which PowerShell's $LASTEXITCODE,
# an Int32, reports signed: 0xC0000005 arrives as -1073741819, and that is what the runners on
# both clouds compare. Linux keeps the low 8 bits of exit()'s status (wait(2): WEXITSTATUS).
EXIT_CODE_RANGE = {"windows": (-(2**31), 2**31 - 1), "linux": (0, 255)}


def exit_code_problems(os: str, codes: list[int]) -> list[tuple[int, str]]:
    low, high = EXIT_CODE_RANGE.get(os, EXIT_CODE_RANGE["linux"])
    problems = []
    for n, code in enumerate(codes):
        if low <= code <= high:
            continue
        if os == "windows" and high < code < 2**32:
            reason = (f"PowerShell reports Windows exit codes as signed 32-bit numbers, so this one arrives as "
                      f"{code - 2**32}; write that instead")
        elif os == "windows":
            reason = "Windows exit codes are 32-bit (-2147483648 to 2147483647 as PowerShell reports them)"
        else:
            reason = "a Linux process exits with 0 to 255 (the kernel keeps the low 8 bits), so this code never comes back"
        problems.append((n, f"{code} is out of range: {reason}"))
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


def secret_problems(source: str, candidates: list[tuple[str, str, str]], cache: Optional[SecretCache], advice: str,
                    advice_at: Optional[dict[str, str]] = None) -> list[Problem]:
    """One Problem per (location, key, value) whose value looks like a secret; never the value.
    `advice_at` overrides the advice for some locations (a step parameter: the reference to write)."""
    try:
        found = find_secret_values(candidates, cache)
    except ScanRefused as err:
        return [Problem(source, "", f"values {err}")]
    return [Problem(source, at, f"value looks like a secret ({', '.join(sorted(set(kinds)))}); "
                                f"{(advice_at or {}).get(at, advice)}")
            for at, kinds in found.items()]



def _texts(at: str, key: str, value: Any) -> list[tuple[str, str, str]]:
    """(location, key, text) of every string in a value, nested mappings and lists included."""
    if isinstance(value, str):
        return [(at, key, value)]
    if isinstance(value, list):
        return [entry for item in value for entry in _texts(at, key, item)]
    if isinstance(value, dict):
        return [entry for k, item in value.items() for entry in _texts(f"{at}.{k}" if at else str(k), str(k), item)]
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
                           "mapping": dict, "environment": dict, "name": str}[param.type]
    if param.type in ("string", "file", "directory", "name") and isinstance(value, (int, float)) and not isinstance(value, bool):
        # YAML reads an unquoted digits-only value (a sha256 of digits, an account id) as a number.
        return [f"must be a string, got the number {value!r}; quote it in YAML (\"{value}\"): unquoted, digits "
                "become a number and leading zeros are lost"]
    if isinstance(value, bool) and param.type == "integer" or not isinstance(value, expected):
        what = "mapping of NAME: value" if param.type == "environment" else param.type
        return [f"must be a {what}, got {type(value).__name__} {value!r}"]
    if param.type == "name":
        problem = use_name_problem(value)
        return [problem] if problem else []
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
        if param.type == "boolean" and len(param.allowed) == 1:
            only = "true" if param.allowed[0] else "false"
            return [f"can only be {only} (got {str(value).lower()}): {param.description}" if param.description
                    else f"can only be {only} (got {str(value).lower()})"]
        return [f"{value!r} is not one of {param.allowed}"]
    if param.pattern and isinstance(value, str) and not re.fullmatch(param.pattern, value):
        return [f"{value!r} does not match {param.pattern}"]
    return []


def embed_files(item: LoadedFlavour, catalogue: Catalogue, flavours_dir: Path,
                cache: Optional[SecretCache] = None,
                skip: frozenset[str] = frozenset()) -> tuple[LoadedFlavour, list[Problem]]:
    """Replace each file parameter's path (relative to image_flavours/) by the file's text.

    The build instance has no checkout of this repository, so a file shipped with a flavour
    (a test suite) travels inside the step; it is size-limited and scanned for secrets here.
    """
    problems: list[Problem] = []
    steps = []
    for index, use in enumerate(item.flavour.steps):
        step = catalogue.get(use.name)
        params = dict(use.params)
        for key, param in (step.spec.parameters.items() if step else []):
            if f"steps[{index}].{use.name}.{key}" in skip:
                continue
            if param.type == "directory" and isinstance(params.get(key), str):
                params[key], found = _pack(item.source, f"steps[{index}].{use.name}.{key}", flavours_dir, params[key],
                                           cache, param.files_too)
                problems.extend(found)
                if step is not None and isinstance(params[key], Asset):
                    problems.extend(_contains_problems(item.source, f"steps[{index}].{use.name}.{key}", step, use,
                                                       key, params[key], flavours_dir))
                continue
            if param.type != "file" or not isinstance(params.get(key), str):
                continue
            at = f"steps[{index}].{use.name}.{key}"
            path = flavours_dir / params[key]
            if not path.exists() and not path.is_symlink():
                problems.append(Problem(item.source, at, f"no file '{params[key]}' in {flavours_dir.name}/"))
                continue
            try:
                # Characters are counted below; four bytes a character at most in UTF-8.
                text = read_text(path, flavours_dir, MAX_FILE_PARAM_CHARS * 4)
            except FileRefused as err:
                problems.append(Problem(item.source, at, f"'{params[key]}' {err}"))
                continue
            if len(text) > MAX_FILE_PARAM_CHARS:
                problems.append(
                    Problem(item.source, at, f"'{params[key]}' has {len(text)} characters; at most {MAX_FILE_PARAM_CHARS} travel inside a build step")
                )
                continue
            try:
                for line, kind in scan_text(text, suffix=path.suffix or ".txt", cache=cache):
                    problems.append(Problem(item.source, at, f"'{params[key]}' line {line} looks like a secret ({kind})"))
            except ScanRefused as err:
                problems.append(Problem(item.source, at, f"'{params[key]}' {err}"))
            params[key] = text
        steps.append(use.model_copy(update={"params": params}) if params != use.params else use)
    flavour = item.flavour.model_copy(update={"steps": steps})
    return LoadedFlavour(flavour, item.source, versions=item.versions), problems


def _contains_problems(source: str, at: str, step: Any, use: Any, key: str, asset: Asset,
                       flavours_dir: Path) -> list[Problem]:
    """A packed folder lacks a file a condition of the step needs at its top (an InSpec profile's inspec.yml)."""
    problems: list[Problem] = []
    resolved = step.resolve_params(use.params)
    for condition in step.spec.conditions:
        if not condition.holds(resolved):
            continue
        what = ", ".join(f"{k}: {v}" for k, v in condition.when.items())
        needed = condition.contains.get(key)
        if needed is not None and (asset.kind != "directory" or not (flavours_dir / asset.path / needed).is_file()):
            problems.append(Problem(source, at, f"'{asset.path}' must be a folder holding {needed} at its top with {what}"))
        needed = condition.folder_contains.get(key)
        if needed is not None and asset.kind == "directory" and not (flavours_dir / asset.path / needed).is_file():
            problems.append(Problem(source, at, f"the folder '{asset.path}' holds no {needed} at its top, which {what} "
                                                f"runs; add it, or give the gossfile itself (e.g. {asset.path}/{needed})"))
    return problems


def _pack(source: str, at: str, flavours_dir: Path, value: str,
          cache: Optional[SecretCache] = None, files_too: bool = False) -> tuple[Asset | str, list[Problem]]:
    """A directory parameter's folder (or, files_too, a single file) as a build asset, every file
    scanned for secrets in any encoding."""
    what = "file or folder" if files_too else "folder"
    try:
        folder = inside(flavours_dir / value, flavours_dir)
    except FileRefused as err:
        reason = "" if str(err) == "does not exist" else f" ('{value}' {err})"
        return value, [Problem(source, at, f"no {what} '{value}' in {flavours_dir.name}/{reason}")]
    single = files_too and folder.is_file()
    if not single and not folder.is_dir():
        return value, [Problem(source, at, f"no {what} '{value}' in {flavours_dir.name}/ (it is a file)")]
    try:
        asset, contents = pack_file_and_read(folder, value) if single else pack_and_read(folder, value)
    except AssetError as err:
        return value, [Problem(source, at, str(err))]
    problems: list[Problem] = []
    for rel_path, data in contents:
        rel = value if single else f"{value}/{rel_path}"
        text, encoding = decode_for_scan(data)
        lines: dict[int, list[str]] = {}
        try:
            for line, kind in scan_text(text, suffix=Path(rel_path).suffix or ".txt", cache=cache):
                lines.setdefault(line, []).append(kind)
        except ScanRefused as err:
            problems.append(Problem(source, at, f"'{rel}' {err}"))
            continue
        where = "a binary file" if encoding == "binary" else "line {}"
        for line, kinds in sorted(lines.items()):
            problems.append(Problem(source, at, f"'{rel}' {where.format(line)} looks like a secret ({', '.join(kinds)}); "
                                                "build assets end up on the build instance and in storage"))
    return asset, problems


# The smallest root a parent family ships with, where its kind is known: a smaller root
# fails the build ("volume size is smaller than the snapshot"). AWS Windows AMIs have 30 GB
# roots, Amazon Linux, Ubuntu and Debian AMIs 8 GB, RHEL 10 GB, the EKS-optimized AMIs 20 GB;
# Azure Windows marketplace images 127 GB (smalldisk SKUs 30 GB), Linux ones 30 GB.
_AWS_MINIMUM_ROOT = (("/aws/service/eks/", 20), ("amazon-eks", 20), ("rhel", 10), ("windows", 30),
                     ("amzn", 8), ("al2023", 8), ("amazon-linux", 8), ("ubuntu", 8), ("canonical", 8),
                     ("debian", 8))


def minimum_root_gb(flavour: Flavour, cloud: str, region: str | None = None) -> tuple[int, str] | None:
    """(GB, what says so) for a parent whose family is known; None when only the build can tell."""
    base = flavour.base_image
    if cloud == "azure":
        image = base.azure
        if image is None or image.image_version_id is not None:
            return None
        if flavour.os == "windows":
            small = "smalldisk" in (image.sku or "").lower()
            return (30, f"Azure's {image.sku} image") if small else (127, f"Azure's {image.sku} image")
        return 30, f"Azure's {image.offer} image"
    parent = base.aws_parent(region) if region else None
    text = parent.lower() if isinstance(parent, str) else (parent.name.lower() if parent is not None else "")
    if flavour.os == "windows":
        return 30, "AWS Windows AMIs"
    found = next(((gb, marker) for marker, gb in _AWS_MINIMUM_ROOT if marker in text), None)
    return (found[0], f"its parent ({found[1]})") if found else None


def known_stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def check_against_settings(item: LoadedFlavour, settings: StackSettings, catalogue: Catalogue,
                           stacks: list[str] | None = None, settings_source: str = "the stack file") -> list[Problem]:
    """Each cloud a flavour is built on has a base image, and runs every step unless the flavour says otherwise;
    its own distribution, disks and conditions fit the stack."""
    problems: list[Problem] = []
    flavour = item.flavour
    clouds = item.flavour.enabled_clouds(settings.clouds)
    if not clouds:
        # Selected (by default, every flavour) but built nowhere: a typo'd cloud or a stale file.
        problems.append(Problem(item.source, "clouds",
                                f"this flavour is built on {', '.join(item.flavour.clouds or [])}, and this stack "
                                f"builds on {', '.join(settings.clouds)} only, so it would build nothing here; "
                                "add a cloud of this stack, or leave the flavour out of the stack's golden-images:flavours"))
    region = settings.aws.region if settings.aws is not None else None
    for cloud in clouds:
        if item.flavour.base_image.flavour is None and getattr(item.flavour.base_image, cloud) is None:
            problems.append(
                Problem(item.source, f"base_image.{cloud}", f"required: this flavour is built on {cloud} in this stack")
            )
        elif (cloud == "aws" and flavour.base_image.flavour is None and region
              and flavour.base_image.aws_parent(region) is None):
            regional = flavour.base_image.aws
            given = ", ".join(sorted(regional)) if isinstance(regional, dict) else ""
            problems.append(Problem(item.source, "base_image.aws.regions",
                                    f"no parent image for {region}, where this stack builds (given for {given})"))
    problems.extend(_reach_problems(item, settings, clouds, region, stacks))
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
            problems.extend(_artefact_problems(item.source, index, use, step, cloud, settings, settings_source))
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
        if missing and use.only_cloud is None:
            # Otherwise one cloud's image silently lacks what the other's has.
            problems.append(Problem(
                item.source, f"steps[{index}]",
                f"step '{use.name}' runs only on {', '.join(step.spec.clouds)}, but this flavour is also built on "
                f"{', '.join(missing)}; add 'options: {{only_on: {step.spec.clouds[0]}}}' to say the images differ",
            ))
    return problems


def _artefact_problems(source: str, index: int, use: Any, step: Any, cloud: str, settings: StackSettings,
                       settings_source: str) -> list[Problem]:
    """An artifact step's `key:` is read in the stack's artefact store of each cloud it runs on."""
    fetch = step.spec.fetch
    if fetch is None or not fetch.key or not use.params.get(fetch.key):
        return []
    section = getattr(settings, cloud)
    if section is not None and section.artefacts is not None:
        return []
    example = ("{bucket: <name>, prefix: installers/}" if cloud == "aws" else
               "{storage_account_id: /subscriptions/.../storageAccounts/<name>, container: <name>}")
    return [Problem(source, f"steps[{index}].{use.name}.{fetch.key}",
                    f"this flavour runs it on {cloud}, but {settings_source} names no artefact store there: set "
                    f"{NAMESPACE}:{cloud}.artefacts {example}, or give a source URL")]


def _reach_problems(item: LoadedFlavour, settings: StackSettings, clouds: list[str], region: str | None,
                    stacks: list[str] | None) -> list[Problem]:
    """Disks against the parent, per-flavour distribution against the stack's accounts, conditions' stacks."""
    from .settings import resolve_account

    flavour, source = item.flavour, item.source
    problems: list[Problem] = []
    if flavour.base_image.flavour is None:
        for cloud in clouds:
            minimum = minimum_root_gb(flavour, cloud, region)
            size = flavour.build.disk_size_on(cloud, flavour.os)
            if minimum is not None and size < minimum[0]:
                field_name = ("build.aws.root_volume.size_gb" if cloud == "aws" and flavour.build.aws.root_volume.size_gb
                              else "build.azure.os_disk_size_gb" if cloud == "azure" and flavour.build.azure.os_disk_size_gb
                              else "build.disk_size_gb")
                problems.append(Problem(source, field_name,
                                        f"{size} GB is smaller than the {minimum[0]} GB root of {minimum[1]} on {cloud}; "
                                        "the build fails on a root smaller than its parent's"))
        image = flavour.base_image.azure
        if "azure" in clouds and image is not None and image.image_version_id and not flavour.gallery.hyper_v_generation:
            problems.append(Problem(source, "gallery.hyper_v_generation",
                                    "required with base_image.azure.image_version_id: the gallery image definition "
                                    "must match that image's generation (V1 or V2), which its id does not tell"))
    own = flavour.distribution.aws
    if "aws" in clouds and settings.aws is not None:
        aws = settings.aws
        allowed_launch = set(aws.launch_permissions.account_ids)
        allowed_targets = set(aws.target_account_ids)
        lists = []
        if own.target_accounts is not None:
            lists.append(("distribution.aws.target_accounts", own.target_accounts, allowed_targets,
                          "golden-images:aws.target_account_ids"))
        if own.launch_permissions is not None:
            lists.append(("distribution.aws.launch_permissions.accounts", own.launch_permissions.accounts,
                          allowed_launch, "golden-images:aws.launch_permissions.account_ids"))
            for key in ("organization_arns", "organizational_unit_arns"):
                stack_list = set(getattr(aws.launch_permissions, key))
                for index, arn in enumerate(getattr(own.launch_permissions, key)):
                    if arn not in stack_list:
                        problems.append(Problem(source, f"distribution.aws.launch_permissions.{key}[{index}]",
                                                f"'{arn}' is not in golden-images:aws.launch_permissions.{key}; a "
                                                "flavour shares only with what the stack allows"))
        for path, refs, allowed, setting in lists:
            for index, ref in enumerate(refs):
                try:
                    account = resolve_account(ref, settings.accounts)
                except ValueError as err:
                    problems.append(Problem(source, f"{path}[{index}]", str(err)))
                    continue
                if account not in allowed:
                    problems.append(Problem(source, f"{path}[{index}]",
                                            f"'{ref}' ({account}) is not in {setting}; a flavour shares only with "
                                            "accounts the stack allows (the reviewed list the guardrails enforce)"))
    if stacks:
        for index, use in enumerate(flavour.steps):
            for name in (use.when.stack or []) if use.when else []:
                if name not in stacks:
                    problems.append(Problem(source, f"steps[{index}].when.stack",
                                            f"unknown stack '{name}'{_close(name, stacks)} (known: {', '.join(stacks)})"))
    if isinstance(flavour.schedule, FlavourSchedule):
        try:
            Schedule.model_validate(flavour.schedule.model_dump(exclude_unset=True)).for_layer(item.depth)
        except ValueError as err:
            problems.append(Problem(source, "schedule", str(err)))
    return problems


# Stack tags a flavour may not change: cost reports and access policies select on them.
RESERVED_STACK_TAGS = ("environment",)


def tag_problems(item: LoadedFlavour, settings: StackSettings, settings_source: str) -> list[Problem]:
    """A flavour's tags against the stack's: no reserved tag overridden, no key differing only in case,
    and the identity tags (golden-images:*) are the program's."""
    problems = []
    stack_keys = {key.lower(): key for key in settings.tags}
    for key in item.flavour.tags:
        lower = key.lower()
        if lower.startswith(f"{NAMESPACE}:"):
            problems.append(Problem(item.source, f"tags.{key}", f"the '{NAMESPACE}:' tags are the program's (flavour, "
                                                                "version, source commit); choose another key"))
        elif lower in stack_keys and (lower in RESERVED_STACK_TAGS or stack_keys[lower] != key):
            what = ("differs only in case from the stack's tag, and Azure treats them as one"
                    if stack_keys[lower] != key else "is set by the stack for every resource")
            problems.append(Problem(item.source, f"tags.{key}",
                                    f"{what} ('{stack_keys[lower]}' in {settings_source} golden-images:tags); remove it here"))
    return problems


def load_inputs(config: dict[str, Any], settings_source: str, flavours_dir: Path, root: Path,
                stack: str | None = None, scan_cache: Optional[SecretCache] = None) -> Inputs:
    """Load and check everything; raise ValidationFailed with every problem found."""
    cache = scan_cache if scan_cache is not None else active_cache()
    problems: list[Problem] = control_problems(config, settings_source)
    # Every stack setting (its tags land on every resource): references name secrets, never hold them.
    problems.extend(secret_problems(
        settings_source, [entry for entry in _texts("", "", config)
                          if not is_secret_reference(entry[2]) and not entry[0].endswith(".secure")], cache,
        "never put secrets in stack settings: use `pulumi config set --secret` for the program's own secrets "
        "and references (ssm:/, Secrets Manager, Key Vault) for the build's"))
    settings: Optional[StackSettings] = None
    try:
        settings = parse_settings(config, settings_source)
    except ValidationFailed as failed:
        problems.extend(failed.problems)
    try:
        catalogue = load_catalogue()
    except ValidationFailed as failed:
        raise ValidationFailed(problems + failed.problems) from None
    partials: list[tuple[LoadedFlavour, frozenset[str]]] = []
    loaded, flavour_problems, every_file_loaded = load_flavours(flavours_dir, root, catalogue, cache, partials)
    problems.extend(flavour_problems)
    selected = loaded
    warnings: list[Problem] = []
    if settings is not None:
        names = [item.flavour.name for item in loaded]
        if settings.flavours is not None:
            for index, name in enumerate(settings.flavours):
                # A name may be that of a file which did not load: only then is it left unsaid.
                if name not in names and every_file_loaded:
                    problems.append(
                        Problem(settings_source, f"golden-images:flavours[{index}]", f"no flavour named '{name}'{_close(name, names)}")
                    )
            selected = [item for item in loaded if item.flavour.name in settings.flavours]
        stacks = known_stacks(root)
        for item in selected:
            problems.extend(check_against_settings(item, settings, catalogue, stacks, settings_source))
            problems.extend(tag_problems(item, settings, settings_source))
        # A file whose fields failed: the rest of it against the stack all the same (its
        # distribution's accounts, its disks against the parent), not one run later.
        for item, left_out in partials:
            if settings.flavours is not None and item.flavour.name not in settings.flavours:
                continue
            found = check_against_settings(item, settings, catalogue, stacks) + tag_problems(item, settings,
                                                                                              settings_source)
            problems.extend(p for p in found if p.source != item.source or _top(p.path) not in left_out)
        # The layer checks need a resolved chain: they run for every flavour whose chain is sound,
        # whatever else is wrong, so a new flavour's mistakes all show in one run.
        resolved = [item for item in selected if layered(item)]
        problems.extend(check_stack(resolved, loaded, settings.clouds, settings_source, settings.flavours is not None))
        problems.extend(schedule_problems(resolved, settings.schedule, settings_source))
        build_errors, warnings = build_problems(resolved, settings.schedule)
        problems.extend(build_errors)
    # Every application is served by a flavour built in this stack (image_flavours/applications.yaml).
    apps = check_applications(flavours_dir, root, selected, catalogue, settings.clouds if settings else None,
                              ready=not problems, stack=stack)
    problems.extend(apps.problems)
    if problems or settings is None:  # settings are None only when they had problems
        partial = None
        if settings is not None:
            # What the later checks (the renderers', the guardrails') can still run on: the
            # flavours with no problem of their own, whose bases have none either.
            faulty = {p.source for p in problems}
            sound = [item for item in selected if layered(item) and all(c.source not in faulty for c in item.chain)]
            partial = Inputs(settings=settings, flavours=sound, catalogue=catalogue, warnings=warnings)
        raise ValidationFailed(problems, partial=partial)
    return Inputs(settings=settings, flavours=selected, catalogue=catalogue, applications=apps.applications,
                  warnings=warnings + apps.warnings)


_close = did_you_mean


def _top(path: str) -> str:
    """The top-level field of a field path: `steps` of `steps[2].script.file`."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _rel(path: Path, root: Path) -> str:
    try:
        # Named as found, links not followed: a link loop or a link out is refused by this name.
        return str(path.absolute().relative_to(root.absolute()))
    except ValueError:
        return str(path)
