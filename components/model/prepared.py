"""A flavour's steps resolved into cloud-neutral build units the renderers consume.

Everything both clouds agree on is decided here once: parameter values with
defaults, the environment a script sees (GI_PARAM_*, GI_PIN_*, GI_DOWNLOAD_*),
downloads with their checksums, reboot behaviour and the run options. The AWS
and Azure renderers only translate a PreparedStep into their own documents.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Optional, Protocol, Sequence

from .assets import Asset
from .flavour import StepUse
from .secret_refs import SecretRef, reference_of, references_in
from .steps import SECRET_TYPES, Catalogue, Step, pin_alias, substitute


class ArtefactStore(Protocol):
    """A stack's artefact bucket or container (settings.AwsArtefacts, AzureArtefacts)."""

    def url(self, key: str) -> str: ...


DOWNLOAD_DIRS = {"windows": "C:\\golden-images\\downloads", "linux": "/var/tmp/golden-images/downloads"}


@dataclass(frozen=True)
class Download:
    """A pinned file fetched before the step's script runs, verified by sha256.

    A build asset (a packed folder of this repository, see assets.py) has no
    public URL: `asset_key` names the object the program uploads, and each cloud
    fetches it from its own store (S3 on AWS, a blob container on Azure).
    """

    pin: str
    url: str
    sha256: str  # "" for an artifact given without one
    destination: str
    asset_key: Optional[str] = None

    @property
    def store(self) -> Optional[str]:
        """'aws' or 'azure' for a file in that cloud's object store (the artifact step), else None."""
        if self.asset_key is None and self.url.startswith("s3://"):
            return "aws"
        if self.asset_key is None and re.match(r"^https://[a-z0-9]{3,24}\.blob\.core\.windows\.net/", self.url):
            return "azure"
        return None


@dataclass(frozen=True)
class PreparedStep:
    """One step use of one flavour, ready to render for any cloud."""

    name: str
    category: str
    os: str
    params: dict[str, Any]
    environment: dict[str, str]  # variable -> string value, in a stable order
    script: Optional[str]  # install script with the environment prologue, None if native-only
    check: Optional[str]  # check script with the environment prologue; None: nothing to prove (a pause)
    downloads: tuple[Download, ...] = ()
    reboot_after: bool = False
    run_elevated: bool = True
    run_as_system: bool = False
    valid_exit_codes: tuple[int, ...] = (0,)
    timeout_minutes: Optional[int] = None
    retries: int = 0
    only_on: Optional[str] = None
    aws_managed_component: Optional[str] = None
    azure_windows_update: bool = False
    capabilities: tuple[str, ...] = field(default=())
    image_test: bool = True
    render: str = "scripts"  # StepSpec.render: how the clouds run it
    aws_managed_version: str = "x.x.x"  # the managed component's version (x wildcards: newest at build time)
    aws_managed_owner: str = "aws"  # the ARN's owner: aws (AWS-managed) or aws-marketplace (a Marketplace component)
    aws_managed_parameters: tuple[tuple[str, str], ...] = ()  # (name, value) the recipe passes to the managed component
    aws_update_os: bool = False  # AWS: AWSTOE's UpdateOS action (with the step's exclusions) instead
    check_downloads: bool = False  # the check fetches the downloads and assets again (StepSpec.check_downloads)
    # (parameter or variable name, reference) of every secret the step reads on this cloud, and
    # whether it reads any on some cloud (a step prepared for no cloud: the local rehearsal).
    secrets: tuple[tuple[str, SecretRef], ...] = ()
    reads_secrets: bool = False
    # The use's readable name among the flavour's uses of this step (use_names.py), "" for a step
    # that takes none: it names the cloud objects, never reaches the script.
    label: str = ""

    def runs_on(self, cloud: str) -> bool:
        return self.only_on in (None, cloud)


def env_name(*parts: str) -> str:
    return "GI_" + "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).upper() for p in parts)


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):  # a mapping parameter: JSON, as tools take variables
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return "" if value is None else str(value)


# Every character PowerShell ends a single-quoted string at: the apostrophe and the Unicode
# single quotes U+2018-U+201B (its tokenizer's IsSingleQuote); inside the string each is
# escaped by doubling it. Scripts are written with a BOM (Windows PowerShell 5.1 reads a
# .ps1 without one in the ANSI code page, where UTF-8 bytes can turn into these quotes).
PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_PS_SINGLE_QUOTE = re.compile(f"[{PS_SINGLE_QUOTES}]")


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted string literal that is exactly `value`: nothing expands or ends it."""
    return "'" + _PS_SINGLE_QUOTE.sub(lambda m: m.group() * 2, value) + "'"


def sh_quote(value: str) -> str:
    """A POSIX shell single-quoted word that is exactly `value`."""
    return "'" + value.replace("'", "'\\''") + "'"


def prologue(os: str, environment: dict[str, str]) -> str:
    """Variable assignments in the script's own language, values quoted literally."""
    if os == "windows":
        return "".join(f"$env:{k} = {ps_quote(v)}\n" for k, v in environment.items())
    return "".join(f"export {k}={sh_quote(v)}\n" for k, v in environment.items())


def with_prologue(os: str, script: str, environment: dict[str, str], library: str = "") -> str:
    """Insert the environment (and shared helpers) after a shebang (bash) or at the top (PowerShell)."""
    head = prologue(os, environment) + library
    if script.startswith("#!"):
        first, _, rest = script.partition("\n")
        return f"{first}\n{head}{rest}"
    return head + script


def _user_script(use: StepUse, step: Step, os: str, params: dict[str, Any],
                 secrets: Sequence[tuple[str, SecretRef]] = ()) -> tuple[dict[str, str], Optional[str], Optional[str]]:
    """A `script` step: the flavour's own script and check, with its own environment variables;
    the variables of `secrets` are read from their stores before the script's own text (never in
    the check)."""
    environment: dict[str, str] = {env_name("step"): step.name}
    environment.update((name, _env_value(value)) for name, value in sorted((params.get("environment") or {}).items()))
    script = params.get("inline") or params.get("file")
    check = params.get("check") or params.get("check_file")
    reading = step.secret_library.get(os, "") + read_secrets(os, secrets) if secrets else ""
    return (environment, with_prologue(os, script, environment, reading) if script else None,
            with_prologue(os, check, environment) if check else None)


def read_secrets(os: str, secrets: Sequence[tuple[str, SecretRef]]) -> str:
    """Lines that read each secret into its environment variable with the helpers of
    components/steps/lib/secrets.sh|.ps1 (the reference quoted literally: it stays inert); the
    variable lives in the step's own process only, and bash unsets it when the script exits."""
    if os == "windows":
        return "".join(f"Read-GiSecret -Variable {ps_quote(name)} -Reference {ps_quote(ref.reference)}\n"
                       for name, ref in secrets)
    names = " ".join(name for name, _ in secrets)
    return ("".join(f"gi_read_secret {name} {sh_quote(ref.reference)}\n" for name, ref in secrets)
            + f"export {names}\ntrap 'unset {names}' EXIT\n")


# A Download.url for an artefact key prepared without a cloud (whose store decides the URL).
ARTEFACT_SCHEME = "artefacts:"


def prepare_step(use: StepUse, step: Step, os: str, catalogue: Catalogue, cloud: Optional[str] = None,
                 artefacts: Optional[ArtefactStore] = None) -> PreparedStep:
    """One use ready to render; with `cloud`, secret parameters carry that cloud's reference;
    artefacts: the artefact store of the cloud this is prepared for (an artifact step's `key:`)."""
    # The step's own assets travel like a directory parameter's (GI_ASSET_<NAME>, uploaded, fetched).
    params = {**step.resolve_params(use.params), **step.assets}
    params.pop(step.name_parameter or "", None)  # names the objects, not the script's input
    secret_keys = [k for k, p in step.spec.parameters.items() if p.type in SECRET_TYPES]
    secrets = tuple(references_in(params, secret_keys, cloud)) if cloud else ()
    reads = any(params.get(k) for k in secret_keys)
    if step.spec.render != "scripts":
        native = _native_step(use, step, os, params, secrets)
        return replace(native, secrets=secrets, reads_secrets=reads, label=use.label or "")
    environment = {env_name("step"): step.name}
    for key in sorted(params):
        if key in secret_keys:
            # Only the reference, and only this cloud's: the script reads the value (lib/secrets).
            ref = reference_of(params[key], cloud) if cloud else None
            environment[env_name("param", key)] = ref.reference if ref else ""
            continue
        environment[env_name("param", key)] = _env_value(params[key])
    downloads: list[Download] = []
    # A pin may be templated on parameters (`dotnet-{kind}-{version}`): the values chosen
    # pick the pin; scripts see it under the template's fixed part (GI_PIN_DOTNET_VERSION).
    wanted = set(step.spec.downloads) | set(step.spec.conditional_downloads(params))
    for template in sorted(set(step.spec.pins) | wanted):
        pin_name = substitute(template, params)[0]
        alias = pin_alias(template)
        pin = catalogue.pins[pin_name]
        environment[env_name("pin", alias, "version")] = pin.version
        if template in wanted and os in pin.downloads:
            dl = pin.downloads[os]
            filename = dl.get("file") or dl["url"].rsplit("/", 1)[-1]
            sep = "\\" if os == "windows" else "/"
            destination = f"{DOWNLOAD_DIRS[os]}{sep}{filename}"
            downloads.append(Download(pin=pin_name, url=dl["url"], sha256=dl["sha256"], destination=destination))
            environment[env_name("download", alias)] = destination
            if step.spec.check_downloads:
                # The check fetches again in later phases; the script verifies what it runs.
                environment[env_name("download", alias, "sha256")] = dl["sha256"]
    # Build assets: the packed folder is fetched like a download; the script verifies it again.
    for key in sorted(params):
        asset = params[key]
        if isinstance(asset, Asset):
            destination = asset.destination(os)
            downloads.append(Download(pin=f"asset-{key.replace('_', '-')}", url=f"asset:{asset.key}",
                                      sha256=asset.sha256, destination=destination, asset_key=asset.key))
            environment[env_name("asset", key)] = destination
            environment[env_name("asset", key, "sha256")] = asset.sha256
            if asset.kind != "directory":
                environment[env_name("asset", key, "kind")] = asset.kind
    # A file from the cloud's own store (s3:// or an Azure blob), fetched by the renderer with
    # the build machine's identity; the script verifies its sha256 when one is given.
    if step.spec.fetch is not None:
        fetch = step.spec.fetch
        artefact_key = params.get(fetch.key) if fetch.key else None
        if params.get(fetch.source) or not artefact_key:
            url = str(params[fetch.source])
        else:
            url = artefacts.url(str(artefact_key)) if artefacts is not None else f"{ARTEFACT_SCHEME}{artefact_key}"
        downloads.append(Download(pin=step.name, url=url, sha256=str(params.get(fetch.sha256) or ""),
                                  destination=str(params[fetch.destination])))
    script = step.scripts.get(os)
    managed = step.spec.aws.managed_component.get(os)
    # What a managed component takes no setting for (exclusions, time limit, retries) needs
    # AWSTOE's own UpdateOS action: honoured, not dropped.
    update_os = managed is not None and os in step.spec.aws.update_os and bool(
        params.get("exclude") or use.options.timeout_minutes or use.options.retries)
    reboot = use.options.reboot_after if use.options.reboot_after is not None else step.spec.reboot == "after"
    return PreparedStep(
        name=step.name,
        category=step.spec.category,
        os=os,
        params=params,
        environment=environment,
        script=(with_prologue(os, script, environment, step.libraries.get(os, "")
                              + (step.secret_library.get(os, "") if reads else "") + step.includes.get(os, ""))
                if script is not None else None),
        check=with_prologue(os, step.checks[os], environment, step.includes.get(os, "")),
        downloads=tuple(downloads),
        reboot_after=reboot,
        run_elevated=use.options.run_elevated,
        run_as_system=use.options.run_as_system,
        valid_exit_codes=tuple(use.options.valid_exit_codes),
        timeout_minutes=use.options.timeout_minutes,
        retries=use.options.retries,
        only_on=use.only_cloud,
        aws_managed_component=None if update_os else managed,
        aws_update_os=update_os,
        azure_windows_update=os == "windows" and step.spec.azure.windows_update,
        capabilities=tuple(step.spec.capabilities),
        image_test=step.spec.image_test,
        check_downloads=step.spec.check_downloads and bool(downloads),
        secrets=secrets,
        reads_secrets=reads,
        label=use.label or "",
    )


def _native_step(use: StepUse, step: Step, os: str, params: dict[str, Any],
                 secrets: Sequence[tuple[str, SecretRef]] = ()) -> PreparedStep:
    """A step each cloud renders from its parameters (script, reboot, pause, aws-managed-component)."""
    environment: dict[str, str] = {env_name("step"): step.name}
    script: Optional[str] = None
    check: Optional[str] = None
    if step.spec.render == "script":
        environment, script, check = _user_script(use, step, os, params, secrets)
    managed = managed_version = None
    managed_owner = "aws"
    managed_parameters: tuple[tuple[str, str], ...] = ()
    if step.spec.render == "aws-managed-component":
        managed, managed_version = params["name"], params.get("version") or "x.x.x"
        managed_owner = str(params.get("owner") or "aws")
        managed_parameters = tuple((k, _env_value(v)) for k, v in sorted((params.get("parameters") or {}).items()))
    reboot = use.options.reboot_after if use.options.reboot_after is not None else step.spec.reboot == "after"
    return PreparedStep(
        name=step.name, category=step.spec.category, os=os, params=params, environment=environment,
        script=script, check=check, reboot_after=reboot, run_elevated=use.options.run_elevated,
        run_as_system=use.options.run_as_system, valid_exit_codes=tuple(use.options.valid_exit_codes),
        timeout_minutes=use.options.timeout_minutes, retries=use.options.retries, only_on=use.options.only_on,
        aws_managed_component=managed, capabilities=tuple(step.spec.capabilities),
        image_test=step.spec.image_test and check is not None, render=step.spec.render,
        aws_managed_version=managed_version or "x.x.x", aws_managed_parameters=managed_parameters,
        aws_managed_owner=managed_owner,
    )


def prepare_flavour(os: str, steps: Sequence[StepUse], catalogue: Catalogue,
                    cloud: Optional[str] = None, artefacts: Optional[ArtefactStore] = None) -> list[PreparedStep]:
    """Step uses in order, limited to one cloud when given (validated input assumed);
    artefacts: that cloud's artefact store, where artifact steps' keys are read."""
    prepared = [prepare_step(use, catalogue.steps[use.name], os, catalogue, cloud, artefacts) for use in steps]
    if cloud is None:
        return prepared
    return [p for p in prepared if p.runs_on(cloud) and cloud in catalogue.steps[p.name].spec.clouds]
