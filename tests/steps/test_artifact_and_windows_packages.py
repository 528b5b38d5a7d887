"""artifact and windows-packages: what the loader refuses, what each cloud receives."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.aws.render import artifact_arns, artifact_read_policy, component_phases
from components.azure.render.customizers import render_customizers
from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from tests.builds import build_of
from tests.samples import stack_config as settings

WINDOWS = """name: app
description: An app server
version: 1.0.0
os: windows
base_image:
  aws: ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-Base
  azure: {publisher: MicrosoftWindowsServer, offer: WindowsServer, sku: 2022-datacenter-core-g2}
steps:
  - os-updates
"""
SHA = "5f7c3c4d0b2b8f1e9a6d4c2e1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e"
S3 = "s3://team-artefacts/installers/app-1.0.msi"
BLOB = "https://teamartefacts.blob.core.windows.net/installers/app-1.0.msi"
DEST = "C:\\\\golden-images\\\\downloads\\\\app-1.0.msi"


def load(tmp_path: Path, steps: str):
    folder = tmp_path / "image_flavours"
    folder.mkdir()
    (folder / "app.yaml").write_text(WINDOWS + steps)
    return load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)


def problems(tmp_path: Path, steps: str) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        load(tmp_path, steps)
    return [str(p) for p in caught.value.problems]


def prepared(inputs, cloud: str, name: str):
    build = build_of(inputs.flavours[0].flavour, inputs.settings, inputs.catalogue)
    return [p for p in build.steps_on(cloud) if p.name == name]


def test_aws_fetches_an_s3_artifact_with_the_instance_role(tmp_path):
    inputs = load(tmp_path, f'  - artifact: {{source: "{S3}", destination: "{DEST}", sha256: {SHA}}}\n'
                            "    options: {only_on: aws}\n")
    (step,) = prepared(inputs, "aws", "artifact")
    build = component_phases(step)[0]["steps"]
    # AWSTOE S3Download: inputs source (s3://bucket/key) and destination; it verifies no checksum.
    assert build[0] == {"name": "DownloadArtifacts", "action": "S3Download", "inputs": [
        {"source": S3, "destination": "C:\\golden-images\\downloads\\app-1.0.msi", "overwrite": True}]}
    assert step.environment["GI_PARAM_SHA256"] == SHA  # the script verifies it
    assert prepared(inputs, "azure", "artifact") == []
    # Exactly that object, nothing else of the bucket (IAM object ARN arn:aws:s3:::bucket/key).
    assert artifact_read_policy(artifact_arns([S3], "eu-west-1"))["Statement"] == [
        {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": ["arn:aws:s3:::team-artefacts/installers/app-1.0.msi"]}]


def test_azure_fetches_a_blob_on_the_build_vm_with_its_identity(tmp_path):
    inputs = load(tmp_path, f'  - artifact: {{source: "{BLOB}", destination: "{DEST}"}}\n'
                            "    options: {only_on: azure}\n")
    (step,) = prepared(inputs, "azure", "artifact")
    customizers = render_customizers([step], build_vm_client_id="11111111-2222-3333-4444-555555555555")
    # No File customizer (it would read with the template's identity, which has no grant there).
    assert not [c for c in customizers if c["type"] == "File"]
    [fetch] = [c for c in customizers if c["name"] == "01-artifact-app-1-0-msi-fetch"]
    script = "\n".join(fetch["inline"])
    # IMDS token for the Storage audience, as the user-assigned build VM identity (its client id).
    assert "resource=https%3A%2F%2Fstorage.azure.com%2F&client_id=11111111-2222-3333-4444-555555555555" in script
    assert f"-Uri '{BLOB}' -OutFile 'C:\\golden-images\\downloads\\app-1.0.msi'" in script


def test_a_query_string_is_refused_as_a_secret(tmp_path):
    found = problems(tmp_path, f'  - artifact: {{source: "{BLOB}?sv=2022-11-02&sig=abc", destination: "{DEST}"}}\n')
    assert len(found) >= 1
    assert found[0].startswith("image_flavours/app.yaml: steps[1].artifact.source: ")


def test_an_s3_source_on_azure_is_refused_with_the_reason(tmp_path):
    from components.azure.render.checks import _build_problems

    inputs = load(tmp_path, f'  - artifact: {{source: "{S3}", destination: "{DEST}"}}\n')
    build = build_of(inputs.flavours[0].flavour, inputs.settings, inputs.catalogue)
    found = _build_problems(build, inputs.settings.azure)
    assert [str(p) for p in found] == [
        f"image_flavours/test.yaml: steps[1].artifact.source: {S3} is in an S3 bucket, which the Azure build VM "
        "has no identity for; use an Azure blob URL on Azure (options.only_on: aws for this use)"]


def test_windows_packages_pins_and_feed(tmp_path):
    inputs = load(tmp_path, "  - windows-packages:\n      source: https://nexus.example.com/repository/choco/\n"
                            "      packages: [git=2.47.0, 7zip]\n")
    (step,) = prepared(inputs, "aws", "windows-packages")
    assert step.environment["GI_PARAM_PACKAGES"] == "git=2.47.0 7zip"
    assert step.environment["GI_PARAM_MANAGER"] == "chocolatey"
    assert step.environment["GI_PIN_CHOCOLATEY_VERSION"]
    assert "--version=$version" in step.script and "--source=golden-images" in step.script


@pytest.mark.parametrize("line, field", [
    ("      source: https://user:pass@nexus.example.com/choco/\n      packages: [git]\n", "source"),
    ("      source: https://nexus.example.com/choco/?token=x\n      packages: [git]\n", "source"),
    ("      source: http://nexus.example.com/choco/\n      packages: [git]\n", "source"),
    ("      packages: [\"git --force\"]\n", "packages"),
    ("      packages: [git;calc]\n", "packages"),
    ("      manager: scoop\n      packages: [git]\n", "manager"),
])
def test_windows_packages_refusals_name_the_field(tmp_path, line, field):
    found = problems(tmp_path, "  - windows-packages:\n" + line)
    assert any(p.startswith(f"image_flavours/app.yaml: steps[1].windows-packages.{field}: ") for p in found), found


def test_windows_packages_refuses_linux(tmp_path):
    from tests.samples import ubuntu_flavour

    folder = tmp_path / "image_flavours"
    folder.mkdir()
    (folder / "app.yaml").write_text(ubuntu_flavour("app") + "  - os-updates\n  - windows-packages: {packages: [git]}\n")
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "image_flavours/app.yaml: steps[1]: step 'windows-packages' does not support linux: Chocolatey and winget "
        "are Windows package managers; use linux-packages for the distribution's own packages."]


def test_the_shipped_app_server_plans_the_exact_artifact_grant(plans):
    for stack in ("dev", "prod"):
        policies = [r for r in plans[stack].resources if r.name.endswith("imagebuilder-instance-artifacts")]
        assert len(policies) == 1
        statement = json.loads(policies[0].inputs["policy"])["Statement"]
        assert statement[0]["Resource"] == [
            "arn:aws:s3:::example-platform-artefacts/installers/contoso-orders/contoso-orders-3.4.1-x64.msi"]
