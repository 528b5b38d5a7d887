"""AWSTOE documents: the phases and actions a build instance runs for each prepared step."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.aws import render
from components.model.flavour import StepUse
from components.model.prepared import DOWNLOAD_DIRS, Download, prepare_step
from components.model.steps import Catalogue, Pin, Step, StepSpec
from tests.aws.samples import (
    COMPONENT_ARN,
    KEY,
    PREFIX,
    UBUNTU_SSM,
    WINDOWS_SSM,
    document,
    hand_step,
    make_flavour,
    phase,
    prepared,
    single,
)


class TestComponentDocument:
    def test_linux_step_installs_restarts_and_checks(self, catalogue):
        step = prepared(make_flavour(), catalogue)[0]
        doc = document(step)
        assert doc["schemaVersion"] == 1.0
        # os-updates' "nothing pending" holds at build time only: no test phase on the fresh instance.
        assert [p["name"] for p in doc["phases"]] == ["build", "validate"]
        build = phase(doc, "build")
        assert [s["action"] for s in build] == ["CreateFile", "ExecuteBash", "Reboot"]
        written = build[0]["inputs"][0]
        # The build instance runs the catalogue's script with its environment prologue, byte for byte.
        assert written["content"] == step.script
        assert "export GI_PARAM_EXCLUDE=''" in written["content"]
        assert f"bash '{written['path']}'" in build[1]["inputs"]["commands"][0]
        for name in ("validate",):
            check = phase(doc, name)
            assert [s["action"] for s in check] == ["CreateFile", "ExecuteBash"]
            assert check[0]["inputs"][0]["content"] == step.check

    def test_aws_managed_step_is_the_managed_arn_then_our_check(self, catalogue):
        flavour = make_flavour(name="win", os="windows", base_image={"aws": WINDOWS_SSM})
        steps = prepared(flavour, catalogue)
        entries = render.recipe_entries(steps, prefix=PREFIX, region="eu-west-1", key=KEY)
        assert entries[0].managed_arn == "arn:aws:imagebuilder:eu-west-1:aws:component/update-windows/x.x.x"
        assert COMPONENT_ARN.search(entries[0].managed_arn)
        check = entries[1].component
        assert check.platform == "Windows" and "windows-check" in check.name
        doc = yaml.safe_load(check.data)
        # No install script of ours: the managed component updates, we restart and prove it.
        assert [s["action"] for s in phase(doc, "build")] == ["Reboot"]
        assert [p["name"] for p in doc["phases"]] == ["build", "validate"]
        for name in ("validate",):
            write, run = phase(doc, name)
            # With a BOM: Windows PowerShell 5.1 reads a .ps1 without one as ANSI (REFERENCE.md).
            assert write["inputs"][0]["content"] == "\ufeff" + steps[0].check
            assert write["inputs"][0]["encoding"] == "utf8"
            assert write["inputs"][0]["path"] == "C:\\Windows\\Temp\\golden-images-steps\\os-updates-check.ps1"
            assert run["action"] == "ExecutePowerShell"
            assert f"-File '{write['inputs'][0]['path']}'" in run["inputs"]["commands"][0]

    def test_downloads_are_verified_and_options_become_step_settings(self):
        step = hand_step(
            downloads=(Download(pin="agent", url="https://example.com/agent.deb", sha256="a" * 64,
                                destination="/var/tmp/golden-images/downloads/agent.deb"),),
            valid_exit_codes=(0, 3010), retries=2, timeout_minutes=30, reboot_after=True,
        )
        build = phase(document(step), "build")
        assert [s["name"] for s in build] == ["Download", "WriteInstallScript", "Install", "Reboot"]
        assert build[0]["action"] == "WebDownload"
        assert build[0]["inputs"] == [{"source": "https://example.com/agent.deb",
                                       "destination": "/var/tmp/golden-images/downloads/agent.deb",
                                       "checksum": "a" * 64, "algorithm": "SHA256", "overwrite": True}]
        install = build[2]
        assert install["maxAttempts"] == 3
        assert install["timeoutSeconds"] == 1800
        assert "0|3010)" in install["inputs"]["commands"][0]
        assert "timeoutSeconds" not in build[3]  # AWSTOE's Reboot takes no timeout

    def test_no_restart_unless_asked(self):
        build = phase(document(hand_step()), "build")
        assert [s["action"] for s in build] == ["CreateFile", "ExecuteBash"]
        assert "maxAttempts" not in build[1] and "timeoutSeconds" not in build[1]

    def test_steps_from_a_hand_built_catalogue(self):
        """Any catalogue step renders through the same path: no step is known by name."""
        spec = StepSpec.model_validate({
            "name": "agent", "category": "agent", "description": "An agent", "os": ["windows"],
            "reboot": "after", "downloads": ["agent-msi"],
            "parameters": {"site": {"type": "string", "description": "Site", "default": "eu"}},
            "scripts": {"windows": "install.ps1"}, "checks": {"windows": "check.ps1"},
        })
        step = Step(spec=spec, scripts={"windows": "Write-Output install\n"},
                    checks={"windows": "Write-Output check\n"}, folder=Path("."))
        pins = {"agent-msi": Pin(name="agent-msi", version="7.1", downloads={"windows": {
            "url": "https://example.com/agent-7.1.msi", "sha256": "b" * 64, "file": "agent.msi"}})}
        catalogue = Catalogue(steps={"agent": step}, pins=pins)
        use = StepUse.model_validate({"agent": {"site": "us"}, "options": {"reboot_after": False,
                                                                             "valid_exit_codes": [0, 3010]}})
        prepared_step = prepare_step(use, step, "windows", catalogue)
        doc = document(prepared_step)
        build = phase(doc, "build")
        assert [s["action"] for s in build] == ["WebDownload", "CreateFile", "ExecutePowerShell"]
        assert build[0]["inputs"][0]["destination"] == "C:\\golden-images\\downloads\\agent.msi"
        script = build[1]["inputs"][0]["content"]
        assert script.startswith("\ufeff$env:GI_STEP = 'agent'\n")  # a BOM first: PowerShell 5.1 reads UTF-8 then
        assert "$env:GI_PARAM_SITE = 'us'\n" in script
        assert "$env:GI_DOWNLOAD_AGENT_MSI = 'C:\\golden-images\\downloads\\agent.msi'\n" in script
        assert "if (@(0, 3010) -contains $status)" in build[2]["inputs"]["commands"][0]

    def test_awstoe_variables_in_scripts_travel_encoded(self, tmp_path):
        # AWSTOE substitutes {{ ... }} anywhere in a document: the check is shipped as base64.
        data = single(hand_step(check="docker ps --format '{{.Names}}'\n")).data
        assert "{{" not in data
        write, decode = yaml.safe_load(data)["phases"][-1]["steps"][:2]
        encoded = tmp_path / "check.sh.b64"
        encoded.write_text(write["inputs"][0]["content"])
        target = tmp_path / "check.sh"
        commands = [c.replace(write["inputs"][0]["path"][:-4], str(target)) for c in decode["inputs"]["commands"]]
        subprocess.run(["bash", "-c", "\n".join(commands)], check=True)
        assert target.read_text() == "docker ps --format '{{.Names}}'\n" and not encoded.exists()

    def test_no_yaml_aliases(self):
        data = single(hand_step()).data
        assert "&id" not in data and "*id" not in data


def run_bash_wrapper(tmp_path: Path, exit_code: int, accepted: tuple) -> subprocess.CompletedProcess:
    """The wrapper exactly as rendered, with the script folder moved into tmp_path."""
    folder = tmp_path / "steps"
    step = hand_step(valid_exit_codes=accepted,
                     script=f"#!/usr/bin/env bash\necho working\nexit {exit_code}\n")
    build = phase(yaml.safe_load(single(step).data), "build")
    written, wrapper = build[0]["inputs"][0], build[1]["inputs"]["commands"][0]
    script = Path(written["path"].replace(render.SCRIPT_DIRS["linux"], str(folder)))
    folder.mkdir()
    script.write_text(written["content"])
    return subprocess.run(["bash", "-c", wrapper.replace(render.SCRIPT_DIRS["linux"], str(folder))],
                          capture_output=True, text=True)


@pytest.mark.parametrize("code, accepted, expected", [
    (0, (0,), 0),
    (100, (0, 100), 0),
    (100, (0,), 1),
    # 194 from a bare step would make AWSTOE restart the instance and run the step again.
    (194, (0,), 1),
    (2, (0, 100), 1),
])
def test_bash_wrapper_maps_exit_codes(tmp_path, code, accepted, expected):
    result = run_bash_wrapper(tmp_path, code, accepted)
    assert result.returncode == expected
    if expected:
        assert f"failed with exit code {code}" in result.stderr
        assert (tmp_path / "steps" / "agent-install.sh").exists()  # kept for the next attempt
    else:
        assert not (tmp_path / "steps").exists()  # nothing left in the image


def test_scripts_are_written_outside_the_download_folder(catalogue):
    """A cleanup step may remove the download folder and check that it is gone; checks run after it."""
    for os in ("linux", "windows"):
        flavour = make_flavour(name=f"f-{os}", os=os, base_image={"aws": UBUNTU_SSM if os == "linux" else WINDOWS_SSM})
        doc = document(prepared(flavour, catalogue)[0])
        paths = [i["path"] for p in doc["phases"] for s in p["steps"] if s["action"] == "CreateFile"
                 for i in s["inputs"]]
        assert paths and all(p.startswith(render.SCRIPT_DIRS[os]) for p in paths)
        assert not [p for p in paths if p.startswith(DOWNLOAD_DIRS[os])]

