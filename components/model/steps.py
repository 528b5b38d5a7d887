"""The cloud-neutral step model and the catalogue that holds the steps.

A step is a folder under components/steps/: `step.yaml` (metadata), one install
script per OS family and one check script per OS family. Renderers turn a step
into an AWSTOE document or Azure customizers; nothing here knows about either.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import Field, ValidationError

from .assets import Asset, AssetError, pack_directory
from .distributions import Distribution
from .errors import Problem, ValidationFailed, problems_from_pydantic
from .vocabulary import StrictModel

STEPS_DIR = Path(__file__).resolve().parent.parent / "steps"
VERSIONS_FILE = STEPS_DIR / "versions.yaml"

Category = Literal["updates", "software", "agent", "hardening", "cleanup", "test"]
ParamType = Literal["string", "integer", "boolean", "list", "file", "directory", "mapping", "environment", "secret",
                    "secrets", "name"]
# A `name` parameter names one use of a step that a flavour may list several times (script, file,
# artifact): it travels in the cloud objects' names only, never to the script (use_names.py).
# A `secret` parameter takes a reference per cloud ({secret: {aws: ..., azure: ...}}, see
# secret_refs.py); `secrets` takes a map of variable names to such references (the script step).
SECRET_TYPES = ("secret", "secrets")
SECRETS_LIBRARY = "secrets"
# How the renderers turn a step into each cloud's own actions (see components/steps/README.md):
# `scripts` runs the folder's install script; the others are rendered natively by each cloud's
# renderer from the step's parameters.
RenderKind = Literal["scripts", "script", "reboot", "pause", "aws-managed-component"]
OPTION_NAMES = ("run_elevated", "run_as_system", "valid_exit_codes", "timeout_minutes", "retries",
                "reboot_after", "only_on", "repeat")
# How a layered flavour treats a step its base flavour already ran with the same parameters.
LayerRule = Literal["once", "again", "always"]

# `{param}` in a pin name is replaced by that parameter's value (capabilities use the same
# convention; see capabilities.py).
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
# A file parameter is embedded into the build twice (step and check); keep both inside AWSTOE's
# 16,000-character inline document.
MAX_FILE_PARAM_CHARS = 4000


def parse_yaml(
    text: str,
    loader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.SafeLoader,
    fast_loader: Optional[type[yaml.SafeLoader | yaml.CSafeLoader]] = None,
) -> Any:
    """The document in `text`, parsed by libyaml when PyYAML has it (the same data, several
    times faster than its pure-Python parser; fast_loader is `loader` on libyaml's parser).

    A document libyaml refuses is parsed again by `loader`, so errors read as they always have.
    """
    try:
        return yaml.load(text, Loader=fast_loader or getattr(yaml, "CSafeLoader", None) or loader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=loader)

# References the build instance resolves with its own identity; never literal secrets.
SECRET_REFERENCE_PATTERNS = (
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$",
    r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9/_.-]+$",
    r"^ssm:/[A-Za-z0-9/_.-]+$",
    r"^secretsmanager:[A-Za-z0-9/_+=.@-]+$",
    r"^https://[a-z0-9-]{3,24}\.vault\.azure\.net/secrets/[A-Za-z0-9-]+(/[0-9a-f]{32})?$",
)


class Parameter(StrictModel):
    """A typed, non-secret step parameter."""

    type: ParamType
    description: str
    default: Any = None
    required: bool = False
    pattern: Optional[str] = None
    allowed: Optional[list[Any]] = None
    secret_reference: bool = Field(
        default=False,
        description="The value is a reference (Secrets Manager/SSM name, Key Vault URI) read at build time",
    )
    not_secret: bool = Field(
        default=False,
        description="The value is a public identifier that looks random by design (a commit id); "
        "not scanned for secrets. Give it a pattern that admits nothing else",
    )
    allowed_on: dict[Literal["windows", "linux"], list[str]] = Field(
        default_factory=dict,
        description="Per OS family, the values a flavour of that OS may give (a script's shell)",
    )
    minimum: Optional[int] = Field(default=None, description="Integers: the smallest value accepted")
    maximum: Optional[int] = Field(default=None, description="Integers: the largest value accepted")
    files_too: bool = Field(
        default=False,
        description="Directories: a single file is accepted too, packed alone (scripts see "
        "GI_ASSET_<NAME>_KIND=file)",
    )
    refused_on: dict[Literal["windows", "linux"], dict[str, str]] = Field(
        default_factory=dict,
        description="Per OS family, values a flavour of that OS may not give, each with the reason the refusal gives",
    )


class PerOs(StrictModel):
    windows: Optional[str] = None
    linux: Optional[str] = None

    def get(self, os: str) -> Optional[str]:
        script: Optional[str] = getattr(self, os)
        return script


class AwsHints(StrictModel):
    """AWS-specific rendering: an AWS-managed component used by ARN instead of scripts."""

    managed_component: PerOs = Field(default_factory=PerOs)
    update_os: list[Literal["windows", "linux"]] = Field(
        default_factory=list,
        description="OS families whose updates run through AWSTOE's UpdateOS action instead of the managed "
        "component when the flavour excludes updates or sets timeout_minutes or retries, which a recipe "
        "cannot pass to a managed component",
    )


class FetchHint(StrictModel):
    """A file the renderers fetch natively before the script runs, from the cloud's own store
    with the build machine's identity (AWSTOE S3Download; AIB File customizer): the names of
    the parameters holding its source URL, its destination and its optional sha256."""

    source: str
    destination: str
    sha256: str
    key: Optional[str] = None  # a key in the stack's artefact store, instead of a source URL


class Condition(StrictModel):
    """What a use of the step needs when its parameters have given values (image-tests: a goss
    suite needs the pinned goss binary and a suite file or folder)."""

    when: dict[str, str] = Field(min_length=1, description="parameter -> value: the condition holds when all match")
    requires: list[str] = Field(default_factory=list, description="Parameters the use must then give")
    contains: dict[str, str] = Field(
        default_factory=dict,
        description="directory parameter -> file name: the folder given must hold that file at its top",
    )
    folder_contains: dict[str, str] = Field(
        default_factory=dict,
        description="file-or-directory parameter -> file name: when a folder is given, it must hold that file at "
        "its top (a single file given is the file itself)",
    )
    unsupported_distributions: dict[Distribution, str] = Field(
        default_factory=dict,
        description="Linux distributions this use cannot run on, each with the reason; a flavour whose base "
        "image is one of them is refused at load time",
    )
    downloads: list[str] = Field(
        default_factory=list, description="Pins downloaded and sha256-verified before the script runs, only then")

    def holds(self, params: dict[str, Any]) -> bool:
        return all(params.get(key) == value for key, value in self.when.items())


class AzureHints(StrictModel):
    """Azure-specific rendering: Windows updates use the native WindowsUpdate customizer."""

    windows_update: bool = False


class StepSpec(StrictModel):
    """step.yaml as written; scripts are loaded into Step."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$")
    category: Category
    description: str
    os: list[Literal["windows", "linux"]] = Field(min_length=1)
    clouds: list[Literal["aws", "azure"]] = Field(default=["aws", "azure"], min_length=1)
    reboot: Literal["none", "after"] = "none"
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    pins: list[str] = Field(default_factory=list)
    downloads: list[str] = Field(default_factory=list)
    scripts: PerOs
    checks: PerOs
    capabilities: list[str] = Field(default_factory=list)
    libraries: list[str] = Field(
        default_factory=list,
        description="Shared helpers from components/steps/lib/<name>.sh|.ps1, inserted into the install script",
    )
    includes: list[str] = Field(
        default_factory=list,
        description="Files of the step's own folder (.ps1 for Windows, .sh for Linux) inserted into both its "
        "install and its check script: what the two share, such as the settings a baseline applies and proves",
    )
    assets: list[str] = Field(
        default_factory=list,
        description="Folders of the step's own folder packed as build assets (too large to inline in a script): "
        "the build downloads each before the script runs, which finds it as GI_ASSET_<NAME> and its sha256 as "
        "GI_ASSET_<NAME>_SHA256",
    )
    image_test: bool = Field(
        default=True,
        description="The check also holds on a fresh instance of the finished image (AWS test phase)",
    )
    layers: LayerRule = Field(
        default="once",
        description="In a layered flavour: 'once' skips the step when a base flavour already ran it with the "
        "same parameters; 'again' runs it whenever the flavour lists it; 'always' also runs it, first, "
        "when the flavour does not list it (updates: time passes between the builds)",
    )
    unsupported: dict[Literal["windows", "linux"], str] = Field(
        default_factory=dict, description="Why the step cannot support an OS family, told to whoever asks for it"
    )
    unsupported_distributions: dict[Distribution, str] = Field(
        default_factory=dict,
        description="Linux distributions (ubuntu-22.04, rhel-8, amazon-linux-2, ...) the step cannot run on, each "
        "with the reason; a flavour whose base image is one of them is refused at load time",
    )
    one_of: list[list[str]] = Field(default_factory=list, description="Groups of parameters of which exactly one is given")
    together: list[list[str]] = Field(default_factory=list, description="Groups of parameters given all or none")
    exclusive: list[list[str]] = Field(default_factory=list, description="Groups of parameters of which at most one is given")
    aws: AwsHints = Field(default_factory=AwsHints)
    azure: AzureHints = Field(default_factory=AzureHints)
    render: RenderKind = Field(
        default="scripts",
        description="How the clouds run the step: its folder's scripts, or natively from its parameters "
        "(script, reboot, pause, aws-managed-component)",
    )
    refused_options: dict[str, str] = Field(
        default_factory=dict,
        description="Per-step options this step cannot honour, each with the reason the refusal gives",
    )
    cloud_refused: dict[Literal["aws", "azure"], dict[Literal["windows", "linux"], dict[str, str]]] = Field(
        default_factory=dict,
        description="Per cloud and OS family, parameters or options that cloud cannot honour, each with the reason",
    )
    cloud_unsupported: dict[Literal["aws", "azure"], dict[Literal["windows", "linux"], str]] = Field(
        default_factory=dict,
        description="Per cloud and OS family, why that cloud cannot run the step (the refusal says so; "
        "options.only_on names the other cloud)",
    )
    fetch: Optional[FetchHint] = Field(
        default=None, description="A file fetched natively from the cloud's store (the artifact step)")
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Per combination of parameter values: parameters then required, files a folder must hold, "
        "and pins downloaded only then",
    )
    named_from: list[str] = Field(
        default_factory=list,
        description="With a `name` parameter: the parameters its default derives from, first given first "
        "(a file parameter's stem, a path's last segment); else the use's position",
    )
    check_downloads: bool = Field(
        default=False,
        description="The check needs the step's downloads and build assets too (its suite and runner): every "
        "phase that runs the check fetches and verifies them first; the script removes them when done",
    )

    def conditional_downloads(self, params: dict[str, Any]) -> list[str]:
        """Pins of the conditions that hold for these (resolved) parameter values."""
        return [pin for c in self.conditions if c.holds(params) for pin in c.downloads]


@dataclass(frozen=True)
class Pin:
    """One pinned piece of software: version, and per OS a download with its sha256."""

    name: str
    version: str
    downloads: dict[str, dict[str, Any]]  # os -> {"url", "sha256", "file"}


@dataclass(frozen=True)
class Step:
    """A catalogue step with its scripts loaded."""

    spec: StepSpec
    scripts: dict[str, str]  # os -> script text
    checks: dict[str, str]  # os -> check text
    folder: Path
    libraries: dict[str, str] = field(default_factory=dict)  # os -> helper text the install script needs
    includes: dict[str, str] = field(default_factory=dict)  # os -> text both the install and the check script start with
    assets: dict[str, Asset] = field(default_factory=dict)  # name -> the packed folder of the step's own
    # os -> lib/secrets.sh|.ps1, inserted only into the install script of a use that reads a secret
    secret_library: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def supports(self, os: str) -> bool:
        return os in self.spec.os

    @property
    def name_parameter(self) -> Optional[str]:
        """The parameter naming one use of the step (type name), if it takes one."""
        return next((key for key, p in self.spec.parameters.items() if p.type == "name"), None)

    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with the flavour's values (already validated)."""
        values = {k: p.default for k, p in self.spec.parameters.items()}
        values.update(given)
        return values


@dataclass(frozen=True)
class Catalogue:
    """Every step, and the version pins the steps read."""

    steps: dict[str, Step]  # name -> Step
    pins: dict[str, Pin]  # name -> Pin

    def get(self, name: str) -> Optional[Step]:
        return self.steps.get(name)

    def names(self) -> list[str]:
        return sorted(self.steps)


def load_catalogue(steps_dir: Path = STEPS_DIR) -> Catalogue:
    """Load every step folder; a broken catalogue is a developer error, reported like user errors."""
    problems: list[Problem] = []
    pins = _load_pins(steps_dir / "versions.yaml", problems)
    steps: dict[str, Step] = {}
    for meta in sorted(steps_dir.glob("*/step.yaml")):
        source = str(meta.relative_to(steps_dir.parent.parent))
        try:
            spec = StepSpec.model_validate(parse_yaml(meta.read_text()))
        except ValidationError as err:
            problems.extend(problems_from_pydantic(source, err, StepSpec))
            continue
        if spec.name != meta.parent.name:
            problems.append(Problem(source, "name", f"must match its folder '{meta.parent.name}'"))
        scripts: dict[str, str] = {}
        checks: dict[str, str] = {}
        for os in spec.os:
            for kind, table, out in (("scripts", spec.scripts, scripts), ("checks", spec.checks, checks)):
                rel = table.get(os)
                if rel is None:
                    if spec.render != "scripts":
                        continue  # rendered from the flavour's parameters, check included
                    if kind == "checks" or _native_everywhere(spec, os):
                        if kind == "checks":
                            problems.append(Problem(source, f"checks.{os}", "every step proves it worked: add a check script"))
                        continue
                    problems.append(Problem(source, f"scripts.{os}", "missing script for a supported OS"))
                    continue
                path = meta.parent / rel
                if not path.is_file():
                    problems.append(Problem(source, f"{kind}.{os}", f"file '{rel}' does not exist"))
                    continue
                out[os] = path.read_text()
        problems.extend(_check_pin_refs(source, spec, pins))
        for option in spec.refused_options:
            if option not in OPTION_NAMES:
                problems.append(Problem(source, f"refused_options.{option}", f"unknown option (options: {', '.join(OPTION_NAMES)})"))
        for key, param in spec.parameters.items():
            if param.type in SECRET_TYPES and SECRETS_LIBRARY not in spec.libraries:
                problems.append(Problem(source, f"parameters.{key}.type",
                                        "a step reading secrets lists the reading helpers: libraries: [secrets]"))
            if param.not_secret and not param.pattern:
                problems.append(Problem(source, f"parameters.{key}.not_secret",
                                        "a value spared the secret scan needs a pattern that admits nothing else"))
        named = [key for key, param in spec.parameters.items() if param.type == "name"]
        if len(named) > 1 or spec.named_from and not named:
            problems.append(Problem(source, "parameters", "a step takes at most one parameter of type name, "
                                    "and named_from needs it"))
        unknown_from = [p for p in spec.named_from if p not in spec.parameters]
        if unknown_from:
            problems.append(Problem(source, "named_from", f"names no parameter of the step: {', '.join(unknown_from)}"))
        if spec.fetch is not None:
            unknown = [p for p in spec.fetch.model_dump().values() if p is not None and p not in spec.parameters]
            if unknown:
                problems.append(Problem(source, "fetch", f"names no parameter of the step: {', '.join(unknown)}"))
        for n, condition in enumerate(spec.conditions):
            named = [*condition.when, *condition.requires, *condition.contains, *condition.folder_contains]
            unknown = [p for p in named if p not in spec.parameters]
            if unknown:
                problems.append(Problem(source, f"conditions[{n}]", f"names no parameter of the step: {', '.join(unknown)}"))
            for key in condition.contains:
                if key in spec.parameters and spec.parameters[key].type != "directory":
                    problems.append(Problem(source, f"conditions[{n}].contains.{key}", "is not a directory parameter"))
            for pin in condition.downloads:
                if pin not in pins:
                    problems.append(Problem(source, f"conditions[{n}].downloads", f"unknown pin '{pin}' (see versions.yaml)"))
        for field_name in ("one_of", "together", "exclusive"):
            for group in getattr(spec, field_name):
                unknown = [p for p in group if p not in spec.parameters]
                if unknown or len(group) < 2:
                    problems.append(Problem(source, field_name, f"{group}: a group names two or more of the step's parameters"))
        # A library serves the OS families it has a file for (retry.sh: Linux scripts); a step
        # rendered from the flavour's script (render: script) serves every OS it supports.
        families = list(scripts) if spec.render == "scripts" else list(spec.os)
        libraries = {os: "" for os in families}
        secret_library = {os: "" for os in families}
        for name in spec.libraries:
            found = [os for os in families if (steps_dir / "lib" / f"{name}{LIBRARY_SUFFIXES[os]}").is_file()]
            if not found:
                problems.append(Problem(source, "libraries", f"no library '{name}' in components/steps/lib/"))
            # The secret-reading helpers go only into the scripts of uses that read a secret.
            into = secret_library if name == SECRETS_LIBRARY else libraries
            for family in found:
                into[family] += _without_shebang((steps_dir / "lib" / f"{name}{LIBRARY_SUFFIXES[family]}").read_text())
        includes = {os: "" for os in checks}
        for name in spec.includes:
            include_os = next((os for os, suffix in LIBRARY_SUFFIXES.items() if name.endswith(suffix)), None)
            path = meta.parent / name
            if include_os is None or "/" in name or not path.is_file():
                problems.append(Problem(source, "includes", f"'{name}' is not a .ps1 or .sh file in {meta.parent.name}/"))
            elif include_os in includes:
                includes[include_os] += _without_shebang(path.read_text())
        assets: dict[str, Asset] = {}
        for name in spec.assets:
            folder = meta.parent / name
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in spec.parameters or not folder.is_dir():
                problems.append(Problem(source, "assets", f"'{name}' is not a folder of {meta.parent.name}/ named unlike "
                                        "any parameter (lower case, digits, underscores)"))
                continue
            try:
                assets[name] = pack_directory(folder, f"{spec.name}/{name}")
            except AssetError as err:
                problems.append(Problem(source, "assets", str(err)))
        steps[spec.name] = Step(spec=spec, scripts=scripts, checks=checks, folder=meta.parent, libraries=libraries,
                                includes=includes, assets=assets, secret_library=secret_library)
    if problems:
        raise ValidationFailed(problems)
    return Catalogue(steps=steps, pins=pins)


def substitute(template: str, params: dict[str, Any]) -> list[str]:
    """Every string a pin template stands for: `{name}` takes the parameter's value; a list
    parameter gives one string per entry."""
    results = [template]
    for name in dict.fromkeys(PLACEHOLDER.findall(template)):
        value = params.get(name)
        values = value if isinstance(value, list) else [value]
        rendered = ["true" if v is True else "false" if v is False else "" if v is None else str(v) for v in values]
        results = [r.replace("{" + name + "}", v) for r in results for v in rendered]
    return results


def pin_alias(template: str) -> str:
    """The name a step's scripts know a pin by: the template without its placeholders
    (`dotnet-{kind}-{version}` is exported as GI_PIN_DOTNET_VERSION / GI_DOWNLOAD_DOTNET)."""
    return re.sub(r"-{2,}", "-", PLACEHOLDER.sub("", template)).strip("-")


def _check_pin_refs(source: str, spec: StepSpec, pins: dict[str, Pin]) -> list[Problem]:
    """Every pin a step names exists, for every value its placeholders may take."""
    problems: list[Problem] = []
    aliases: dict[str, str] = {}
    for kind, refs in (("pins", spec.pins), ("downloads", spec.downloads)):
        for ref in refs:
            names = PLACEHOLDER.findall(ref)
            choices: dict[str, list[str]] = {}
            for name in names:
                param = spec.parameters.get(name)
                if param is None or param.type != "string" or not param.allowed:
                    problems.append(
                        Problem(source, kind, f"'{ref}': placeholder {{{name}}} must name a string parameter with 'allowed' values")
                    )
                else:
                    choices[name] = [str(v) for v in param.allowed]
            if len(choices) != len(set(names)):
                continue
            expanded = [ref]
            for name, values in choices.items():
                expanded = [e.replace("{" + name + "}", v) for e in expanded for v in values]
            for resolved in expanded:
                if resolved not in pins:
                    problems.append(Problem(source, kind, f"unknown pin '{resolved}' (see versions.yaml)"))
            alias = pin_alias(ref)
            if not alias:
                problems.append(Problem(source, kind, f"'{ref}' needs a fixed part to name its environment variables"))
            elif aliases.setdefault(alias, ref) != ref:
                problems.append(Problem(source, kind, f"'{ref}' and '{aliases[alias]}' both export as '{alias}'"))
    return problems


LIBRARY_SUFFIXES = {"linux": ".sh", "windows": ".ps1"}


def _without_shebang(text: str) -> str:
    return text.partition("\n")[2] if text.startswith("#!") else text


def _load_pins(path: Path, problems: list[Problem]) -> dict[str, Pin]:
    if not path.is_file():
        return {}
    raw = parse_yaml(path.read_text()) or {}
    pins: dict[str, Pin] = {}
    for name, entry in raw.items():
        downloads = {os: entry[os] for os in ("windows", "linux") if isinstance(entry.get(os), dict)}
        for os, dl in downloads.items():
            if not re.fullmatch(r"[0-9a-f]{64}", str(dl.get("sha256", ""))):
                problems.append(Problem(str(path.name), f"{name}.{os}.sha256", "must be a sha256 hex digest"))
            if not str(dl.get("url", "")).startswith("https://"):
                problems.append(Problem(str(path.name), f"{name}.{os}.url", "must be an https:// URL"))
        pins[name] = Pin(name=name, version=str(entry.get("version", "")), downloads=downloads)
    return pins


def _native_everywhere(spec: StepSpec, os: str) -> bool:
    """True when every cloud the step runs on renders it natively, so no script is needed."""
    native = {
        "aws": spec.aws.managed_component.get(os) is not None,
        "azure": os == "windows" and spec.azure.windows_update,
    }
    return all(native[cloud] for cloud in spec.clouds)


def is_secret_reference(value: str) -> bool:
    return any(re.match(p, value) for p in SECRET_REFERENCE_PATTERNS)
