"""AWSTOE component documents: one step use as build, validate and test phases."""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Optional

import yaml

from ...model.errors import RenderError
from ...model.prepared import PreparedStep

INLINE_DOCUMENT_LIMIT = 16_000
# Where step scripts are written to run. Not below the download folder of prepared
# steps: a cleanup step may remove that folder and prove it absent, and checks run
# after every build phase. Each script is deleted once it succeeded, so none stays
# in the image.
SCRIPT_DIRS = {"windows": "C:\\Windows\\Temp\\golden-images-steps", "linux": "/var/tmp/golden-images-steps"}
ASSET_BUCKET_PARAMETER = "AssetBucket"  # AWSTOE document parameter: the stack's build asset bucket


# libyaml's emitter when the wheel has it: same output, an order of magnitude faster.
# The stubs type both alike; mypy takes only a class, not a value, as a base.
if TYPE_CHECKING:
    _BaseDumper = yaml.SafeDumper
else:
    _BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _DocumentDumper(_BaseDumper):
    """Multi-line strings (scripts) as literal blocks, so the console shows them as written.

    The validate and test phases share one step list; written out twice instead of
    as a YAML anchor and alias, which AWSTOE does not document.
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_DocumentDumper.add_representer(str, _represent_str)


class _CompactDumper(_DocumentDumper):
    """Multi-line strings double-quoted on one line (newlines as \\n): no indentation per line."""


_CompactDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                                       style='"' if "\n" in value else None))


def dump_document(document: dict[str, Any], compact: bool = False) -> str:
    return yaml.dump(document, Dumper=_CompactDumper if compact else _DocumentDumper, sort_keys=False,
                     width=1_000_000, allow_unicode=True)


def component_phases(step: PreparedStep) -> list[dict[str, Any]]:
    """The AWSTOE phases of one step use: build (downloads, script, restart), validate, test.

    A step that AWS covers with a managed component has no install script here:
    the managed component does the work, these phases restart after it (when
    the step asks for that) and prove the result with the check.
    """
    build: list[dict[str, Any]] = []
    if step.render == "reboot":
        return [{"name": "build", "steps": _reboot_steps(step)}]
    if step.render == "pause":
        return [{"name": "build", "steps": [_pause_step(step)]}]
    if step.aws_update_os:
        build.append(_update_os_step(step))
    elif step.aws_managed_component is None:
        if step.script is None:
            raise RenderError(f"step '{step.name}' ({step.os}) has neither a script nor an AWS-managed component")
        foreign = [d for d in step.downloads if d.store == "azure"]
        if foreign:
            raise RenderError(
                f"step '{step.name}' ({step.os}): {foreign[0].url} is in an Azure blob container, which the AWS "
                "build instance has no identity for; use an s3:// source on AWS (options.only_on: azure for this use)")
        build.extend(_download_steps(step))
        build.extend(_script_steps(step, "Install", step.script, step.valid_exit_codes,
                                   step.timeout_minutes, step.retries))
    if step.reboot_after:
        # The Reboot module resumes the document after the restart; it takes no timeout.
        build.append({"name": "Reboot", "action": "Reboot", "inputs": {"delaySeconds": 0}})
    # Checks run on the build instance after the build (validate) and, when they hold
    # for a booted image too, again on a fresh instance launched from it (test).
    # Some only hold right after the build (an empty machine-id, nothing pending
    # from Windows Update), so the step says whether its check is such an invariant.
    phases = [{"name": "build", "steps": build}] if build else []
    if step.check is None:
        return phases  # nothing to prove (an AWS-managed component given without a check)
    check = _script_steps(step, "Check", step.check, (0,), None, 0)
    if step.check_downloads:
        # The check runs the suite again, with its runner: both are fetched again (the build
        # phase's copies were removed, and a test instance starts from the image).
        check = [*_download_steps(step), *check]
    phases.append({"name": "validate", "steps": check})
    if step.image_test:
        phases.append({"name": "test", "steps": check})
    return phases


def _download_steps(step: PreparedStep) -> list[dict[str, Any]]:
    """The step's pinned downloads (WebDownload, sha256-verified), build assets and artifacts (S3Download)."""
    out: list[dict[str, Any]] = []
    web = [d for d in step.downloads if d.asset_key is None and d.store is None]
    if web:
        out.append({
            "name": "Download",
            "action": "WebDownload",
            "inputs": [
                {"source": d.url, "destination": d.destination, "checksum": d.sha256,
                 "algorithm": "SHA256", "overwrite": True}
                for d in web
            ],
        })
    assets = [d for d in step.downloads if d.asset_key is not None]
    if assets:
        # From the stack's asset bucket with the instance profile. S3Download verifies no
        # checksum: the step's script checks GI_ASSET_*_SHA256 before it unpacks anything.
        out.append({
            "name": "DownloadAssets",
            "action": "S3Download",
            "inputs": [
                {"source": f"s3://{{{{ {ASSET_BUCKET_PARAMETER} }}}}/{d.asset_key}", "destination": d.destination,
                 "overwrite": True}
                for d in assets
            ],
        })
    stored = [d for d in step.downloads if d.store == "aws"]
    if stored:
        # A team's file in its own bucket, read with the instance profile (the stack grants
        # s3:GetObject on exactly these objects). S3Download verifies nothing: the step's
        # script checks the sha256 when the flavour gives one.
        out.append({
            "name": "DownloadArtifacts",
            "action": "S3Download",
            "inputs": [{"source": d.url, "destination": d.destination, "overwrite": True} for d in stored],
        })
    return out


# How long a reboot step waits for its check when the flavour sets no timeout_minutes.
REBOOT_CHECK_MINUTES = 30
CHECK_INTERVAL_SECONDS = 10


def _reboot_steps(step: PreparedStep) -> list[dict[str, Any]]:
    """AWSTOE's Reboot action (it resumes the document once the instance is back), then the
    step's check run until it passes within the time limit: AWSTOE's Reboot takes no timeout
    or check of its own."""
    out: list[dict[str, Any]] = [{"name": "Reboot", "action": "Reboot",
                                  "inputs": {"delaySeconds": int(step.params.get("delay_seconds") or 0)}}]
    check = step.params.get("check")
    if check:
        minutes = step.timeout_minutes or REBOOT_CHECK_MINUTES
        if "{{" in check:
            raise RenderError(f"step '{step.name}' ({step.os}): its check contains '{{{{', which AWSTOE reads as a "
                              "variable and cannot escape")
        out.append({"name": "WaitUntilReady", "action": "ExecutePowerShell" if step.os == "windows" else "ExecuteBash",
                    "timeoutSeconds": minutes * 60, "onFailure": "Abort",
                    "inputs": {"commands": [_wait_loop(step.os, check)]}})
    return out


def _wait_loop(os: str, check: str) -> str:
    """Run a check until it exits 0; the action's timeoutSeconds ends the wait."""
    if os == "windows":
        encoded = base64.b64encode(check.encode("utf-16-le")).decode()
        return (
            "while ($true) {\n"
            f"    & \"$env:SystemRoot\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -NonInteractive "
            f"-EncodedCommand {encoded}\n"
            "    if ($LASTEXITCODE -eq 0) { exit 0 }\n"
            f"    Start-Sleep -Seconds {CHECK_INTERVAL_SECONDS}\n"
            "}\n"
        )
    encoded = base64.b64encode(check.encode()).decode()
    return (
        f"until printf '%s' '{encoded}' | base64 -d | bash; do\n"
        f"  sleep {CHECK_INTERVAL_SECONDS}\n"
        "done\n"
    )


def _update_os_step(step: PreparedStep) -> dict[str, Any]:
    """AWSTOE's UpdateOS action: every update except the step's exclusions (KB ids on Windows,
    package names on Linux), restarting as the updates need, with the step's time limit and
    retries (which a recipe cannot pass to the managed update component)."""
    update: dict[str, Any] = {"name": "UpdateOS", "action": "UpdateOS", "onFailure": "Abort"}
    if step.timeout_minutes:
        update["timeoutSeconds"] = step.timeout_minutes * 60
    if step.retries:
        update["maxAttempts"] = step.retries + 1
    exclude = step.params.get("exclude") or []
    if step.os == "windows":
        exclude = ["KB" + str(kb).upper().removeprefix("KB") for kb in exclude]
    if exclude:
        update["inputs"] = {"exclude": list(exclude)}
    return update


def _pause_step(step: PreparedStep) -> dict[str, Any]:
    """AWSTOE has no sleep action: the OS's own sleep, in the shell AWSTOE runs."""
    seconds = int(step.params["seconds"])
    if step.os == "windows":
        return {"name": "Pause", "action": "ExecutePowerShell", "inputs": {"commands": [f"Start-Sleep -Seconds {seconds}"]}}
    return {"name": "Pause", "action": "ExecuteBash", "inputs": {"commands": [f"sleep {seconds}"]}}


def component_document(step: PreparedStep, phases: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    phases = component_phases(step) if phases is None else phases
    document: dict[str, Any] = {
        "name": step.name,
        "description": f"golden-images step {step.name} for {step.os}",
        "schemaVersion": 1.0,
    }
    if needs_asset_bucket(phases):
        # The bucket's name exists only once the stack created it, and a component's content
        # names it: the recipe passes the name in, so the document stays the same everywhere.
        document["parameters"] = [{ASSET_BUCKET_PARAMETER: {
            "type": "string", "description": "The stack's build asset bucket (set by the recipe)"}}]
    document["phases"] = phases
    return document


def needs_asset_bucket(phases: list[dict[str, Any]]) -> bool:
    """A download from the stack's asset bucket (not a team's own bucket) needs its name passed in."""
    return any(item.get("action") == "S3Download" and ASSET_BUCKET_PARAMETER in str(item.get("inputs"))
               for phase in phases for item in phase["steps"])


def _script_steps(step: PreparedStep, label: str, text: str, valid_codes: tuple[int, ...],
                  timeout_minutes: Optional[int], retries: int) -> list[dict[str, Any]]:
    """Write the script to a file, then run it through a wrapper that maps its exit code.

    The wrapper is what makes `valid_exit_codes` work and keeps AWSTOE's own exit
    code conventions out of the step's hands: a bare script exiting 194 (Linux)
    or 3010 (Windows) would make AWSTOE restart the instance and run it again.
    Every outcome is 0 (accepted) or 1 (failed, the real code printed). AWSTOE
    runs every action as root or SYSTEM, so the run_elevated/run_as_system
    options need nothing more on AWS.
    """
    windows = step.os == "windows"
    separator, extension = ("\\", "ps1") if windows else ("/", "sh")
    folder = SCRIPT_DIRS[step.os]
    path = f"{folder}{separator}{step.name}-{label.lower()}.{extension}"
    run: dict[str, Any] = {"name": label, "action": "ExecutePowerShell" if windows else "ExecuteBash", "onFailure": "Abort"}
    if timeout_minutes:
        run["timeoutSeconds"] = timeout_minutes * 60
    if retries:
        run["maxAttempts"] = retries + 1
    wrapper = _powershell_wrapper if windows else _bash_wrapper
    run["inputs"] = {"commands": [wrapper(folder, path, valid_codes, f"{step.name} {label.lower()}")]}
    if "{{" not in text:
        # The encoding is explicit, and a PowerShell script starts with a BOM: Windows PowerShell
        # 5.1 reads a .ps1 without one in the ANSI code page, where the UTF-8 bytes of one
        # character can read as a Unicode quote that ends a quoted string (REFERENCE: quoting).
        content = "\ufeff" + text if windows and not text.startswith("\ufeff") else text
        write = {"name": f"Write{label}Script", "action": "CreateFile",
                 "inputs": [{"path": path, "content": content, "encoding": "utf8", "overwrite": True}]}
        return [write, run]
    # AWSTOE substitutes {{ ... }} anywhere in a document and has no escape: a script that
    # holds it (an Ansible template in a parameter, say) travels base64-encoded, which has
    # no braces, and is decoded on the instance before it runs.
    return [*_encoded_script_steps(label, path, text, windows), run]


def _encoded_script_steps(label: str, path: str, text: str, windows: bool) -> list[dict[str, Any]]:
    # PowerShell 5.1 reads a .ps1 without a byte order mark in the ANSI code page: the decoded
    # bytes start with one, and only one.
    data = base64.b64encode(text.removeprefix("\ufeff").encode("utf-8-sig") if windows
                            else text.encode("utf-8")).decode("ascii")
    encoded = f"{path}.b64"
    write = {"name": f"Write{label}ScriptEncoded", "action": "CreateFile",
             "inputs": [{"path": encoded, "content": data, "overwrite": True}]}
    if windows:
        decode = {"name": f"Decode{label}Script", "action": "ExecutePowerShell", "onFailure": "Abort",
                  "inputs": {"commands": [
                      f"[IO.File]::WriteAllBytes('{path}', [Convert]::FromBase64String("
                      f"(Get-Content -Raw -LiteralPath '{encoded}').Trim()))",
                      f"Remove-Item -LiteralPath '{encoded}' -Force"]}}
    else:
        decode = {"name": f"Decode{label}Script", "action": "ExecuteBash", "onFailure": "Abort",
                  "inputs": {"commands": [f"base64 -d '{encoded}' > '{path}'", f"rm -f '{encoded}'"]}}
    return [write, decode]


def _bash_wrapper(folder: str, path: str, codes: tuple[int, ...], what: str) -> str:
    # The script stays after a failure: a retry (maxAttempts) runs it again.
    accepted = "|".join(str(c) for c in codes)
    return (
        "status=0\n"
        f"bash '{path}' || status=$?\n"
        f"case \"$status\" in\n"
        f"  {accepted})\n"
        f"    echo \"{what}: exit code $status accepted\"\n"
        f"    rm -f '{path}'\n"
        f"    rmdir '{folder}' 2>/dev/null || true\n"
        "    exit 0 ;;\n"
        "esac\n"
        f"echo \"{what}: failed with exit code $status\" >&2\n"
        "exit 1\n"
    )


def _powershell_wrapper(folder: str, path: str, codes: tuple[int, ...], what: str) -> str:
    accepted = ", ".join(str(c) for c in codes)
    return (
        "& \"$env:SystemRoot\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoLogo -NoProfile "
        f"-NonInteractive -ExecutionPolicy Bypass -File '{path}'\n"
        "$status = $LASTEXITCODE\n"
        f"if (@({accepted}) -contains $status) {{\n"
        f"    Write-Output \"{what}: exit code $status accepted\"\n"
        f"    Remove-Item -LiteralPath '{path}' -Force\n"
        f"    if (-not (Get-ChildItem -LiteralPath '{folder}' -Force)) {{ Remove-Item -LiteralPath '{folder}' -Force }}\n"
        "    exit 0\n"
        "}\n"
        f"[Console]::Error.WriteLine(\"{what}: failed with exit code $status\")\n"
        "exit 1\n"
    )
