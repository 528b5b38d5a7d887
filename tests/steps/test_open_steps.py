"""The open step types (script, reboot, pause, aws-managed-component) and os-updates' options:
what each cloud receives, and every refusal with file, field and reason."""
from __future__ import annotations

import base64
import os

import yaml

from components.aws.render.documents import component_phases
from components.aws.render.recipe import _recipe_components, recipe_entries
from components.azure.render.customizers import render_customizers, render_validations
from tests.flavour_folders import WINDOWS, folder_with
from tests.samples import ubuntu_flavour
from tests.steps.flavour_file import KEY, build, refused, step_named


def actions(phases, phase: str = "build") -> list[dict]:
    return next(p["steps"] for p in phases if p["name"] == phase)


# script -------------------------------------------------------------------------


def test_script_from_a_file_with_environment_and_check_on_both_clouds(tmp_path):
    b = build(tmp_path, ubuntu_flavour() + """\
  - script:
      file: scripts/site.sh
      check: test -f /etc/site
      environment: {SITE_NAME: "it's ours", RETRIES: 3}
    options: {timeout_minutes: 5, retries: 2, valid_exit_codes: [0, 3]}
""", {"scripts/site.sh": "#!/usr/bin/env bash\nset -eu\necho \"$SITE_NAME\" > /etc/site\n"})
    aws = step_named(b, "aws", "script")
    phases = component_phases(aws)
    write, run = actions(phases)
    # The script as written, after its shebang the variables in bash single quotes.
    assert write["inputs"][0]["content"].startswith(
        "#!/usr/bin/env bash\nexport GI_STEP='script'\nexport RETRIES='3'\nexport SITE_NAME='it'\\''s ours'\nset -eu\n")
    # AWSTOE: timeoutSeconds and maxAttempts are the step's time limit and attempts.
    assert run["timeoutSeconds"] == 300 and run["maxAttempts"] == 3
    assert "0|3)" in run["inputs"]["commands"][0]
    assert [p["name"] for p in phases] == ["build", "validate", "test"]
    assert "test -f /etc/site" in actions(phases, "validate")[0]["inputs"][0]["content"]
    azure = step_named(b, "azure", "script")
    shell = render_customizers([azure])[0]
    assert shell["type"] == "Shell" and any("up to 3 attempt(s), 5 minute(s) each" in line for line in shell["inline"])
    encoded = next(line for line in shell["inline"] if "base64 -d" in line).split("'")[3]
    assert "export SITE_NAME='it'\\''s ours'" in base64.b64decode(encoded).decode()
    assert render_validations([azure])[0]["name"] == "01-script-site-check"


def test_script_without_check_has_no_validate_phase_and_no_validation(tmp_path):
    b = build(tmp_path, ubuntu_flavour() + "  - script: {inline: 'echo hi'}\n")
    step = step_named(b, "aws", "script")
    assert [p["name"] for p in component_phases(step)] == ["build"]
    assert render_validations([step_named(b, "azure", "script")]) == []


def test_powershell_values_are_inert_with_unicode_quotes(tmp_path):
    b = build(tmp_path, WINDOWS + """\
  - script:
      inline: Write-Output $env:GREETING
      shell: powershell
      environment: {GREETING: "it\u2019s $(Remove-Item C:\\\\) 'x'"}
    options: {run_as_system: true}
""")
    step = step_named(b, "azure", "script")
    # PowerShell ends single-quoted strings at ' and at U+2018-U+201B: each is doubled.
    assert "$env:GREETING = 'it\u2019\u2019s $(Remove-Item C:\\) ''x'''" in step.script
    customizer = render_customizers([step])[0]
    assert customizer["type"] == "PowerShell" and customizer["runAsSystem"] is True


def test_script_refusals_name_the_field(tmp_path):
    outside = tmp_path / "outside.sh"
    outside.write_text("echo out\n")
    folder = folder_with(tmp_path, {})
    (folder / "scripts").mkdir()
    os.symlink(outside, folder / "scripts" / "link.sh")
    found = refused(tmp_path, ubuntu_flavour() + """\
  - script: {file: ../outside.sh}
  - script: {file: scripts/missing.sh}
  - script: {inline: echo, shell: powershell}
  - script: {inline: echo, environment: {GI_STEP: x, }}
  - script: {inline: echo, environment: {"bad name": x}}
  - script: {inline: echo, environment: {TOKEN: "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}}
  - script: {inline: echo, file: scripts/link.sh}
  - script: {inline: echo}
    options: {run_as_system: true}
""")
    text = "\n".join(found)
    assert "f.yaml: steps[0].script.file: '../outside.sh' is not a path inside image_flavours/" in text
    # Files are embedded once the steps are sound: a link leaving the folder is found then.
    linked = "\n".join(refused(tmp_path, ubuntu_flavour() + "  - script: {file: scripts/link.sh}\n"))
    assert "steps[0].script.file: 'scripts/link.sh' is a symbolic link leading outside the repository" in linked
    assert "steps[2].script.shell: 'powershell' does not run on a linux flavour (use bash)" in text
    assert "steps[3].script.environment: 'GI_STEP': names starting with GI_ are the build's own" in text
    assert "steps[4].script.environment: 'bad name' is not a variable name" in text
    assert "steps[5].script.environment.TOKEN: value looks like a secret" in text
    assert "steps[6].script: give only one of inline, file" in text
    assert "steps[7].options.run_as_system: a Linux flavour cannot honour it" in text


# reboot and pause ---------------------------------------------------------------


def test_reboot_on_aws_is_the_reboot_action_then_the_check_until_ready(tmp_path):
    b = build(tmp_path, ubuntu_flavour() + """\
  - reboot: {delay_seconds: 5, check: systemctl is-active --quiet sshd}
    options: {only_on: aws, timeout_minutes: 15}
""")
    reboot, wait = actions(component_phases(step_named(b, "aws", "reboot")))
    # AWSTOE Reboot takes delaySeconds and resumes the document after the restart.
    assert reboot == {"name": "Reboot", "action": "Reboot", "inputs": {"delaySeconds": 5}}
    assert wait["action"] == "ExecuteBash" and wait["timeoutSeconds"] == 900
    encoded = wait["inputs"]["commands"][0].split("'")[3]
    assert base64.b64decode(encoded).decode() == "systemctl is-active --quiet sshd"
    assert b.steps_on("azure") == () or all(s.name != "reboot" for s in b.steps_on("azure"))


def test_reboot_on_azure_windows_is_windows_restart_with_check_and_timeout(tmp_path):
    b = build(tmp_path, WINDOWS + """\
  - reboot: {check: "if ((Get-Service WinRM).Status -ne 'Running') { exit 1 }"}
    options: {timeout_minutes: 10}
""")
    restart = render_customizers([step_named(b, "azure", "reboot")])[0]
    # AIB WindowsRestart: restartCommand, restartCheckCommand, restartTimeout like "10m".
    assert restart["type"] == "WindowsRestart" and restart["restartTimeout"] == "10m"
    assert restart["restartCommand"] == 'shutdown /r /f /t 0 /c "golden-images restart"'
    encoded = restart["restartCheckCommand"].rsplit(" ", 1)[1]
    assert base64.b64decode(encoded).decode("utf-16-le") == "if ((Get-Service WinRM).Status -ne 'Running') { exit 1 }"
    assert actions(component_phases(step_named(b, "aws", "reboot")))[1]["action"] == "ExecutePowerShell"


def test_reboot_refusals(tmp_path):
    found = "\n".join(refused(tmp_path, ubuntu_flavour() + """\
  - reboot
  - reboot
    options: {only_on: aws, retries: 2}
""".replace("  - reboot\n    options", "  - reboot: {}\n    options")))
    assert "steps[0]: step 'reboot' cannot run on azure for linux: Azure VM Image Builder has no Linux restart customizer" in found
    assert "steps[1].options.retries: step 'reboot' cannot honour it: a restart is not retried" in found


def test_pause_on_both_clouds_and_its_bounds(tmp_path):
    b = build(tmp_path, WINDOWS + "  - pause: {seconds: 120}\n")
    assert actions(component_phases(step_named(b, "aws", "pause"))) == [
        {"name": "Pause", "action": "ExecutePowerShell", "inputs": {"commands": ["Start-Sleep -Seconds 120"]}}]
    assert render_customizers([step_named(b, "azure", "pause")])[0]["inline"] == ["Start-Sleep -Seconds 120"]
    found = "\n".join(refused(tmp_path, ubuntu_flavour() + """\
  - pause: {seconds: 0}
  - pause: {seconds: 3601}
  - pause: {seconds: 10}
    options: {timeout_minutes: 5}
"""))
    assert "steps[0].pause.seconds: 0 is below the smallest value, 1" in found
    assert "steps[1].pause.seconds: 3601 is above the largest value, 3600" in found
    assert "steps[2].options.timeout_minutes: step 'pause' cannot honour it" in found


# aws-managed-component ----------------------------------------------------------


def test_managed_component_by_name_version_and_parameters(tmp_path):
    b = build(tmp_path, ubuntu_flavour() + """\
  - aws-managed-component:
      name: stig-build-linux
      version: 2025.1.x
      parameters: {Level: High}
    options: {only_on: aws}
""")
    step = step_named(b, "aws", "aws-managed-component")
    entries = recipe_entries([step], prefix="p", region="eu-west-1", key=KEY)
    assert len(entries) == 1  # nothing of ours: no check, no restart
    # CreateImageRecipe ComponentConfiguration: componentArn and parameters [{name, value}].
    assert _recipe_components(entries, [entries[0].managed_arn], None) == [{
        "component_arn": "arn:aws:imagebuilder:eu-west-1:aws:component/stig-build-linux/2025.1.x",
        "parameters": [{"name": "Level", "value": "High"}]}]
    assert all(s.name != "aws-managed-component" for s in b.steps_on("azure"))


def test_managed_component_refusals(tmp_path):
    found = "\n".join(refused(tmp_path, ubuntu_flavour() + """\
  - aws-managed-component: {name: update-linux}
  - aws-managed-component: {name: update-linux, version: latest}
    options: {only_on: aws}
  - aws-managed-component: {name: update-linux, parameters: {Key: "AKIAIOSFODNN7EXAMPLE"}}
    options: {only_on: aws, timeout_minutes: 10}
"""))
    assert ("steps[0]: step 'aws-managed-component' runs only on aws, but this flavour is also built on azure; "
            "add 'options: {only_on: aws}'") in found
    assert "steps[1].aws-managed-component.version: 'latest' does not match" in found
    assert "steps[2].aws-managed-component.parameters.Key: value looks like a secret" in found
    assert "steps[2].options.timeout_minutes: step 'aws-managed-component' cannot honour it" in found


# os-updates on Windows ----------------------------------------------------------


def test_windows_updates_options_on_azure(tmp_path):
    b = build(tmp_path, WINDOWS + """\
  - os-updates: {exclude: [KB5005463], search: important, update_limit: 25, restart_timeout_minutes: 10}
    options: {only_on: azure}
""")
    before, update, after = render_customizers([step_named(b, "azure", "os-updates")])
    # AIB WindowsUpdate: searchCriteria, filters, updateLimit; WindowsRestart restartTimeout "10m".
    assert update["searchCriteria"] == "AutoSelectOnWebSites=1 and IsInstalled=0"
    assert "exclude:$_.Title -like '*KB5005463*'" in update["filters"] and update["updateLimit"] == 25
    assert before["restartTimeout"] == after["restartTimeout"] == "10m"


def test_windows_updates_without_restart_after(tmp_path):
    b = build(tmp_path, WINDOWS + "  - os-updates: {}\n    options: {reboot_after: false}\n")
    assert [c["type"] for c in render_customizers([step_named(b, "azure", "os-updates")])] == [
        "WindowsRestart", "WindowsUpdate"]


def test_windows_updates_exclusions_on_aws_use_update_os(tmp_path):
    b = build(tmp_path, WINDOWS + """\
  - os-updates: {exclude: [KB5005463, "5034441"]}
    options: {only_on: aws, timeout_minutes: 120, retries: 1}
""")
    step = step_named(b, "aws", "os-updates")
    assert step.aws_managed_component is None
    update = actions(component_phases(step))[0]
    # AWSTOE UpdateOS: exclude takes KB ids on Windows; no longer dropped.
    assert update == {"name": "UpdateOS", "action": "UpdateOS", "onFailure": "Abort", "timeoutSeconds": 7200,
                      "maxAttempts": 2, "inputs": {"exclude": ["KB5005463", "KB5034441"]}}
    assert recipe_entries([step], prefix="p", region="eu-west-1", key=KEY)[0].managed_arn is None


def test_windows_updates_plain_keeps_the_managed_component(tmp_path):
    b = build(tmp_path, WINDOWS + "  - os-updates\n")
    step = step_named(b, "aws", "os-updates")
    assert recipe_entries([step], prefix="p", region="eu-west-1", key=KEY)[0].managed_arn == (
        "arn:aws:imagebuilder:eu-west-1:aws:component/update-windows/x.x.x")


def test_windows_updates_refusals_per_cloud(tmp_path):
    found = "\n".join(refused(tmp_path, WINDOWS + """\
  - os-updates: {update_limit: 10}
  - os-updates: {}
    options: {timeout_minutes: 60}
"""))
    assert "steps[0].os-updates.update_limit: aws cannot honour it for windows" in found
    assert "steps[1].options.timeout_minutes: azure cannot honour it for windows" in found
    linux = "\n".join(refused(tmp_path / "l", ubuntu_flavour() + "  - os-updates: {search: important}\n"))
    assert "steps[0].os-updates.search: aws cannot honour it for linux: it is a Windows Update setting" in linux


def test_shipped_rhel_flavour_renders_stig_script_and_reboot(plans):
    import json

    plan = plans["dev"]
    recipe = next(r for r in plan.resources if r.type.endswith("imageRecipe:ImageRecipe") and "rhel-9-stig" in r.name)
    arns = [c["componentArn"] for c in recipe.inputs["components"]]
    assert "arn:aws:imagebuilder:eu-west-1:aws:component/stig-build-linux-medium/x.x.x" in arns
    reboot = next(r for r in plan.resources if r.type.endswith("component:Component") and "-reboot-" in r.name)
    document = yaml.safe_load(reboot.inputs["data"])
    assert document["phases"][0]["steps"][0]["action"] == "Reboot"
    template = next(r for r in plan.resources if r.type.endswith("ImageTemplate") and "rhel-9-stig" in r.name)
    names = [c["name"] for c in json.loads(json.dumps(template.inputs["customize"]))]
    assert any(n.endswith("-script-crypto-and-banner-install") for n in names) and not any("reboot" in n for n in names)
