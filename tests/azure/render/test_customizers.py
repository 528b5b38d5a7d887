"""Customizers: each prepared step as the Image Builder customizers and validations that run it."""
from __future__ import annotations

import base64
import re

import pytest

from components.azure import render
from components.model.prepared import Download, PreparedStep, prepare_step
from components.model.steps import load_catalogue
from tests.azure.samples import NAME

CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def step(os: str = "linux", **changes) -> PreparedStep:
    script = "#!/usr/bin/env bash\necho hello\n" if os == "linux" else "Write-Output 'hello'\n"
    check = "#!/usr/bin/env bash\ntrue\n" if os == "linux" else "exit 0\n"
    values = dict(
        name="sample",
        category="software",
        os=os,
        params={},
        environment={"GI_STEP": "sample"},
        script=script,
        check=check,
    )
    values.update(changes)
    return PreparedStep(**values)


def by_type(customizers: list[dict], kind: str) -> list[dict]:
    return [c for c in customizers if c["type"] == kind]


def decoded_shell_script(lines: list[str]) -> str:
    encoded = next(line for line in lines if line.startswith("printf '%s' '"))
    return base64.b64decode(encoded.split("'")[3]).decode()


def decoded_powershell_script(lines: list[str]) -> bytes:
    encoded = next(line for line in lines if "FromBase64String" in line)
    return base64.b64decode(re.search(r"FromBase64String\('([^']+)'\)", encoded).group(1))


class TestWindowsUpdate:
    def test_restart_update_restart_with_previews_excluded(self):
        update = step("windows", name="os-updates", script=None, azure_windows_update=True, reboot_after=True)
        customizers = render.render_customizers([update])
        assert [c["type"] for c in customizers] == ["WindowsRestart", "WindowsUpdate", "WindowsRestart"]
        windows_update = customizers[1]
        assert windows_update["searchCriteria"] == "IsInstalled=0"
        assert windows_update["filters"] == ["exclude:$_.Title -like '*Preview*'", "include:$true"]
        # docs/azure.md: at most 40 updates per pass; restarts wait up to 30 minutes.
        assert windows_update["updateLimit"] == 40
        assert all(c["restartTimeout"] == "30m" for c in by_type(customizers, "WindowsRestart"))

    def test_excluded_kbs_become_filters_before_the_catch_all(self):
        update = step("windows", script=None, azure_windows_update=True,
                      params={"exclude": ["KB5005463", "5012170"]})
        filters = render.render_customizers([update])[1]["filters"]
        assert filters == [
            "exclude:$_.Title -like '*Preview*'",
            "exclude:$_.Title -like '*KB5005463*'",
            "exclude:$_.Title -like '*KB5012170*'",
            "include:$true",
        ]

    @pytest.mark.parametrize("value", ["KB50'; Remove-Item C:\\", "linux-image-generic", "KB12"])
    def test_anything_but_a_kb_id_is_refused(self, value):
        with pytest.raises(ValueError, match="KB id"):
            render.windows_update_exclusions([value])


class TestWindowsScriptStep:
    def test_powershell_customizer_carries_the_run_options(self):
        customizer = render.render_customizers([step("windows", valid_exit_codes=(0, 3010), run_as_system=True)])[0]
        assert customizer["type"] == "PowerShell"
        assert customizer["runElevated"] is True
        assert customizer["runAsSystem"] is True
        assert customizer["validExitCodes"] == [0, 3010]

    def test_run_as_system_only_with_run_elevated(self):
        customizer = render.render_customizers([step("windows", run_elevated=False, run_as_system=True)])[0]
        assert customizer["runElevated"] is False
        assert "runAsSystem" not in customizer

    def test_script_travels_unchanged_with_a_byte_order_mark(self):
        script = "Write-Output 'caf\u00e9 {{ not a template }}'\n"
        customizer = render.render_customizers([step("windows", script=script)])[0]
        assert decoded_powershell_script(customizer["inline"]) == script.encode("utf-8-sig")
        assert all("{{" not in line for line in customizer["inline"])

    def test_reboot_after_adds_a_windows_restart(self):
        customizers = render.render_customizers([step("windows", reboot_after=True), step("windows", name="next")])
        assert [c["type"] for c in customizers] == ["PowerShell", "WindowsRestart", "PowerShell"]


class TestLinuxScriptStep:
    def test_shell_customizer_runs_the_exact_script(self):
        script = "#!/usr/bin/env bash\necho '{{.Vars}}' \"$HOME\"\n"
        customizer = render.render_customizers([step("linux", script=script)])[0]
        assert customizer["type"] == "Shell"
        assert decoded_shell_script(customizer["inline"]) == script
        assert set(customizer) == {"type", "name", "inline"}
        assert all("{{" not in line for line in customizer["inline"])

    def test_reboot_after_never_restarts_linux(self):
        customizers = render.render_customizers([step("linux", reboot_after=True)])
        assert [c["type"] for c in customizers] == ["Shell"]
        assert not any(re.search(r"\b(reboot|shutdown)\b", line) for line in customizers[0]["inline"][3:])


class TestDownloads:
    def test_linux_downloads_land_in_tmp_and_move_into_place(self):
        download = Download(pin="tool", url="https://example.org/tool.tgz", sha256=CHECKSUM,
                            destination="/var/tmp/golden-images/downloads/tool.tgz")
        customizers = render.render_customizers([step("linux", downloads=(download,))])
        assert [c["type"] for c in customizers] == ["File", "Shell", "Shell", "Shell"]
        file = customizers[0]
        assert file["sourceUri"] == download.url
        assert file["sha256Checksum"] == CHECKSUM
        assert file["destination"].startswith("/tmp/") and file["destination"].endswith("tool.tgz")
        assert f"sudo mv -f '{file['destination']}' '{download.destination}'" in customizers[1]["inline"]
        assert customizers[-1]["name"] == "cleanup-downloads"
        assert customizers[-1]["inline"] == ["sudo rm -rf '/var/tmp/golden-images/downloads'"]

    def test_windows_folder_exists_before_the_file_customizer(self):
        download = Download(pin="tool", url="https://example.org/tool.msi", sha256=CHECKSUM,
                            destination="C:\\golden-images\\downloads\\tool.msi")
        customizers = render.render_customizers([step("windows", downloads=(download,))])
        assert [c["type"] for c in customizers] == ["PowerShell", "File", "PowerShell", "PowerShell"]
        assert "New-Item -ItemType Directory -Force -Path 'C:\\golden-images\\downloads' | Out-Null" in customizers[0]["inline"]
        assert customizers[1] == {
            "type": "File",
            "name": "01-sample-download-tool",
            "sourceUri": download.url,
            "destination": download.destination,
            "sha256Checksum": CHECKSUM,
        }
        assert customizers[-1]["name"] == "cleanup-downloads"

    def test_no_cleanup_without_downloads(self):
        assert all(c["name"] != "cleanup-downloads" for c in render.render_customizers([step("linux")]))


def test_each_check_becomes_an_in_vm_validation():
    linux = render.render_validations([step("linux"), step("linux", name="other")])
    assert [v["type"] for v in linux] == ["Shell", "Shell"]
    assert [v["name"] for v in linux] == ["01-sample-check", "02-other-check"]
    assert decoded_shell_script(linux[0]["inline"]) == step("linux").check
    windows = render.render_validations([step("windows", run_as_system=True)])[0]
    assert windows["type"] == "PowerShell" and windows["validExitCodes"] == [0] and windows["runAsSystem"] is True


def _sample(param):
    if param.default is not None:
        return param.default
    if param.allowed:
        return param.allowed[0]
    return {"string": "sample", "integer": 1, "boolean": True, "list": [], "file": "Write-Output 1"}.get(param.type, "x")


def catalogue_cases():
    catalogue = load_catalogue()
    for name, item in sorted(catalogue.steps.items()):
        if "azure" not in item.spec.clouds:
            continue
        for os_ in item.spec.os:
            if os_ in item.spec.cloud_unsupported.get("azure", {}):
                continue  # refused by the loader with the reason (reboot on Linux); see test_open_steps
            yield pytest.param(catalogue, name, os_, id=f"{name}-{os_}")


@pytest.mark.parametrize("catalogue, name, os_", list(catalogue_cases()))
def test_every_catalogue_step_renders(catalogue, name, os_):
    from components.model.flavour import StepUse

    item = catalogue.steps[name]
    use = StepUse(name=name, params={k: _sample(p) for k, p in item.spec.parameters.items()})
    prepared = prepare_step(use, item, os_, catalogue)
    # Steps with build assets of their own (ansible-playbook's locks) fetch them from the stack's container.
    customizers = render.render_customizers([prepared], asset_store="https://gi.blob.core.windows.net/build-assets")
    validations = render.render_validations([prepared])
    # Steps of the catalogue's own scripts, and a team's script given a check, prove their result in
    # the VM; a restart (its check is AIB's restartCheckCommand) and a pause leave nothing to prove.
    assert customizers and len(validations) == (0 if item.spec.render in ("reboot", "pause") else 1)
    allowed = {"windows": {"PowerShell", "WindowsRestart", "WindowsUpdate", "File"}, "linux": {"Shell", "File"}}[os_]
    assert {c["type"] for c in customizers} <= allowed
    assert all(NAME.match(c["name"]) for c in customizers + validations)


