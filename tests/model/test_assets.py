"""Build assets (directory parameters), mapping parameters and parameter groups."""
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from components.model.assets import Asset, AssetError, assets_on, pack_directory, write_asset
from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from tests.builds import build_of
from tests.flavour_folders import UBUNTU, folder_with
from tests.samples import stack_config as settings

PLAYBOOK = "- hosts: localhost\n  tasks:\n    - ansible.builtin.debug: {msg: hello}\n"


def load(tmp_path: Path, step: str, extra: dict | None = None, head: str = UBUNTU):
    folder = folder_with(tmp_path, {"web.yaml": head + step, "ansible/web/site.yml": PLAYBOOK, **(extra or {})})
    return load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)


def problems(tmp_path: Path, step: str, extra: dict | None = None, head: str = UBUNTU) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        load(tmp_path, step, extra, head)
    return [str(p) for p in caught.value.problems]


# Packing -------------------------------------------------------------------------------------


def test_packing_is_reproducible_and_keeps_only_paths_modes_and_contents(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        (folder / "roles" / "web").mkdir(parents=True)
        (folder / "site.yml").write_text(PLAYBOOK)
        (folder / "roles" / "web" / "main.yml").write_text("---\n")
    os.utime(two / "site.yml", (1, 1))  # another timestamp: the same archive
    first, second = pack_directory(one, "ansible/web"), pack_directory(two, "ansible/web")
    assert first.sha256 == second.sha256 == hashlib.sha256(first.data).hexdigest()
    assert first.key == f"assets/{first.sha256}.tar.gz" and first.files == 2
    assert first.destination("linux") == f"/var/tmp/golden-images/assets/{first.sha256}.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(first.data), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["roles", "roles/web", "roles/web/main.yml", "site.yml"]
        assert {(m.mtime, m.uid, m.uname) for m in members.values()} == {(0, 0, "root")}
        assert tar.extractfile("site.yml").read().decode() == PLAYBOOK
    (two / "site.yml").write_text(PLAYBOOK + "# changed\n")
    assert pack_directory(two, "ansible/web").sha256 != first.sha256


def test_symbolic_links_and_empty_folders_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(AssetError, match="'x' has no files"):
        pack_directory(tmp_path / "empty", "x")
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "site.yml").symlink_to("/etc/hostname")
    with pytest.raises(AssetError, match="'x/site.yml' is a symbolic link; copy the file instead"):
        pack_directory(tmp_path / "linked", "x")


def test_written_once_per_content(tmp_path):
    asset = Asset(path="x", sha256=hashlib.sha256(b"data").hexdigest(), files=1, data=b"data")
    path = write_asset(asset, tmp_path / "assets")
    assert path.read_bytes() == b"data" and path.name == f"{asset.sha256}.tar.gz"
    path.write_bytes(b"tampered")
    assert write_asset(asset, tmp_path / "assets").read_bytes() == b"data"


# The loader ----------------------------------------------------------------------------------


def on_clouds(inputs, *clouds):
    """The build of the loaded flavour in a stack that enables `clouds`."""
    return build_of(inputs.flavours[0].flavour, inputs.settings.model_copy(update={"clouds": list(clouds)}), inputs.catalogue)


def own_assets() -> dict:
    """The ansible-playbook step's own build assets (its locks and helpers), fetched by every use."""
    from components.model.steps import load_catalogue

    step = load_catalogue().get("ansible-playbook")
    assert step is not None and set(step.assets) == {"requirements", "lib"}
    return {a.key: a for a in step.assets.values()}


def test_a_directory_parameter_becomes_a_checked_asset_the_build_downloads(tmp_path):
    step = ("  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n      tags: [banner]\n"
            "      variables: {journald_max_use: 500M, ports: [80, 443]}\n")
    inputs = load(tmp_path, step)
    flavour = inputs.flavours[0].flavour
    asset = flavour.steps[1].params["directory"]
    assert isinstance(asset, Asset) and asset.path == "ansible/web"
    assert asset.sha256 == pack_directory(tmp_path / "image_flavours" / "ansible" / "web", "ansible/web").sha256
    assert assets_on([on_clouds(inputs, "aws", "azure")], "aws") == {asset.key: asset, **own_assets()}
    assert assets_on([on_clouds(inputs, "azure")], "aws") == {}
    (prepared,) = [p for p in on_clouds(inputs, "aws").steps_on("aws") if p.name == "ansible-playbook"]
    (download,) = [d for d in prepared.downloads if d.pin == "asset-directory"]
    assert sorted(d.asset_key for d in prepared.downloads if d is not download) == sorted(own_assets())
    assert (download.asset_key, download.sha256, download.destination) == (
        asset.key, asset.sha256, f"/var/tmp/golden-images/assets/{asset.sha256}.tar.gz")
    env = prepared.environment
    assert env["GI_ASSET_DIRECTORY"] == download.destination and env["GI_ASSET_DIRECTORY_SHA256"] == asset.sha256
    assert env["GI_PARAM_DIRECTORY"] == "ansible/web" and env["GI_PARAM_PLAYBOOK"] == "site.yml"
    assert json.loads(env["GI_PARAM_VARIABLES"]) == {"journald_max_use": "500M", "ports": [80, 443]}
    assert env["GI_PARAM_TAGS"] == "banner" and env["GI_PARAM_GIT_URL"] == ""


def test_missing_folder(tmp_path):
    found = problems(tmp_path, "  - ansible-playbook: {directory: ansible/wbe, playbook: site.yml}\n")
    assert found == ["image_flavours/web.yaml: steps[1].ansible-playbook.directory: no folder 'ansible/wbe' in image_flavours/"]


def test_folder_outside_image_flavours(tmp_path):
    found = problems(tmp_path, "  - ansible-playbook: {directory: ../secrets, playbook: site.yml}\n")
    assert found == ["image_flavours/web.yaml: steps[1].ansible-playbook.directory: '../secrets' is not a path inside "
                     "image_flavours/ (use forward slashes, no '..', e.g. tests/web.Tests.ps1)"]


def test_a_secret_in_an_asset_file_is_refused(tmp_path):
    vars_file = "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    found = problems(tmp_path, "  - ansible-playbook: {directory: ansible/web, playbook: site.yml}\n",
                     {"ansible/web/group_vars/all.yml": vars_file})
    assert len(found) == 1
    assert found[0].startswith("image_flavours/web.yaml: steps[1].ansible-playbook.directory: "
                               "'ansible/web/group_vars/all.yml' line 1 looks like a secret (")
    assert found[0].endswith("build assets end up on the build instance and in storage")


def test_a_secret_in_variables_is_refused(tmp_path):
    step = ("  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n"
            "      variables: {app: {api_token: ghp_abcdefghijklmnopqrstuvwxyz0123456789}}\n")
    found = problems(tmp_path, step)
    assert len(found) == 1
    assert found[0].startswith("image_flavours/web.yaml: steps[1].ansible-playbook.variables.app.api_token: "
                               "value looks like a secret")


def test_variables_must_be_a_mapping_of_variable_names(tmp_path):
    step = "  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n      variables: {bad-name: 1}\n"
    assert problems(tmp_path, step) == ["image_flavours/web.yaml: steps[1].ansible-playbook.variables: key 'bad-name' "
                                        "is not a variable name (letters, digits, underscores)"]
    step = "  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n      variables: [a, b]\n"
    assert problems(tmp_path, step) == ["image_flavours/web.yaml: steps[1].ansible-playbook.variables: must be a "
                                        "mapping, got list ['a', 'b']"]


def test_exactly_one_source(tmp_path):
    assert problems(tmp_path, "  - ansible-playbook: {playbook: site.yml}\n") == [
        "image_flavours/web.yaml: steps[1].ansible-playbook: give one of directory, git_url (got none)"]
    both = ("  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n"
            "      git_url: https://github.com/example/playbooks.git\n"
            "      git_commit: 0123456789abcdef0123456789abcdef01234567\n")
    assert problems(tmp_path, both) == [
        "image_flavours/web.yaml: steps[1].ansible-playbook: give only one of directory, git_url (got directory, git_url)"]


def test_a_git_source_needs_its_commit_and_no_credentials(tmp_path):
    step = "  - ansible-playbook: {git_url: 'https://github.com/example/playbooks.git', playbook: site.yml}\n"
    assert problems(tmp_path, step) == [
        "image_flavours/web.yaml: steps[1].ansible-playbook.git_commit: required together with git_url"]
    step = ("  - ansible-playbook:\n      git_url: https://user:pw@github.com/example/playbooks.git\n"
            "      git_commit: 0123456789abcdef0123456789abcdef01234567\n      playbook: site.yml\n")
    found = problems(tmp_path, step)
    assert len(found) == 2 and found[0].startswith(
        "image_flavours/web.yaml: steps[1].ansible-playbook.git_url: 'https://user:pw@github.com/example/playbooks.git' "
        "does not match")
    assert found[1].startswith("image_flavours/web.yaml: steps[1].ansible-playbook.git_url: value looks like a secret "
                               "(Basic Auth Credentials)")
    step = ("  - ansible-playbook:\n      git_url: https://github.com/example/playbooks.git\n"
            "      git_commit: 0123456789abcdef0123456789abcdef01234567\n      playbook: site.yml\n")
    (use,) = [u for u in load(tmp_path, step).flavours[0].flavour.steps if u.name == "ansible-playbook"]
    assert use.params["git_commit"] == "0123456789abcdef0123456789abcdef01234567"


def test_windows_flavours_are_told_why_ansible_cannot_run_in_their_build(tmp_path):
    windows = (UBUNTU.replace("os: linux", "os: windows")
               .replace("aws: ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
                        "aws: ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-Base")
               .replace("{publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}",
                        "{publisher: MicrosoftWindowsServer, offer: WindowsServer, sku: 2022-datacenter-core-g2}"))
    found = problems(tmp_path, "  - ansible-playbook: {directory: ansible/web, playbook: site.yml}\n", head=windows)
    assert len(found) == 1
    assert found[0].startswith("image_flavours/web.yaml: steps[1]: step 'ansible-playbook' does not support windows: "
                               "Ansible's control node does not run on Windows")


def test_a_git_source_downloads_only_the_steps_own_assets_and_tells_the_script_where_to_clone(tmp_path):
    step = ("  - ansible-playbook:\n      git_url: https://github.com/example/playbooks.git\n"
            "      git_commit: 0123456789abcdef0123456789abcdef01234567\n      playbook: site.yml\n"
            "      skip_tags: [motd]\n")
    inputs = load(tmp_path, step)
    assert assets_on([on_clouds(inputs, "aws", "azure")], "aws") == own_assets(), "only the step's own"
    for cloud in ("aws", "azure"):
        (prepared,) = [p for p in on_clouds(inputs, "aws", "azure").steps_on(cloud) if p.name == "ansible-playbook"]
        assert sorted(d.asset_key for d in prepared.downloads) == sorted(own_assets())
        env = prepared.environment
        assert (env["GI_PARAM_GIT_URL"], env["GI_PARAM_GIT_COMMIT"], env["GI_PARAM_SKIP_TAGS"]) == (
            "https://github.com/example/playbooks.git", "0123456789abcdef0123456789abcdef01234567", "motd")
        assert "GI_ASSET_DIRECTORY" not in env and env["GI_PARAM_VARIABLES"] == "{}"


def test_templates_in_variables_are_accepted_and_bad_values_refused_with_their_field(tmp_path):
    # '{{' travels safely now: a script holding it is shipped base64-encoded to AWSTOE
    # (tests/aws/test_reach.py), and Azure substitutes nothing in inline scripts.
    step = ("  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n"
            "      variables: {motd: '{{ ansible_hostname }}', when: 2026-01-01}\n")
    found = problems(tmp_path, step)
    assert found == [
        "image_flavours/web.yaml: steps[1].ansible-playbook.variables: holds a date (2026-01-01), which JSON cannot "
        "carry; quote it to pass it as text",
    ]
