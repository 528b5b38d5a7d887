"""The file step: a file or folder of the repository placed on the build machine, sha256-verified.

What AWS's component document and Azure's customizers hold for it, and each refusal with file,
field and reason."""
from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
import yaml

from components.aws.render.component import component_specs
from components.azure.render.customizers import render_customizers, render_validations
from tests.flavour_folders import WINDOWS
from tests.samples import ubuntu_flavour
from tests.steps.flavour_file import KEY, build, refused, step_named

CHRONY = "server time1.corp.example.com iburst\n"
ASSET_STORE = "https://example.blob.core.windows.net/build-assets"


def _linux(tmp_path: Path):
    return build(tmp_path, ubuntu_flavour() + """\
  - file: {source: files/chrony.conf, destination: /etc/chrony.conf, owner: "root:chrony", mode: "0640"}
  - file: {source: files/pki, destination: /etc/pki/ca-trust/source/anchors/corp}
""", {"files/chrony.conf": CHRONY, "files/pki/corp-root.pem": "-----BEGIN CERTIFICATE-----\n",
      "files/pki/sub/corp-issuing.pem": "-----BEGIN CERTIFICATE-----\n"})


def test_a_file_is_packed_alone_and_its_archive_checksum_is_what_the_script_verifies(tmp_path):
    single, folder = [s for s in _linux(tmp_path).steps_on("aws") if s.name == "file"]
    (download,) = single.downloads
    asset = single.params["source"]
    assert hashlib.sha256(asset.data).hexdigest() == download.sha256 == asset.sha256
    with tarfile.open(fileobj=io.BytesIO(asset.data), mode="r:gz") as tar:
        assert [(m.name, m.isfile()) for m in tar.getmembers()] == [("chrony.conf", True)]
        member = tar.extractfile("chrony.conf")
        assert member is not None and member.read().decode() == CHRONY
    assert single.environment["GI_ASSET_SOURCE_KIND"] == "file"
    assert single.environment["GI_ASSET_SOURCE_SHA256"] == download.sha256
    # A folder keeps its layout; scripts see no KIND (directory, as for ansible-playbook).
    with tarfile.open(fileobj=io.BytesIO(folder.params["source"].data), mode="r:gz") as tar:
        assert sorted(m.name for m in tar.getmembers() if m.isfile()) == ["corp-root.pem", "sub/corp-issuing.pem"]
    assert "GI_ASSET_SOURCE_KIND" not in folder.environment


def test_aws_downloads_from_the_asset_bucket_then_verifies_and_places(tmp_path):
    step = [s for s in _linux(tmp_path).steps_on("aws") if s.name == "file"][0]
    (spec,) = component_specs(step, prefix="gi-dev", key=KEY)
    assert spec.parameters == ("AssetBucket",)  # the recipe passes the bucket's name
    document = yaml.safe_load(spec.data)
    build_phase = document["phases"][0]["steps"]
    # AWSTOE S3Download: source s3://bucket/key, destination, overwrite; it verifies no checksum.
    assert build_phase[0] == {"name": "DownloadAssets", "action": "S3Download", "inputs": [{
        "source": "s3://{{ AssetBucket }}/" + step.params["source"].key,
        "destination": f"/var/tmp/golden-images/assets/{step.params['source'].sha256}.tar.gz", "overwrite": True}]}
    script = build_phase[1]["inputs"][0]["content"]
    assert "export GI_PARAM_DESTINATION='/etc/chrony.conf'" in script and "export GI_PARAM_MODE='0640'" in script
    assert '[ "${actual}" = "${expected}" ] || fail' in script  # compared before tar runs
    assert script.index("sha256sum") < script.index("tar -xzf")
    assert [p["name"] for p in document["phases"]] == ["build", "validate", "test"]


def test_azure_file_customizer_with_checksum_then_the_placing_script_and_a_validation(tmp_path):
    step = [s for s in _linux(tmp_path).steps_on("azure") if s.name == "file"][0]
    customizers = render_customizers([step], asset_store=ASSET_STORE)
    fetch, move, install, cleanup = customizers
    assert fetch["type"] == "File" and fetch["sha256Checksum"] == step.params["source"].sha256
    assert fetch["sourceUri"] == f"{ASSET_STORE}/{step.params['source'].key}"
    assert move["type"] == "Shell" and install["type"] == "Shell" and install["name"] == "01-file-chrony-conf-install"
    assert cleanup["name"] == "cleanup-downloads"
    (check,) = render_validations([step])
    assert check["name"] == "01-file-chrony-conf-check" and check["type"] == "Shell"


def test_windows_places_with_powershell_and_file_customizer(tmp_path):
    b = build(tmp_path, WINDOWS + """\
  - file: {source: files/appsettings.json, destination: 'C:\\inetpub\\site\\appsettings.json'}
""", {"files/appsettings.json": "{}\n"})
    step = step_named(b, "azure", "file")
    types = [c["type"] for c in render_customizers([step], asset_store=ASSET_STORE)]
    assert types == ["PowerShell", "File", "PowerShell", "PowerShell"]  # folders, fetch, install, cleanup
    document = yaml.safe_load(component_specs(step_named(b, "aws", "file"), prefix="gi-dev", key=KEY)[0].data)
    assert [s["action"] for s in document["phases"][0]["steps"]] == ["S3Download", "CreateFile", "ExecutePowerShell"]


def test_file_refusals_name_the_field(tmp_path):
    outside = tmp_path / "outside.conf"
    outside.write_text("x\n")
    folder = tmp_path / "image_flavours" / "files"
    folder.mkdir(parents=True)
    os.symlink(outside, folder / "link.conf")
    # Files are packed once the parameters are valid: these two are refused in a run of their own.
    packed = refused(tmp_path, ubuntu_flavour() + """\
  - file: {source: files/ok.conf, destination: /etc/x.conf}
  - file: {source: files/link.conf, destination: /etc/x.conf}
  - file: {source: files/missing.conf, destination: /etc/x.conf}
""", {"files/ok.conf": "ok\n"})
    f = "image_flavours/f.yaml"
    assert packed == [
        f"{f}: steps[1].file.source: no file or folder 'files/link.conf' in image_flavours/ ('files/link.conf' is "
        "a symbolic link leading outside the repository)",
        f"{f}: steps[2].file.source: no file or folder 'files/missing.conf' in image_flavours/",
    ]
    found = refused(tmp_path / "second", ubuntu_flavour() + """\
  - file: {source: ../outside.conf, destination: /etc/x.conf}
  - file: {source: files/ok.conf, destination: /etc/x.conf}
  - file: {source: files/ok.conf, destination: /etc/x.conf}
  - file: {source: files/ok.conf, destination: etc/x.conf}
  - file: {source: files/ok.conf, destination: /etc/../shadow}
  - file: {source: files/ok.conf, destination: /etc/x.conf, mode: "rw-r--r--"}
  - file: {destination: /etc/x.conf}
""", {"files/ok.conf": "ok\n"})
    text = "\n".join(found)
    assert f"{f}: steps[0].file.source: '../outside.conf' is not a path inside image_flavours/" in text
    assert f"{f}: steps[3].file.destination: 'etc/x.conf' does not match" in text
    assert f"{f}: steps[4].file.destination: '/etc/../shadow' does not match" in text
    assert f"{f}: steps[5].file.mode: 'rw-r--r--' does not match" in text
    assert f"{f}: steps[6].file.source:" in text


def test_owner_and_mode_are_refused_on_windows(tmp_path):
    found = refused(tmp_path, WINDOWS + """\
  - file: {source: files/a.json, destination: 'C:\\app\\a.json', owner: root}
""", {"files/a.json": "{}\n"})
    assert any("steps[0].file.owner" in p and "ACLs" in p for p in found), found


@pytest.mark.parametrize("secret", ["AKIAIOSFODNN7EXAMPLE"])
def test_a_placed_file_is_scanned_for_secrets(tmp_path, secret):
    found = refused(tmp_path, ubuntu_flavour() + """\
  - file: {source: files/app.env, destination: /etc/app.env}
""", {"files/app.env": f"AWS_ACCESS_KEY_ID={secret}\n"})
    assert any("steps[0].file.source: 'files/app.env' line 1 looks like a secret" in p for p in found), found
