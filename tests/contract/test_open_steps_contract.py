"""Contract: what the open steps render (AWSTOE Reboot, UpdateOS, ExecuteBash of a team's script,
S3Download of a placed file; recipe parameters of an AWS-managed component; AIB WindowsRestart with a
restartCheckCommand) satisfies the AWSTOE action schema, botocore's CreateImageRecipe model and
azure-mgmt-imagebuilder's template model.

No shipped flavour uses all of them (no Windows flavour restarts or excludes updates), so each is
rendered here from a flavour file through the loader, as a team would write it."""
from __future__ import annotations

import copy

import yaml

from components.aws.render.component import component_specs
from components.aws.render.recipe import _recipe_components, recipe_entries
from components.azure.render.customizers import render_customizers, render_validations
from tests.flavour_folders import WINDOWS
from tests.samples import ubuntu_flavour
from tests.steps.flavour_file import KEY, build, step_named

from . import aws_api, awstoe
from .aws_samples import RECIPE, VALID
from .azure_samples import found, valid_body

ASSET_STORE = "https://example.blob.core.windows.net/build-assets"


def _documents(step):
    specs = component_specs(step, prefix="golden-images-dev", key=KEY)
    assert specs, step.name
    return specs


def _actions(specs):
    return [s["action"] for spec in specs for p in yaml.safe_load(spec.data)["phases"] for s in p["steps"]]


def test_awstoe_reboot_update_os_script_and_s3_download_are_valid_documents(tmp_path):
    windows = build(tmp_path / "w", WINDOWS + """\
  - os-updates: {exclude: [KB5005463]}
    options: {timeout_minutes: 120, retries: 1, only_on: aws}
  - reboot: {delay_seconds: 30, check: "if (Get-Service W32Time) { exit 0 } else { exit 1 }"}
    options: {timeout_minutes: 20}
  - script: {inline: "Write-Output hello", check: "exit 0"}
""")
    linux = build(tmp_path / "l", ubuntu_flavour() + """\
  - reboot: {check: systemctl is-active --quiet ssh}
    options: {only_on: aws}
  - script:
      file: scripts/site.sh
      environment: {SITE: eu-west}
      check: test -f /etc/site
  - file: {source: files/site.conf, destination: /etc/site.conf, mode: "0640"}
""", {"scripts/site.sh": "#!/usr/bin/env bash\nset -euo pipefail\necho \"$SITE\" > /etc/site\n",
      "files/site.conf": "site=eu-west\n"})
    seen = set()
    for b in (windows, linux):
        for step in b.steps_on("aws"):
            for spec in _documents(step):
                assert awstoe.check_document(spec.data, spec.platform) == [], f"{step.name} ({step.os})"
            seen.update(_actions(_documents(step)))
    assert {"UpdateOS", "Reboot", "ExecutePowerShell", "ExecuteBash", "CreateFile", "S3Download"} <= seen


def test_recipe_passes_managed_component_parameters_as_the_api_takes_them(tmp_path):
    b = build(tmp_path, ubuntu_flavour() + """\
  - aws-managed-component:
      name: stig-build-linux
      version: 2025.1.x
      parameters: {Level: High}
    options: {only_on: aws}
""")
    step = step_named(b, "aws", "aws-managed-component")
    entries = recipe_entries([step], prefix="golden-images-dev", region="eu-west-1", key=KEY)
    (component,) = _recipe_components(entries, [entries[0].managed_arn], None)
    # Under the mock engine inputs arrive in wire names: componentArn, parameters[{name, value}].
    recipe = copy.deepcopy(VALID[RECIPE])
    recipe["components"] = [{"componentArn": component["component_arn"], "parameters": component["parameters"]}]
    assert aws_api.check(RECIPE, recipe) == []


def test_windows_restart_with_check_command_satisfies_the_template_model(tmp_path):
    b = build(tmp_path, WINDOWS + """\
  - reboot: {delay_seconds: 10, check: "Get-Service W32Time | Out-Null"}
    options: {timeout_minutes: 20}
  - os-updates: {search: important, update_limit: 20, restart_timeout_minutes: 45}
    options: {only_on: azure}
  - file: {source: files/app.json, destination: 'C:\\app\\app.json'}
""", {"files/app.json": "{}\n"})
    steps = b.steps_on("azure")
    customizers = render_customizers(steps, asset_store=ASSET_STORE)
    restart = next(c for c in customizers if c["type"] == "WindowsRestart" and "restartCheckCommand" in c)
    assert restart["restartTimeout"] == "20m"
    body = valid_body()
    body["properties"]["customize"] = customizers
    body["properties"]["validate"] = {"inVMValidations": render_validations(steps)}
    assert found(body) == set()
