"""Azure VM Image Builder: a flavour's prepared steps rendered as request-shaped dicts.

Pure: no Pulumi import. Every dict uses the REST API's wire names (camelCase, API
2024-02-01), exactly what the Image Builder service receives, so tests and the
offline plan read the same shapes as the Azure documentation. Resource ids that only
exist at deploy time (identity, gallery image, staging group) are passed in as
opaque values and placed where they belong; the component hands in Outputs, the
content hash hands in symbolic ids built from names.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

from ..model.build import FlavourBuild
from ..model.errors import Problem
from ..model.prepared import DOWNLOAD_DIRS, PreparedStep
from ..model.settings import NAMESPACE, AzureSettings, Schedule
from ..model.vocabulary import content_hash

API_VERSION = "2024-02-01"
ARM_ENDPOINT = "https://management.azure.com"

# A generous ceiling: cumulative updates can keep Windows busy for a long time after a restart.
RESTART_TIMEOUT = "30m"
# Installed per restart cycle; the update customizer loops until nothing is left, and
# smaller batches keep one failing update from hiding behind hundreds of others.
UPDATE_LIMIT = 40
RETRY_DELAY_SECONDS = 30
# Exit code a timed-out Windows step reports (ERROR_TIMEOUT); `timeout` uses 124 on Linux.
WINDOWS_TIMEOUT_EXIT_CODE = 1460
# Image Builder's File customizer can only write to /tmp on Linux (it uploads as the
# unprivileged build user), so downloads land there first and are moved with sudo.
LINUX_UPLOAD_DIR = "/tmp"

# The identity that runs builds: publish versions into this gallery, join the build
# subnets. Staging groups are created, permissioned and deleted by the Image Builder
# service itself (granted when the resource provider is registered), so the identity
# needs nothing at subscription scope. Platform images need no read permission.
GALLERY_ACTIONS = (
    "Microsoft.Compute/galleries/read",
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
    "Microsoft.Compute/galleries/images/versions/write",
)
NETWORK_ACTIONS = (
    "Microsoft.Network/virtualNetworks/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
)
# The schedule's identity may start builds and nothing else.
RUNNER_ACTIONS = (
    "Microsoft.VirtualMachineImages/imageTemplates/read",
    "Microsoft.VirtualMachineImages/imageTemplates/run/action",
)

# IANA -> Windows time zone names (CLDR windowsZones), which Logic Apps recurrences
# require. A fixed UTC offset would drift by an hour at every daylight-saving change.
WINDOWS_TIME_ZONES = {
    "UTC": "UTC",
    "Etc/UTC": "UTC",
    "Etc/GMT": "UTC",
    "Europe/London": "GMT Standard Time",
    "Europe/Dublin": "GMT Standard Time",
    "Europe/Lisbon": "GMT Standard Time",
    "Atlantic/Reykjavik": "Greenwich Standard Time",
    "Europe/Amsterdam": "W. Europe Standard Time",
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Rome": "W. Europe Standard Time",
    "Europe/Stockholm": "W. Europe Standard Time",
    "Europe/Oslo": "W. Europe Standard Time",
    "Europe/Zurich": "W. Europe Standard Time",
    "Europe/Vienna": "W. Europe Standard Time",
    "Europe/Luxembourg": "W. Europe Standard Time",
    "Europe/Malta": "W. Europe Standard Time",
    "Europe/Brussels": "Romance Standard Time",
    "Europe/Paris": "Romance Standard Time",
    "Europe/Madrid": "Romance Standard Time",
    "Europe/Copenhagen": "Romance Standard Time",
    "Europe/Warsaw": "Central European Standard Time",
    "Europe/Zagreb": "Central European Standard Time",
    "Europe/Prague": "Central Europe Standard Time",
    "Europe/Budapest": "Central Europe Standard Time",
    "Europe/Bratislava": "Central Europe Standard Time",
    "Europe/Ljubljana": "Central Europe Standard Time",
    "Europe/Belgrade": "Central Europe Standard Time",
    "Europe/Helsinki": "FLE Standard Time",
    "Europe/Kyiv": "FLE Standard Time",
    "Europe/Kiev": "FLE Standard Time",
    "Europe/Riga": "FLE Standard Time",
    "Europe/Tallinn": "FLE Standard Time",
    "Europe/Vilnius": "FLE Standard Time",
    "Europe/Sofia": "FLE Standard Time",
    "Europe/Athens": "GTB Standard Time",
    "Europe/Bucharest": "GTB Standard Time",
    "Europe/Istanbul": "Turkey Standard Time",
    "Europe/Moscow": "Russian Standard Time",
    "Asia/Jerusalem": "Israel Standard Time",
    "Africa/Cairo": "Egypt Standard Time",
    "Africa/Johannesburg": "South Africa Standard Time",
    "Africa/Lagos": "W. Central Africa Standard Time",
    "Africa/Nairobi": "E. Africa Standard Time",
    "Asia/Dubai": "Arabian Standard Time",
    "Asia/Riyadh": "Arab Standard Time",
    "Asia/Karachi": "Pakistan Standard Time",
    "Asia/Kolkata": "India Standard Time",
    "Asia/Calcutta": "India Standard Time",
    "Asia/Dhaka": "Bangladesh Standard Time",
    "Asia/Bangkok": "SE Asia Standard Time",
    "Asia/Jakarta": "SE Asia Standard Time",
    "Asia/Ho_Chi_Minh": "SE Asia Standard Time",
    "Asia/Singapore": "Singapore Standard Time",
    "Asia/Kuala_Lumpur": "Singapore Standard Time",
    "Asia/Manila": "Singapore Standard Time",
    "Asia/Shanghai": "China Standard Time",
    "Asia/Hong_Kong": "China Standard Time",
    "Asia/Taipei": "Taipei Standard Time",
    "Asia/Tokyo": "Tokyo Standard Time",
    "Asia/Seoul": "Korea Standard Time",
    "Australia/Perth": "W. Australia Standard Time",
    "Australia/Darwin": "AUS Central Standard Time",
    "Australia/Adelaide": "Cen. Australia Standard Time",
    "Australia/Brisbane": "E. Australia Standard Time",
    "Australia/Sydney": "AUS Eastern Standard Time",
    "Australia/Melbourne": "AUS Eastern Standard Time",
    "Australia/Canberra": "AUS Eastern Standard Time",
    "Australia/Hobart": "Tasmania Standard Time",
    "Pacific/Auckland": "New Zealand Standard Time",
    "Pacific/Honolulu": "Hawaiian Standard Time",
    "America/Anchorage": "Alaskan Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "America/Vancouver": "Pacific Standard Time",
    "America/Phoenix": "US Mountain Standard Time",
    "America/Denver": "Mountain Standard Time",
    "America/Edmonton": "Mountain Standard Time",
    "America/Chicago": "Central Standard Time",
    "America/Winnipeg": "Central Standard Time",
    "America/Regina": "Canada Central Standard Time",
    "America/Mexico_City": "Central Standard Time (Mexico)",
    "America/New_York": "Eastern Standard Time",
    "America/Toronto": "Eastern Standard Time",
    "America/Detroit": "Eastern Standard Time",
    "America/Bogota": "SA Pacific Standard Time",
    "America/Lima": "SA Pacific Standard Time",
    "America/Caracas": "Venezuela Standard Time",
    "America/Halifax": "Atlantic Standard Time",
    "America/St_Johns": "Newfoundland Standard Time",
    "America/Santiago": "Pacific SA Standard Time",
    "America/Sao_Paulo": "E. South America Standard Time",
    "America/Argentina/Buenos_Aires": "Argentina Standard Time",
}

WEEKDAY_NAMES = {
    "monday": "Monday",
    "tuesday": "Tuesday",
    "wednesday": "Wednesday",
    "thursday": "Thursday",
    "friday": "Friday",
    "saturday": "Saturday",
    "sunday": "Sunday",
}

KB_PATTERN = re.compile(r"^(KB)?([0-9]{6,8})$", re.IGNORECASE)


# Names -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FactoryNames:
    """Names of the shared per-stack objects; everything per flavour derives from these."""

    stack: str
    location: str
    resource_group: str
    gallery: str
    builder_identity: str
    scheduler_identity: str

    @classmethod
    def for_stack(cls, stack: str, azure: AzureSettings) -> "FactoryNames":
        slug = stack_slug(stack)
        return cls(
            stack=slug,
            location=azure.location,
            resource_group=azure.resource_group_name or f"golden-images-{slug}"[:90],
            gallery=azure.gallery_name or gallery_name_for(stack),
            builder_identity=f"golden-images-{slug}-builder"[:128],
            scheduler_identity=f"golden-images-{slug}-scheduler"[:128],
        )

    def workflow(self, flavour: FlavourBuild) -> str:
        return f"golden-images-{self.stack}-{flavour.name}"[:80]

    def builder_role(self, subscription_id: str) -> str:
        """Custom role names are unique per tenant, so they name the group and subscription."""
        return f"golden-images image builder ({self.resource_group}, {subscription_id})"

    def runner_role(self, subscription_id: str) -> str:
        return f"golden-images image template runner ({self.resource_group}, {subscription_id})"


def stack_slug(stack: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", stack).strip("-") or "stack"


def gallery_name_for(stack: str) -> str:
    """Compute Gallery names allow letters, digits, underscores and periods: no hyphens."""
    name = "golden_images_" + re.sub(r"[^A-Za-z0-9_.]", "_", stack)
    return name[:80].rstrip("_.") or "golden_images"


def template_name(flavour: FlavourBuild, digest: str) -> str:
    """`^[A-Za-z0-9-_.]{1,64}$`: flavour names are at most 40 characters, digests 10."""
    return f"{flavour.name}-{digest}"


def staging_group_name(names: FactoryNames, template: str) -> str:
    """A fresh, empty group per template: Image Builder refuses a group used before."""
    suffix = f"-staging-{template}"
    return names.resource_group[: 90 - len(suffix)] + suffix


def group_id(subscription_id: str, group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}"


def vnet_ids(azure: AzureSettings) -> list[str]:
    """The virtual networks of the build subnets (role assignments go on the network)."""
    found: list[str] = []
    for subnet in (azure.subnet_id, azure.container_instance_subnet_id):
        if subnet:
            vnet = subnet.split("/subnets/")[0]
            if vnet not in found:
                found.append(vnet)
    return found


def vnet_group_ids(azure: AzureSettings) -> list[str]:
    """Resource groups of those networks: custom roles are assignable at group level."""
    found: list[str] = []
    for vnet in vnet_ids(azure):
        group = vnet.split("/providers/")[0]
        if group not in found:
            found.append(group)
    return found


def builder_actions(azure: AzureSettings) -> list[str]:
    return [*GALLERY_ACTIONS, *(NETWORK_ACTIONS if azure.subnet_id else ())]


def run_command(template: str, group: str) -> str:
    return f"az image builder run -n {template} -g {group} --no-wait"


def run_uri(template_id: str) -> str:
    """The template's run action; template ids start with /subscriptions/."""
    return f"{ARM_ENDPOINT}{template_id}/run?api-version={API_VERSION}"


# Tags ------------------------------------------------------------------------------


def template_tags(build: FlavourBuild) -> dict[str, str]:
    """The build's tags without the source commit: a template is replaced by any change, so a
    tag that changes with every commit would rebuild it (and its name) on every deploy."""
    return build.tags_without_commit


# Gallery image definition ---------------------------------------------------------


def render_image_definition(flavour: FlavourBuild, azure: AzureSettings, names: FactoryNames) -> dict:
    """The gallery image definition (wire names). Consumers use its latest version."""
    # A layer's images boot like the marketplace image under its chain.
    source = flavour.root.base_image.azure
    generation = source.hyper_v_generation
    definition = {
        "galleryImageName": flavour.name,
        "location": names.location,
        "description": flavour.description,
        "identifier": {
            "publisher": azure.image_publisher,
            "offer": flavour.name,
            "sku": names.stack,
        },
        "osType": "Windows" if flavour.os == "windows" else "Linux",
        "osState": "Generalized",
        "hyperVGeneration": generation,
        "architecture": "Arm64" if "arm64" in source.sku.lower() else "x64",
        "tags": dict(flavour.tags),
    }
    if generation == "V2":
        # Gen2 marketplace sources boot with Secure Boot and vTPM; 'Supported' lets
        # consumers launch either Trusted Launch or standard VMs from the image.
        definition["features"] = [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
    return definition


# Customizers -----------------------------------------------------------------------


def render_customizers(steps: Sequence[PreparedStep], asset_store: Any = None) -> list[dict]:
    """Every step in flavour order; downloads are cleaned up before the image is captured.

    asset_store: URL of the blob container holding the stack's build assets.
    """
    customizers: list[dict] = []
    for index, step in enumerate(steps, start=1):
        customizers.extend(_step_customizers(index, step, asset_store))
    downloads = [d for step in steps for d in step.downloads]
    if downloads:
        os = steps[0].os
        customizers.append(_cleanup_downloads(os))
    return customizers


def _label(index: int, step: PreparedStep, what: str) -> str:
    return f"{index:02d}-{step.name}-{what}"


def _step_customizers(index: int, step: PreparedStep, asset_store: Any = None) -> list[dict]:
    if step.azure_windows_update:
        # A restart first clears pending restarts from the marketplace image (the usual
        # cause of 0x80240016); the last one finishes what the updates started.
        return [
            _restart(_label(index, step, "restart-before-updates")),
            render_windows_update(_label(index, step, "windows-update"), step),
            _restart(_label(index, step, "restart-after-updates")),
        ]
    if step.script is None:
        raise ValueError(f"step '{step.name}' has no {step.os} script and no native Azure rendering")
    out = _download_customizers(index, step, asset_store)
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


def _restart(name: str) -> dict:
    return {"type": "WindowsRestart", "name": name, "restartTimeout": RESTART_TIMEOUT}


def render_windows_update(name: str, step: PreparedStep) -> dict:
    """Every applicable update except previews and the KBs the step's `exclude` lists."""
    excluded = [f"exclude:$_.Title -like '*{kb}*'" for kb in windows_update_exclusions(step.params.get("exclude"))]
    return {
        "type": "WindowsUpdate",
        "name": name,
        "searchCriteria": "IsInstalled=0",
        "filters": ["exclude:$_.Title -like '*Preview*'", *excluded, "include:$true"],
        "updateLimit": UPDATE_LIMIT,
    }


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
    if download.asset_key is None:
        return download.url
    if asset_store is None:
        raise ValueError(f"{download.pin}: build assets need the stack's asset container")
    return _derived(asset_store, lambda base: f"{base}/{download.asset_key}")


def _download_customizers(index: int, step: PreparedStep, asset_store: Any = None) -> list[dict]:
    """File customizers (verified by sha256) for the step's pinned downloads and build assets.

    The File customizer fetches a blob with the template's identity, which may read
    the asset container (the builder role's one data action, assigned there only).
    """
    if not step.downloads:
        return []
    out: list[dict] = []
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
                    "sha256Checksum": download.sha256,
                }
            )
        return out
    moves = ["set -eu"]
    for download in step.downloads:
        upload = f"{LINUX_UPLOAD_DIR}/golden-images-{download.sha256[:12]}-{download.destination.rsplit('/', 1)[-1]}"
        out.append(
            {
                "type": "File",
                "name": _label(index, step, f"download-{download.pin}"),
                "sourceUri": _source_uri(download, asset_store),
                "destination": upload,
                "sha256Checksum": download.sha256,
            }
        )
        folder = download.destination.rsplit("/", 1)[0]
        moves.append(f"sudo mkdir -p {sh_quote(folder)}")
        moves.append(f"sudo mv -f {sh_quote(upload)} {sh_quote(download.destination)}")
    out.append({"type": "Shell", "name": _label(index, step, "place-downloads"), "inline": moves})
    return out


def _cleanup_downloads(os: str) -> dict:
    folder = DOWNLOAD_DIRS[os]
    if os == "windows":
        return {
            "type": "PowerShell",
            "name": "cleanup-downloads",
            "inline": [f"Remove-Item -LiteralPath {ps_quote(folder)} -Recurse -Force -ErrorAction SilentlyContinue"],
            "runElevated": True,
        }
    return {"type": "Shell", "name": "cleanup-downloads", "inline": [f"sudo rm -rf {sh_quote(folder)}"]}


def _powershell(name: str, inline: list[str], step: PreparedStep, valid_exit_codes: Iterable[int] = (0,)) -> dict:
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


def render_validations(steps: Sequence[PreparedStep]) -> list[dict]:
    """Each step's check runs in the build VM after all customizers; a check passes on 0."""
    validations = []
    for index, step in enumerate(steps, start=1):
        name = _label(index, step, "check")
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


# Script runners --------------------------------------------------------------------
#
# Scripts travel base64-encoded and run from a file. Inline commands pass through
# Packer, whose template engine would rewrite `{{ }}` in a script, and elevated
# inline PowerShell is known to hang; a file sidesteps both, keeps quoting out of the
# picture, and gives retries and time limits one place to live. The comment line names
# the step and the script's sha256 so a plan diff still says what changed.


def sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def ps_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def shell_runner(label: str, script: str, valid_exit_codes: Iterable[int], retries: int,
                 timeout_minutes: Optional[int]) -> list[str]:
    """Shell lines that run a script as root with retries, a time limit and valid exit codes.

    Image Builder's Shell customizer runs as an unprivileged user with sudo and treats
    any non-zero exit as failure, so valid non-zero codes are mapped to success here.
    """
    valid = sorted(set(valid_exit_codes) | {0})
    attempts = retries + 1
    path = f"/tmp/golden-images-{label}.sh"
    encoded = base64.b64encode(script.encode()).decode()
    # The interpreter is named explicitly (the shebang's, else bash) so the script runs
    # even where /tmp is mounted noexec.
    interpreter = script.split("\n", 1)[0][2:].split() if script.startswith("#!") else ["bash"]
    command = " ".join([*(sh_quote(word) for word in interpreter), sh_quote(path)])
    if timeout_minutes:
        command = f"timeout --kill-after=60 {timeout_minutes * 60} {command}"
    valid_case = "|".join(str(code) for code in valid)
    lines = [
        "set -eu",
        f"# {label}: sha256 {_sha256(script)}, up to {attempts} attempt(s)"
        + (f", {timeout_minutes} minute(s) each" if timeout_minutes else ""),
        f"printf '%s' '{encoded}' | base64 -d > {sh_quote(path)}",
        "attempt=1",
        "while :; do",
        "  status=0",
        f"  sudo {command} || status=$?",
        f"  case \"$status\" in {valid_case}) break ;; esac",
    ]
    if timeout_minutes:
        lines += [
            '  if [ "$status" -eq 124 ]; then',
            f"    echo '{label}: did not finish within {timeout_minutes} minute(s)' >&2",
            "  fi",
        ]
    lines += [
        f'  if [ "$attempt" -ge {attempts} ]; then break; fi',
        f'  echo "{label}: attempt $attempt of {attempts} failed with exit code $status; '
        f'retrying in {RETRY_DELAY_SECONDS}s" >&2',
        f"  sleep {RETRY_DELAY_SECONDS}",
        "  attempt=$((attempt + 1))",
        "done",
        f"rm -f {sh_quote(path)}",
        f"case \"$status\" in {valid_case}) exit 0 ;; esac",
        'exit "$status"',
    ]
    return lines


def powershell_runner(label: str, script: str, valid_exit_codes: Iterable[int], retries: int,
                      timeout_minutes: Optional[int]) -> list[str]:
    """PowerShell lines that run a script in its own process with retries and a time limit.

    The child's exit code is the step's exit code (a thrown error exits 1), and the
    customizer's validExitCodes still decide success. Output is collected in files and
    printed after each attempt so nothing depends on how the build's session is hosted.
    """
    valid = sorted(set(valid_exit_codes))
    attempts = retries + 1
    # Windows PowerShell reads a script without a byte-order mark in the ANSI code page.
    encoded = base64.b64encode(script.encode("utf-8-sig")).decode()
    if timeout_minutes:
        wait = [
            f"    if ($process.WaitForExit({timeout_minutes * 60 * 1000})) {{",
            "        $code = $process.ExitCode",
            "    } else {",
            "        try { & taskkill.exe /PID $process.Id /T /F 2>&1 | Out-Null } catch { }",
            f"        $code = {WINDOWS_TIMEOUT_EXIT_CODE}",
            f"        Write-Output '{label}: did not finish within {timeout_minutes} minute(s)'",
            "    }",
        ]
    else:
        wait = ["    $process.WaitForExit()", "    $code = $process.ExitCode"]
    return [
        "$ErrorActionPreference = 'Stop'",
        f"# {label}: sha256 {_sha256(script)}, up to {attempts} attempt(s)"
        + (f", {timeout_minutes} minute(s) each" if timeout_minutes else ""),
        f"$script = Join-Path $env:TEMP {ps_quote(f'golden-images-{label}.ps1')}",
        f"[IO.File]::WriteAllBytes($script, [Convert]::FromBase64String('{encoded}'))",
        f"$valid = @({', '.join(str(c) for c in valid)})",
        "$code = 1",
        f"for ($attempt = 1; $attempt -le {attempts}; $attempt++) {{",
        '    $out = "$script.$attempt.out"',
        '    $err = "$script.$attempt.err"',
        "    $process = Start-Process -FilePath \"$PSHOME\\powershell.exe\" -NoNewWindow -PassThru "
        "-RedirectStandardOutput $out -RedirectStandardError $err "
        "-ArgumentList \"-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `\"$script`\"\"",
        "    $null = $process.Handle",
        *wait,
        "    Get-Content -LiteralPath $out, $err -ErrorAction SilentlyContinue | Write-Output",
        "    if ($valid -contains $code) { break }",
        f"    if ($attempt -lt {attempts}) {{",
        f"        Write-Output \"{label}: attempt $attempt of {attempts} failed with exit code $code; "
        f"retrying in {RETRY_DELAY_SECONDS}s\"",
        f"        Start-Sleep -Seconds {RETRY_DELAY_SECONDS}",
        "    }",
        "}",
        "Remove-Item -Path \"$script*\" -Force -ErrorAction SilentlyContinue",
        "exit $code",
    ]


# Template --------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateRefs:
    """Ids the template points at: strings in tests and hashes, Outputs in the component."""

    identity_id: Any
    gallery_image_id: Any
    staging_resource_group_id: Any
    base_image_id: Any = None  # a layered flavour's base: that flavour's gallery image definition
    asset_store: Any = None  # URL of the blob container with the stack's build assets


STAGING_PLACEHOLDER = "{stagingResourceGroup}"
ASSET_STORE_PLACEHOLDER = "{assetStore}"
ASSET_CONTAINER = "build-assets"
BLOB_READ_DATA_ACTION = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"


def symbolic_refs(names: FactoryNames, flavour: FlavourBuild) -> TemplateRefs:
    """Ids spelled from names, for hashing: the staging group is derived from the hash."""
    group = group_id("{subscriptionId}", names.resource_group)
    images = f"{group}/providers/Microsoft.Compute/galleries/{names.gallery}/images"
    return TemplateRefs(
        identity_id=f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{names.builder_identity}",
        gallery_image_id=f"{images}/{flavour.name}",
        staging_resource_group_id=STAGING_PLACEHOLDER,
        base_image_id=f"{images}/{flavour.base.name}" if flavour.base else None,
        # The account's name is generated; the blob names hash the assets' content.
        asset_store=ASSET_STORE_PLACEHOLDER,
    )


def render_source(flavour: FlavourBuild, base_image_id: Any = None) -> dict:
    """The marketplace image, or for a layered flavour the newest version of its base's gallery image
    ('latest' is resolved when the build starts, so the template never changes with the base)."""
    if flavour.base is not None:
        if base_image_id is None:
            raise ValueError(f"flavour '{flavour.name}' is layered on '{flavour.base.name}': its source needs "
                             "that flavour's gallery image id")
        return {"type": "SharedImageVersion", "imageVersionId": _versions_latest(base_image_id)}
    image = flavour.base_image.azure
    return {
        "type": "PlatformImage",
        "publisher": image.publisher,
        "offer": image.offer,
        "sku": image.sku,
        "version": image.version,
    }


def _derived(value: Any, derive) -> Any:
    """derive(value) for a string (tests, hashes); the same applied to an Output (the component)."""
    return derive(value) if isinstance(value, str) else value.apply(derive)


def _versions_latest(image_id: Any) -> Any:
    return _derived(image_id, lambda value: f"{value}/versions/latest")


def render_distribution(flavour: FlavourBuild, azure: AzureSettings, gallery_image_id: Any) -> list[dict]:
    """One gallery distribution, replicated per stack settings.

    Gallery versions are generated by Image Builder under the flavour's major version
    ({scheme: Latest, major}), so every rebuild gets a new, strictly higher version and
    "latest" stays meaningful; the flavour's full x.y.z travels as an artifact tag.
    """
    return [
        {
            "type": "SharedImage",
            "galleryImageId": gallery_image_id,
            "runOutputName": flavour.name,
            "artifactTags": template_tags(flavour),
            "targetRegions": [
                {
                    "name": replica.region,
                    "replicaCount": replica.replica_count,
                    "storageAccountType": replica.storage_account_type,
                }
                for replica in azure.replicas
            ],
            "versioning": {"scheme": "Latest", "major": int(flavour.version.split(".")[0])},
            "excludeFromLatest": False,
        }
    ]


def render_vm_profile(flavour: FlavourBuild, azure: AzureSettings) -> dict:
    profile = {
        "vmSize": flavour.machine.azure_vm_size or getattr(azure.vm_size, flavour.os),
        "osDiskSizeGB": flavour.machine.disk_size(flavour.os),
    }
    if azure.subnet_id:
        vnet = {"subnetId": azure.subnet_id}
        if azure.container_instance_subnet_id:
            vnet["containerInstanceSubnetId"] = azure.container_instance_subnet_id
        profile["vnetConfig"] = vnet
    return profile


def render_error_handling(azure: AzureSettings) -> dict:
    """'abort' keeps the failed build VM for debugging; 'cleanup' removes it."""
    action = "abort" if azure.keep_failed_vm else "cleanup"
    return {"onCustomizerError": action, "onValidationError": action}


def render_template(flavour: FlavourBuild, azure: AzureSettings, refs: TemplateRefs) -> dict:
    """The complete image template request: location, tags, identity and properties."""
    tags = template_tags(flavour)
    steps = flavour.steps_on("azure")
    return {
        "location": azure.location,
        "tags": tags,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [refs.identity_id]},
        "properties": {
            "source": render_source(flavour, refs.base_image_id),
            "customize": render_customizers(steps, refs.asset_store),
            "validate": {
                "continueDistributeOnFailure": False,
                "sourceValidationOnly": False,
                "inVMValidations": render_validations(steps),
            },
            "distribute": render_distribution(flavour, azure, refs.gallery_image_id),
            "vmProfile": render_vm_profile(flavour, azure),
            "buildTimeoutInMinutes": flavour.machine.timeout_minutes,
            "optimize": {"vmBoot": {"state": "Enabled"}},
            "errorHandling": render_error_handling(azure),
            "stagingResourceGroup": refs.staging_resource_group_id,
            "managedResourceTags": tags,
        },
    }


def template_digest(body: dict) -> str:
    """Short hash of a template rendered with symbolic refs: any input change renames it."""
    return content_hash(body, compact=True)


# Schedule --------------------------------------------------------------------------


def windows_time_zone(iana: str) -> str:
    try:
        return WINDOWS_TIME_ZONES[iana]
    except KeyError:
        raise ValueError(
            f"time zone '{iana}' has no known Windows name, which Azure Logic Apps schedules need; "
            f"use one of: {', '.join(sorted(WINDOWS_TIME_ZONES))}"
        ) from None


RECURRENCE_START = "2025-01-01T00:00:00"


def render_recurrence(schedule: Schedule) -> dict:
    """The Logic Apps recurrence equal to the stack schedule, in its own time zone."""
    frequency = {"day": "Day", "week": "Week", "month": "Month"}[schedule.every]
    when: dict = {"hours": [schedule.hour], "minutes": [schedule.minute]}
    if schedule.every == "week":
        when["weekDays"] = [WEEKDAY_NAMES[schedule.weekday]]
    elif schedule.every == "month":
        when["monthDays"] = [int(schedule.on)]
    return {
        "frequency": frequency,
        "interval": 1,
        # Logic Apps apply timeZone only together with a startTime (local time, no
        # offset); without one the hours are read as UTC. Any past date starts it now.
        "startTime": RECURRENCE_START,
        "timeZone": windows_time_zone(schedule.timezone),
        "schedule": when,
    }


def render_schedule_workflow(schedule: Schedule, *, run_uri: Any, identity_id: Any) -> dict:
    """A Logic App definition: on the schedule, POST the template's run action.

    The call authenticates as a user-assigned identity that may only run templates.
    It follows the run's asynchronous operation, so a failed build shows as a failed
    Logic App run.
    """
    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/"
        "2016-06-01/workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {},
        "triggers": {"Recurrence": {"type": "Recurrence", "recurrence": render_recurrence(schedule)}},
        "actions": {
            "Run_image_template": {
                "type": "Http",
                "runAfter": {},
                "inputs": {
                    "method": "POST",
                    "uri": run_uri,
                    "authentication": {
                        "type": "ManagedServiceIdentity",
                        "identity": identity_id,
                        "audience": f"{ARM_ENDPOINT}/",
                    },
                },
            }
        },
        "outputs": {},
    }


def describe_schedule(schedule: Schedule) -> str:
    return f"{schedule.describe()} ({windows_time_zone(schedule.timezone)})"


# Checks before anything is created --------------------------------------------------


@dataclass(frozen=True)
class AzurePlan:
    """What the stack's Azure factory is named before deployment, decided once."""

    names: FactoryNames
    templates: Mapping[str, str]  # flavour -> content-named template


def plan_azure(builds: Sequence[FlavourBuild], azure: AzureSettings, schedule: Schedule, *, stack: str,
               settings_source: str) -> tuple:
    """(AzurePlan, problems): what Azure would reject although the model accepts it, and the
    template names, each template rendered with ids spelled from names (see symbolic_refs)."""
    problems: list[Problem] = []
    if schedule.timezone not in WINDOWS_TIME_ZONES:
        problems.append(Problem(
            settings_source, f"{NAMESPACE}:schedule.timezone",
            f"'{schedule.timezone}' has no known Windows time zone name, which Azure Logic Apps "
            "schedules need; use a zone such as UTC, Europe/Amsterdam or America/New_York "
            f"(supported: {', '.join(sorted(WINDOWS_TIME_ZONES))})"))
    if azure.location not in [r.region for r in azure.replicas]:
        problems.append(Problem(
            settings_source, f"{NAMESPACE}:azure.replication",
            f"must include the factory's location '{azure.location}' (the gallery keeps a replica there)"))
    names = FactoryNames.for_stack(stack, azure)
    templates = {}
    for build in builds:
        if not build.builds_on("azure"):
            continue
        found = _build_problems(build, azure)
        problems.extend(found)
        if not found:
            body = render_template(build, azure, symbolic_refs(names, build))
            templates[build.name] = template_name(build, template_digest(body))
    return AzurePlan(names=names, templates=templates), problems


def _build_problems(build: FlavourBuild, azure: AzureSettings) -> list[Problem]:
    """A flavour's values Azure would reject."""
    problems: list[Problem] = []
    image = build.base_image.azure
    if azure.source_image_trigger and image and image.version != "latest":
        problems.append(Problem(
            build.source, "base_image.azure.version",
            "must be 'latest' while the stack's azure.source_image_trigger is on "
            "(Image Builder only watches 'latest' for new source images)"))
    # Paths name the file's entries: the first use of each updates step.
    declared = {}
    for index, use in enumerate(build.declared_steps):
        declared.setdefault(use.name, index)
    for step in build.steps_on("azure"):
        if not step.azure_windows_update:
            continue
        try:
            windows_update_exclusions(step.params.get("exclude"))
        except ValueError as err:
            problems.append(Problem(build.source, f"steps[{declared.get(step.name, 0)}].{step.name}.exclude", str(err)))
    return problems
