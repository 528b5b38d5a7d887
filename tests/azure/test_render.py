"""The pure Azure renderer: prepared steps and settings in, Image Builder request bodies out."""
from __future__ import annotations

import base64
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from components.azure import render
from components.model.build import FlavourBuild
from components.model.flavour import Flavour
from components.model.prepared import Download, PreparedStep, prepare_step
from components.model.settings import StackSettings
from components.model.steps import load_catalogue
from tests.builds import build_of

CATALOGUE = load_catalogue()

CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
NAME = re.compile(r"^[A-Za-z0-9-_.]{1,64}$")


def settings(**azure) -> StackSettings:
    return StackSettings.model_validate(
        {
            "clouds": ["azure"],
            "schedule": {"every": "week", "on": "sunday", "at": "02:30", "timezone": "Europe/Amsterdam"},
            "tags": {"environment": "test"},
            "azure": {"location": "westeurope", **azure},
        }
    )


def flavour(os: str = "linux", source: str = "image_flavours/test.yaml", **changes) -> FlavourBuild:
    image = (
        {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}
        if os == "linux"
        else {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-core-g2"}
    )
    data = {
        "name": f"test-{os}",
        "description": "test flavour",
        "version": "3.2.1",
        "os": os,
        "base_image": {"azure": image},
        "steps": ["os-updates"],
        "tags": {"team": "platform"},
        **changes,
    }
    return build_of(Flavour.model_validate(data), settings(), CATALOGUE, source=source)


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


# ---------------------------------------------------------------------------
# Windows updates
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Script steps
# ---------------------------------------------------------------------------
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

    def test_retries_and_time_limit(self):
        lines = render.powershell_runner("01-sample-install", "exit 0", (0, 3010), retries=2, timeout_minutes=15)
        text = "\n".join(lines)
        assert "for ($attempt = 1; $attempt -le 3; $attempt++)" in text
        assert f"WaitForExit({15 * 60 * 1000})" in text
        assert "$valid = @(0, 3010)" in text
        # docs/azure.md: a timed-out step fails with exit code 1460 (ERROR_TIMEOUT).
        assert "$code = 1460" in text
        assert lines[-1] == "exit $code"

    def test_without_a_time_limit_the_step_may_run_until_the_build_timeout(self):
        lines = render.powershell_runner("01-sample-install", "exit 0", (0,), retries=0, timeout_minutes=None)
        assert "    $process.WaitForExit()" in lines and not any("taskkill" in line for line in lines)
        assert any("$attempt -le 1;" in line for line in lines)

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


@pytest.fixture
def fake_sudo(tmp_path, monkeypatch) -> Path:
    """A `sudo` that just runs its arguments, first on PATH, so runner lines can be executed here."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    sudo = bindir / "sudo"
    sudo.write_text('#!/bin/sh\nexec "$@"\n')
    sudo.chmod(sudo.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(render, "RETRY_DELAY_SECONDS", 0)
    return bindir


def run_lines(lines: list[str], bindir: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run inline lines the way Image Builder's Shell customizer does: one file, `sh -e`."""
    script = cwd / "inline.sh"
    script.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-e", str(script)], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


class TestShellRunnerExecuted:
    def test_success_and_cleanup(self, fake_sudo, tmp_path):
        marker = tmp_path / "ran"
        result = run_lines(
            render.shell_runner("t01-ok", f"#!/bin/sh\ntouch '{marker}'\n", (0,), 0, None), fake_sudo, tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert marker.exists()
        assert not Path("/tmp/golden-images-t01-ok.sh").exists()

    def test_failure_fails_the_customizer(self, fake_sudo, tmp_path):
        result = run_lines(render.shell_runner("t02-fail", "#!/bin/sh\nexit 7\n", (0,), 0, None), fake_sudo, tmp_path)
        assert result.returncode == 7

    def test_valid_non_zero_codes_count_as_success(self, fake_sudo, tmp_path):
        result = run_lines(render.shell_runner("t03-valid", "#!/bin/sh\nexit 3\n", (0, 3), 0, None), fake_sudo, tmp_path)
        assert result.returncode == 0

    def test_retries_until_the_script_succeeds(self, fake_sudo, tmp_path):
        counter = tmp_path / "count"
        script = f"#!/bin/sh\necho x >> '{counter}'\n[ $(wc -l < '{counter}') -ge 3 ]\n"
        result = run_lines(render.shell_runner("t04-retry", script, (0,), 2, None), fake_sudo, tmp_path)
        assert result.returncode == 0, result.stderr
        assert counter.read_text().count("x") == 3
        assert "attempt 1 of 3 failed" in result.stderr

    def test_retries_are_limited(self, fake_sudo, tmp_path):
        counter = tmp_path / "count"
        script = f"#!/bin/sh\necho x >> '{counter}'\nexit 5\n"
        result = run_lines(render.shell_runner("t05-give-up", script, (0,), 1, None), fake_sudo, tmp_path)
        assert result.returncode == 5
        assert counter.read_text().count("x") == 2

    def test_time_limit_uses_timeout(self, fake_sudo, tmp_path):
        lines = render.shell_runner("t06-slow", "#!/bin/sh\nsleep 1\n", (0,), 0, 2)
        assert any(line.strip().startswith("sudo timeout --kill-after=60 120 ") for line in lines)
        assert run_lines(lines, fake_sudo, tmp_path).returncode == 0

    def test_script_without_shebang_runs_with_bash(self, fake_sudo, tmp_path):
        lines = render.shell_runner("t07-bash", "echo ${BASH_VERSION:+bash}\n", (0,), 0, None)
        result = run_lines(lines, fake_sudo, tmp_path)
        assert result.stdout.strip() == "bash"


# ---------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
def test_each_check_becomes_an_in_vm_validation():
    linux = render.render_validations([step("linux"), step("linux", name="other")])
    assert [v["type"] for v in linux] == ["Shell", "Shell"]
    assert [v["name"] for v in linux] == ["01-sample-check", "02-other-check"]
    assert decoded_shell_script(linux[0]["inline"]) == step("linux").check
    windows = render.render_validations([step("windows", run_as_system=True)])[0]
    assert windows["type"] == "PowerShell" and windows["validExitCodes"] == [0] and windows["runAsSystem"] is True


# ---------------------------------------------------------------------------
# Every catalogue step renders with no per-step code
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Names and the content hash
# ---------------------------------------------------------------------------
class TestNames:
    def test_gallery_names_have_no_hyphens(self):
        assert render.gallery_name_for("team-a.prod") == "golden_images_team_a.prod"
        names = render.FactoryNames.for_stack("team-a", settings().azure)
        assert "-" not in names.gallery
        assert render.FactoryNames.for_stack("x", settings(gallery_name="mine").azure).gallery == "mine"

    def test_template_and_staging_names_fit_azure_limits(self):
        long = flavour("linux", name="f" * 40)
        names = render.FactoryNames.for_stack("dev", settings(resource_group_name="g" * 90).azure)
        template = render.template_name(long, "0123456789")
        assert NAME.match(template) and len(template) <= 64
        staging = render.staging_group_name(names, template)
        assert len(staging) <= 90 and staging.endswith(template)

    def test_run_command(self):
        assert render.run_command("t-1", "g") == "az image builder run -n t-1 -g g --no-wait"


def body(f: FlavourBuild, s: StackSettings) -> dict:
    names = render.FactoryNames.for_stack("dev", s.azure)
    return render.render_template(f, s.azure, render.symbolic_refs(names, f))


def problems_of(s: StackSettings, *builds: FlavourBuild) -> list:
    return render.plan_azure(builds, s.azure, s.schedule, stack="dev", settings_source="Pulumi.dev.yaml")[1]


class TestDigest:
    def test_same_inputs_same_digest(self):
        assert render.template_digest(body(flavour(), settings())) == render.template_digest(body(flavour(), settings()))

    @pytest.mark.parametrize(
        "changed",
        [
            lambda: (flavour(steps=[{"os-updates": {"exclude": ["linux-image-generic"]}}]), settings()),
            lambda: (flavour(version="3.2.2"), settings()),
            lambda: (flavour(build={"azure_vm_size": "Standard_D8s_v5"}), settings()),
            lambda: (flavour(), settings(keep_failed_vm=True)),
            lambda: (flavour(), settings(replication=[{"region": "westeurope", "replica_count": 2}])),
        ],
        ids=["step-param", "version", "vm-size", "error-handling", "replicas"],
    )
    def test_any_change_changes_the_digest(self, changed):
        f, s = changed()
        assert render.template_digest(body(f, s)) != render.template_digest(body(flavour(), settings()))

    def test_staging_group_is_not_part_of_the_hash(self):
        rendered = body(flavour(), settings())
        assert rendered["properties"]["stagingResourceGroup"] == render.STAGING_PLACEHOLDER


# ---------------------------------------------------------------------------
# Template parts
# ---------------------------------------------------------------------------
class TestTemplate:
    def test_source_is_the_flavours_platform_image(self):
        assert render.render_source(flavour("windows")) == {
            "type": "PlatformImage",
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter-core-g2",
            "version": "latest",
        }

    def test_distribution_to_the_gallery_with_regions_and_major_version(self):
        s = settings(replication=[
            {"region": "westeurope", "replica_count": 2, "storage_account_type": "Standard_ZRS"},
            {"region": "eastus"},
        ])
        [dist] = render.render_distribution(flavour(), s.azure, "IMAGE-ID")
        assert dist["type"] == "SharedImage" and dist["galleryImageId"] == "IMAGE-ID"
        assert dist["targetRegions"] == [
            {"name": "westeurope", "replicaCount": 2, "storageAccountType": "Standard_ZRS"},
            {"name": "eastus", "replicaCount": 1, "storageAccountType": "Standard_LRS"},
        ]
        assert dist["versioning"] == {"scheme": "Latest", "major": 3}
        assert dist["artifactTags"]["golden-images:version"] == "3.2.1"
        assert "replicationRegions" not in dist
        assert NAME.match(dist["runOutputName"])

    def test_distribution_defaults_to_the_location(self):
        [dist] = render.render_distribution(flavour(), settings().azure, "IMAGE-ID")
        assert [r["name"] for r in dist["targetRegions"]] == ["westeurope"]

    def test_vm_profile_by_os_with_flavour_override(self):
        s = settings()
        assert render.render_vm_profile(flavour("linux"), s.azure) == {"vmSize": "Standard_D2s_v5", "osDiskSizeGB": 30}
        assert render.render_vm_profile(flavour("windows"), s.azure) == {"vmSize": "Standard_D4s_v5", "osDiskSizeGB": 128}
        custom = flavour("windows", build={"azure_vm_size": "Standard_D8s_v5", "disk_size_gb": 256})
        assert render.render_vm_profile(custom, s.azure) == {"vmSize": "Standard_D8s_v5", "osDiskSizeGB": 256}

    def test_network_injection(self):
        subnet = "/subscriptions/8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/"
        s = settings(subnet_id=subnet + "build", container_instance_subnet_id=subnet + "aci")
        assert render.render_vm_profile(flavour(), s.azure)["vnetConfig"] == {
            "subnetId": subnet + "build",
            "containerInstanceSubnetId": subnet + "aci",
        }
        assert render.vnet_ids(s.azure) == [subnet[: -len("/subnets/")]]
        assert render.vnet_group_ids(s.azure) == ["/subscriptions/8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48/resourceGroups/net"]
        assert set(render.NETWORK_ACTIONS) <= set(render.builder_actions(s.azure))
        assert not set(render.NETWORK_ACTIONS) & set(render.builder_actions(settings().azure))

    def test_error_handling_follows_the_stack(self):
        assert render.render_error_handling(settings(keep_failed_vm=True).azure) == {
            "onCustomizerError": "abort", "onValidationError": "abort"}
        assert render.render_error_handling(settings().azure) == {
            "onCustomizerError": "cleanup", "onValidationError": "cleanup"}

    def test_whole_template(self):
        rendered = body(flavour(), settings())
        props = rendered["properties"]
        assert rendered["identity"]["type"] == "UserAssigned"
        assert len(rendered["identity"]["userAssignedIdentities"]) == 1
        assert props["optimize"] == {"vmBoot": {"state": "Enabled"}}
        assert props["buildTimeoutInMinutes"] == 240
        assert props["validate"]["continueDistributeOnFailure"] is False
        assert len(props["validate"]["inVMValidations"]) == 1
        assert rendered["tags"] == {
            "environment": "test",
            "team": "platform",
            "golden-images:flavour": "test-linux",
            "golden-images:version": "3.2.1",
        }


class TestImageDefinition:
    def test_gen2_source_is_trusted_launch_supported(self):
        s = settings()
        names = render.FactoryNames.for_stack("dev", s.azure)
        definition = render.render_image_definition(flavour("windows"), s.azure, names)
        assert definition["hyperVGeneration"] == "V2"
        assert definition["features"] == [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
        assert definition["osType"] == "Windows" and definition["osState"] == "Generalized"
        assert definition["identifier"] == {"publisher": "golden-images", "offer": "test-windows", "sku": "dev"}

    def test_gen1_source_has_no_trusted_launch(self):
        s = settings()
        gen1 = flavour("windows", base_image={"azure": {
            "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-core"}})
        definition = render.render_image_definition(gen1, s.azure, render.FactoryNames.for_stack("dev", s.azure))
        assert definition["hyperVGeneration"] == "V1" and "features" not in definition


# ---------------------------------------------------------------------------
# Schedule
# ---------------------------------------------------------------------------
class TestSchedule:
    def test_weekly(self):
        assert render.render_recurrence(settings().schedule) == {
            "frequency": "Week",
            "interval": 1,
            "startTime": "2025-01-01T00:00:00",
            "timeZone": "W. Europe Standard Time",
            "schedule": {"hours": [2], "minutes": [30], "weekDays": ["Sunday"]},
        }

    def test_monthly_and_daily(self):
        monthly = settings().schedule.model_copy(update={"every": "month", "on": 15, "timezone": "America/New_York"})
        assert render.render_recurrence(monthly)["schedule"] == {"hours": [2], "minutes": [30], "monthDays": [15]}
        assert render.render_recurrence(monthly)["timeZone"] == "Eastern Standard Time"
        daily = settings().schedule.model_copy(update={"every": "day", "on": None, "timezone": "UTC"})
        assert render.render_recurrence(daily) == {
            "frequency": "Day", "interval": 1, "startTime": "2025-01-01T00:00:00", "timeZone": "UTC",
            "schedule": {"hours": [2], "minutes": [30]}}

    def test_unknown_zone_is_a_clear_error(self):
        with pytest.raises(ValueError, match="Asia/Kathmandu.*Windows"):
            render.windows_time_zone("Asia/Kathmandu")

    def test_every_mapped_zone_is_a_real_iana_zone(self):
        from zoneinfo import available_timezones

        assert set(render.WINDOWS_TIME_ZONES) - available_timezones() == set()

    def test_workflow_posts_the_run_action_as_the_runner_identity(self):
        definition = render.render_schedule_workflow(settings().schedule, run_uri="URI", identity_id="ID")
        action = definition["actions"]["Run_image_template"]
        assert action["type"] == "Http"
        assert action["inputs"]["method"] == "POST" and action["inputs"]["uri"] == "URI"
        assert action["inputs"]["authentication"] == {
            "type": "ManagedServiceIdentity", "identity": "ID", "audience": "https://management.azure.com/"}
        assert definition["triggers"]["Recurrence"]["type"] == "Recurrence"
        assert render.run_uri("/subscriptions/s/resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/t") == (
            "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/"
            "Microsoft.VirtualMachineImages/imageTemplates/t/run?api-version=2024-02-01"
        )


# ---------------------------------------------------------------------------
# Problems found before anything is created
# ---------------------------------------------------------------------------
class TestProblems:
    def test_valid_settings(self):
        assert problems_of(settings()) == []

    def test_unmapped_time_zone(self):
        s = settings()
        s = s.model_copy(update={"schedule": s.schedule.model_copy(update={"timezone": "Asia/Kathmandu"})})
        [problem] = problems_of(s)
        assert (problem.source, problem.path) == ("Pulumi.dev.yaml", "golden-images:schedule.timezone")

    def test_replication_without_the_location(self):
        [problem] = problems_of(settings(replication=[{"region": "eastus"}]))
        assert problem.path == "golden-images:azure.replication" and "westeurope" in problem.message

    def test_source_trigger_needs_latest(self):
        pinned = flavour(base_image={"azure": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                               "sku": "server", "version": "1.2.3"}}, source="f.yaml")
        [problem] = problems_of(settings(source_image_trigger=True), pinned)
        assert problem.path == "base_image.azure.version"
        assert problems_of(settings(), pinned) == []

    def test_windows_update_exclusions_must_be_kb_ids(self):
        bad = flavour("windows", steps=[{"os-updates": {"exclude": ["linux-image-generic"]}}], source="f.yaml")
        [problem] = problems_of(settings(), bad)
        assert (problem.source, problem.path) == ("f.yaml", "steps[0].os-updates.exclude")

    def test_azure_problems_combines_both(self):
        bad = flavour("windows", steps=[{"os-updates": {"exclude": ["nope"]}}], source="f.yaml")
        problems = problems_of(settings(replication=[{"region": "eastus"}]), bad)
        assert {p.source for p in problems} == {"f.yaml", "Pulumi.dev.yaml"}


def test_builder_and_runner_roles_hold_no_wildcards():
    for action in [*render.GALLERY_ACTIONS, *render.PUBLISH_ACTIONS, *render.NETWORK_ACTIONS, *render.RUNNER_ACTIONS]:
        assert "*" not in action
    assert set(render.RUNNER_ACTIONS) == {
        "Microsoft.VirtualMachineImages/imageTemplates/read",
        "Microsoft.VirtualMachineImages/imageTemplates/run/action",
    }


def test_renderer_imports_no_pulumi():
    import ast

    tree = ast.parse(Path(render.__file__).read_text())
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in modules if m.split(".")[0].startswith("pulumi")]


def test_gallery_image_versions_carry_lineage_without_the_commit():
    """artifactTags land on each gallery image version; the commit would rename the template on every deploy."""
    built = build_of(Flavour.model_validate({
        "name": "test-linux", "description": "d", "version": "3.2.1", "os": "linux",
        "base_image": {"azure": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}},
        "steps": ["os-updates"]}), settings(), CATALOGUE, source_commit="0123456789abcdef0123456789abcdef01234567")
    [dist] = render.render_distribution(built, settings().azure, "IMAGE-ID")
    tags = dist["artifactTags"]
    assert tags["golden-images:built-from"] == "Canonical:ubuntu-24_04-lts:server:latest"
    assert tags["golden-images:flavour"] == "test-linux" and tags["golden-images:version"] == "3.2.1"
    assert "golden-images:source-commit" not in tags
