"""Customizers: a flavour's prepared steps in order, and the in-VM validations of their checks."""
from __future__ import annotations

import base64
import re
from dataclasses import replace
from typing import Any, Iterable, Sequence

from ...model.prepared import DOWNLOAD_DIRS, PreparedStep
from .names import derived
from .runners import powershell_runner, ps_quote, sh_quote, shell_runner

# A generous ceiling: cumulative updates can keep Windows busy for a long time after a restart.
RESTART_TIMEOUT = "30m"
# Installed per restart cycle; the update customizer loops until nothing is left, and
# smaller batches keep one failing update from hiding behind hundreds of others.
UPDATE_LIMIT = 40
# Image Builder's File customizer can only write to /tmp on Linux (it uploads as the
# unprivileged build user), so downloads land there first and are moved with sudo.
LINUX_UPLOAD_DIR = "/tmp"

KB_PATTERN = re.compile(r"^(KB)?([0-9]{6,8})$", re.IGNORECASE)


def render_customizers(steps: Sequence[PreparedStep], asset_store: Any = None,
                       build_vm_client_id: Any = None) -> list[dict[str, Any]]:
    """Every step in flavour order; downloads are cleaned up before the image is captured.

    asset_store: URL of the blob container holding the stack's build assets.
    build_vm_client_id: client id of the build VM's identity, which reads the stack's artefact container.
    """
    customizers: list[dict[str, Any]] = []
    for index, step in enumerate(steps, start=1):
        customizers.extend(_step_customizers(index, step, asset_store, build_vm_client_id))
    downloads = [d for step in steps for d in step.downloads]
    if downloads:
        os = steps[0].os
        customizers.append(_cleanup_downloads(os))
    return customizers


def _label(index: int, step: PreparedStep, what: str) -> str:
    """`04-script-crypto-and-banner-install`: position, step, the use's name (use_names.py) when the
    step has one, and what the customizer does; AIB's customizer name is free text
    (azure-mgmt-imagebuilder ImageTemplateCustomizer.name) and names the customizer in the build log."""
    use = f"{step.name}-{step.label}" if step.label else step.name
    return f"{index:02d}-{use}-{what}"


def _step_customizers(index: int, step: PreparedStep, asset_store: Any = None,
                      build_vm_client_id: Any = None) -> list[dict[str, Any]]:
    if step.azure_windows_update:
        # A restart first clears pending restarts from the marketplace image (the usual
        # cause of 0x80240016); the last one finishes what the updates started.
        timeout = _minutes(step.params.get("restart_timeout_minutes"))
        out = [
            _restart(_label(index, step, "restart-before-updates"), timeout),
            render_windows_update(_label(index, step, "windows-update"), step),
        ]
        if step.reboot_after:
            out.append(_restart(_label(index, step, "restart-after-updates"), timeout))
        return out
    if step.render == "reboot":
        return [render_reboot(_label(index, step, "restart"), step)]
    if step.render == "pause":
        return [render_pause(_label(index, step, "pause"), step)]
    if step.script is None:
        raise ValueError(f"step '{step.name}' has no {step.os} script and no native Azure rendering")
    out = _download_customizers(index, step, asset_store, build_vm_client_id)
    if step.os == "windows":
        out.append(
            _powershell(
                _label(index, step, "install"),
                powershell_runner(_label(index, step, "install"), step.script, step.valid_exit_codes,
                                  step.retries, step.timeout_minutes),
                step,
                valid_exit_codes=step.valid_exit_codes,
            )
        )
        if step.reboot_after:
            out.append(_restart(_label(index, step, "restart")))
    else:
        # Image Builder has no Linux restart customizer and a Shell customizer that
        # reboots loses its connection and fails the build. Linux steps therefore never
        # restart: updated packages are on disk, and every VM created from the
        # generalized image boots the new kernel on its first start.
        out.append(
            {
                "type": "Shell",
                "name": _label(index, step, "install"),
                "inline": shell_runner(_label(index, step, "install"), step.script, step.valid_exit_codes,
                                       step.retries, step.timeout_minutes),
            }
        )
    return out


def _minutes(value: Any) -> str:
    """AIB's duration strings: magnitude and unit, e.g. '10m' (WindowsRestart restartTimeout)."""
    return f"{int(value)}m" if value else RESTART_TIMEOUT


def _restart(name: str, timeout: str = RESTART_TIMEOUT) -> dict[str, Any]:
    return {"type": "WindowsRestart", "name": name, "restartTimeout": timeout}


# Packer's windows-update provisioner (which AIB's WindowsUpdate customizer runs) documents
# these Windows Update Agent search criteria for important and recommended updates.
SEARCH_CRITERIA = {
    "all": "IsInstalled=0",
    "important": "AutoSelectOnWebSites=1 and IsInstalled=0",
    "recommended": "BrowseOnly=0 and IsInstalled=0",
}
REBOOT_CHECK_MINUTES = 30


def render_windows_update(name: str, step: PreparedStep) -> dict[str, Any]:
    """The updates the step's `search` selects except previews and the KBs its `exclude`
    lists, at most `update_limit` per restart cycle."""
    excluded = [f"exclude:$_.Title -like '*{kb}*'" for kb in windows_update_exclusions(step.params.get("exclude"))]
    return {
        "type": "WindowsUpdate",
        "name": name,
        "searchCriteria": SEARCH_CRITERIA[step.params.get("search") or "all"],
        "filters": ["exclude:$_.Title -like '*Preview*'", *excluded, "include:$true"],
        "updateLimit": int(step.params.get("update_limit") or UPDATE_LIMIT),
    }


def _encoded_powershell(command: str) -> str:
    """A PowerShell command line that runs `command` as written: -EncodedCommand takes it
    base64-encoded UTF-16LE, so no quoting of the command's own characters is involved."""
    encoded = base64.b64encode(command.encode("utf-16-le")).decode()
    return f"powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {encoded}"


def render_reboot(name: str, step: PreparedStep) -> dict[str, Any]:
    """WindowsRestart: the restart (after delay_seconds), the check AIB runs until it passes,
    and the time the restart may take (the step's timeout_minutes). Linux has no restart
    customizer; the loader refuses a Linux reboot on Azure with the reason."""
    if step.os != "windows":
        raise ValueError(f"step '{step.name}': Azure VM Image Builder has no Linux restart customizer")
    delay = int(step.params.get("delay_seconds") or 0)
    customizer: dict[str, Any] = {
        "type": "WindowsRestart",
        "name": name,
        # AIB's default restart command, with the step's delay.
        "restartCommand": f'shutdown /r /f /t {delay} /c "golden-images restart"',
        "restartTimeout": _minutes(step.timeout_minutes or REBOOT_CHECK_MINUTES),
    }
    if step.params.get("check"):
        customizer["restartCheckCommand"] = _encoded_powershell(step.params["check"])
    return customizer


def render_pause(name: str, step: PreparedStep) -> dict[str, Any]:
    """AIB has no pause customizer: the OS's own sleep in a Shell or PowerShell customizer."""
    seconds = int(step.params["seconds"])
    if step.os == "windows":
        return {"type": "PowerShell", "name": name, "inline": [f"Start-Sleep -Seconds {seconds}"],
                "runElevated": False, "validExitCodes": [0]}
    return {"type": "Shell", "name": name, "inline": [f"sleep {seconds}"]}


def windows_update_exclusions(value: Any) -> list[str]:
    """KB ids as 'KB1234567'. Filters are PowerShell, so anything else is refused."""
    if value in (None, "", []):
        return []
    items = value if isinstance(value, list) else str(value).split()
    out = []
    for item in items:
        match = KB_PATTERN.match(str(item))
        if not match:
            raise ValueError(f"'{item}' is not a Windows update KB id (e.g. KB5005463)")
        out.append(f"KB{match.group(2)}")
    return out


def _source_uri(download: Any, asset_store: Any) -> Any:
    """A pinned download's URL, or a build asset's blob in the stack's asset container."""
    if download.store == "aws":
        raise ValueError(f"{download.url} is in an S3 bucket, which the Azure build VM has no identity for")
    if download.asset_key is None:
        return download.url
    if asset_store is None:
        raise ValueError(f"{download.pin}: build assets need the stack's asset container")
    return derived(asset_store, lambda base: f"{base}/{download.asset_key}")


def _download_customizers(index: int, step: PreparedStep, asset_store: Any = None,
                          build_vm_client_id: Any = None) -> list[dict[str, Any]]:
    """File customizers (verified by sha256) for the step's pinned downloads and build assets.

    The File customizer fetches a blob with the template's identity, which may read
    the asset container (the builder role's one data action, assigned there only).
    A file of the team's artefact container is fetched on the build VM itself with the
    VM's own identity, which alone is granted read there (artefact_fetch).
    """
    if not step.downloads:
        return []
    stored = [d for d in step.downloads if d.store == "azure"]
    if stored:
        if build_vm_client_id is None:
            raise ValueError(f"step '{step.name}' reads the stack's artefact container: it needs the build VM identity")
        fetches = [artefact_fetch(index, step, d, build_vm_client_id, n) for n, d in enumerate(stored, start=1)]
        rest = [d for d in step.downloads if d.store != "azure"]
        if not rest:
            return fetches
        step = replace(step, downloads=tuple(rest))
        return fetches + _download_customizers(index, step, asset_store)
    out: list[dict[str, Any]] = []
    if step.os == "windows":
        # The File customizer needs the destination folder to exist already.
        folders = sorted({d.destination.rsplit("\\", 1)[0] for d in step.downloads})
        out.append(
            _powershell(
                _label(index, step, "download-folders"),
                ["$ErrorActionPreference = 'Stop'"]
                + [f"New-Item -ItemType Directory -Force -Path {ps_quote(f)} | Out-Null" for f in folders],
                step,
            )
        )
        for download in step.downloads:
            out.append(
                {
                    "type": "File",
                    "name": _label(index, step, f"download-{download.pin}"),
                    "sourceUri": _source_uri(download, asset_store),
                    "destination": download.destination,
                    **_checksum(download),
                }
            )
        return out
    moves = ["set -eu"]
    for download in step.downloads:
        tag = download.sha256[:12] or download.pin
        upload = f"{LINUX_UPLOAD_DIR}/golden-images-{tag}-{download.destination.rsplit('/', 1)[-1]}"
        out.append(
            {
                "type": "File",
                "name": _label(index, step, f"download-{download.pin}"),
                "sourceUri": _source_uri(download, asset_store),
                "destination": upload,
                **_checksum(download),
            }
        )
        folder = download.destination.rsplit("/", 1)[0]
        moves.append(f"sudo mkdir -p {sh_quote(folder)}")
        moves.append(f"sudo mv -f {sh_quote(upload)} {sh_quote(download.destination)}")
    out.append({"type": "Shell", "name": _label(index, step, "place-downloads"), "inline": moves})
    return out


# Azure Instance Metadata Service: a managed identity's token for a resource, on the VM only
# (Microsoft Entra docs, "How to use managed identities for Azure resources on an Azure VM to
# acquire an access token": GET 169.254.169.254/metadata/identity/oauth2/token with the header
# Metadata: true; client_id picks one of several user-assigned identities).
IMDS_TOKEN_URL = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
# The audience of Azure Storage tokens (Storage docs, "Authorize access to blobs using Microsoft
# Entra ID": resource https://storage.azure.com/).
STORAGE_RESOURCE = "https%3A%2F%2Fstorage.azure.com%2F"
# Blob requests with a bearer token need x-ms-version 2017-11-09 or later (Storage docs, "Call
# storage operations with OAuth tokens"); a fixed, current version keeps the response stable.
BLOB_API_VERSION = "2021-08-06"


def artefact_token_url(client_id: str) -> str:
    return f"{IMDS_TOKEN_URL}&resource={STORAGE_RESOURCE}&client_id={client_id}"


def artefact_fetch(index: int, step: PreparedStep, download: Any, client_id: Any, number: int = 1) -> dict[str, Any]:
    """A customizer that downloads one blob of the artefact container with the build VM's identity.

    The step's own script (verify.ps1 / verify.sh) then checks the sha256 when one is given.
    """
    name = _label(index, step, "fetch" if number == 1 else f"fetch-{number}")
    if step.os == "windows":
        folder = download.destination.rsplit("\\", 1)[0]
        lines = derived(client_id, lambda cid: [
            "$ErrorActionPreference = 'Stop'",
            "$ProgressPreference = 'SilentlyContinue'",
            f"$token = (Invoke-RestMethod -UseBasicParsing -Headers @{{Metadata = 'true'}} "
            f"-Uri {ps_quote(artefact_token_url(cid))}).access_token",
            f"New-Item -ItemType Directory -Force -Path {ps_quote(folder)} | Out-Null",
            f"Invoke-WebRequest -UseBasicParsing -Uri {ps_quote(download.url)} -OutFile {ps_quote(download.destination)} "
            f"-Headers @{{Authorization = \"Bearer $token\"; 'x-ms-version' = '{BLOB_API_VERSION}'}}",
        ])
        return {"type": "PowerShell", "name": name, "inline": lines, "runElevated": True}
    folder = download.destination.rsplit("/", 1)[0]
    lines = derived(client_id, lambda cid: [
        "set -eu",
        f"token=$(curl -fsS --retry 5 -H 'Metadata: true' {sh_quote(artefact_token_url(cid))} "
        "| sed -n 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/p')",
        f"sudo mkdir -p {sh_quote(folder)}",
        f"curl -fsS --retry 5 -H \"Authorization: Bearer $token\" -H 'x-ms-version: {BLOB_API_VERSION}' "
        f"-o /tmp/golden-images-artefact {sh_quote(download.url)}",
        f"sudo mv -f /tmp/golden-images-artefact {sh_quote(download.destination)}",
    ])
    return {"type": "Shell", "name": name, "inline": lines}


def _checksum(download: Any) -> dict[str, Any]:
    """The File customizer verifies sha256Checksum when given; an artifact given without one has none."""
    return {"sha256Checksum": download.sha256} if download.sha256 else {}


def _cleanup_downloads(os: str) -> dict[str, Any]:
    folder = DOWNLOAD_DIRS[os]
    if os == "windows":
        return {
            "type": "PowerShell",
            "name": "cleanup-downloads",
            "inline": [f"Remove-Item -LiteralPath {ps_quote(folder)} -Recurse -Force -ErrorAction SilentlyContinue"],
            "runElevated": True,
        }
    return {"type": "Shell", "name": "cleanup-downloads", "inline": [f"sudo rm -rf {sh_quote(folder)}"]}


def _powershell(name: str, inline: list[str], step: PreparedStep, valid_exit_codes: Iterable[int] = (0,)) -> dict[str, Any]:
    customizer = {
        "type": "PowerShell",
        "name": name,
        "inline": inline,
        "runElevated": step.run_elevated,
        "validExitCodes": list(valid_exit_codes),
    }
    # runAsSystem is only valid together with runElevated.
    if step.run_elevated and step.run_as_system:
        customizer["runAsSystem"] = True
    return customizer


# Validation ------------------------------------------------------------------------


def render_validations(steps: Sequence[PreparedStep], asset_store: Any = None) -> list[dict[str, Any]]:
    """Each step's check runs in the build VM after all customizers; a check passes on 0.

    A check that needs the step's downloads (an image test suite and its runner) fetches
    them again with File validators (the customizers' copies were cleaned up); the check
    removes them when done, before the image is captured.
    """
    validations: list[dict[str, Any]] = []
    for index, step in enumerate(steps, start=1):
        if step.check is None:
            continue  # nothing to prove (a pause, a restart)
        name = _label(index, step, "check")
        if step.check_downloads:
            validations.extend({**v, "name": f"{v['name']}-check"}
                               for v in _download_customizers(index, step, asset_store))
        if step.os == "windows":
            validation = {
                "type": "PowerShell",
                "name": name,
                "inline": powershell_runner(name, step.check, (0,), 0, None),
                "runElevated": step.run_elevated,
                "validExitCodes": [0],
            }
            if step.run_elevated and step.run_as_system:
                validation["runAsSystem"] = True
        else:
            validation = {"type": "Shell", "name": name, "inline": shell_runner(name, step.check, (0,), 0, None)}
        validations.append(validation)
    return validations

