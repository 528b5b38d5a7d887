"""Hostile and careless input: bounded work, no traceback, control characters, secrets anywhere.

A fork's pull request runs `make plan` in CI on a checkout its author controls. Each case
here is refused with one line naming the file and field, exit code 2, nothing registered
and no plan file; none takes more than a fraction of the 512 MB / 60 s a 1 MB input may.
"""
from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from components.model.errors import Problem, ValidationFailed
from components.model.loader import load_inputs
from components.model.secrets import SecretCache, decode_for_scan, mask, scan_text
from components.model.yaml_files import read_yaml
from components.plan import UserError, main, stack_config
from tests.flavour_folders import UBUNTU, folder_with, planned_refusal, refused
from tests.samples import stack_config as settings

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)  # 10 levels of 9 aliases: 9**10 strings, 3.5 billion, from about 400 bytes


# 1. Bounded work -------------------------------------------------------------------------


def test_alias_bomb_in_a_flavour_is_refused_at_the_first_anchor_in_bounded_time_and_memory(project, capsys):
    assert len(BOMB) < 500
    project.write_flavour("bomb.yaml", BOMB)
    tracemalloc.start()
    started = time.monotonic()
    status, err = planned_refusal(project, capsys)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert status == 2
    assert ("image_flavours/bomb.yaml: line 1, column 4: YAML anchors and aliases are not accepted" in err), err
    assert "Traceback" not in err
    assert elapsed < 60 and peak < 512 * 1024 * 1024


def test_anchors_and_aliases_are_refused_in_stack_files_and_applications_too(project, tmp_path):
    stack = project.root / "Pulumi.dev.yaml"
    shipped = stack.read_text()
    stack.write_text(shipped.replace("golden-images:tags:", "golden-images:tags: &tags") + "  x: *tags\n")
    with pytest.raises(UserError, match=r"^Pulumi.dev.yaml: line \d+, column \d+: YAML anchors and aliases are not accepted"):
        stack_config("dev", project.root)
    stack.write_text(shipped)
    apps = project.flavours / "applications.yaml"
    apps.write_text("defaults: &d {owner: x}\n" + apps.read_text())
    with pytest.raises(UserError, match=r"image_flavours/applications.yaml: line 1, column 11: YAML anchors"):
        project.plan()


def test_a_megabyte_of_nesting_is_refused_without_a_recursion_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 400_000 + "]" * 400_000)
    started = time.monotonic()
    data, problems = read_yaml(path, "deep.yaml", tmp_path)
    assert data is None and time.monotonic() - started < 60
    assert [str(p) for p in problems] == ["deep.yaml: line 1, column 33: nested more than 32 levels deep"]


def test_a_file_over_a_megabyte_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("description: " + "x" * 1_000_001)
    _, problems = read_yaml(path, "big.yaml", tmp_path)
    assert [str(p) for p in problems] == ["big.yaml: is larger than 1000000 bytes; a file of this kind is at most 1000 kB"]


def test_devices_fifos_directories_loops_and_links_out_are_refused_by_name(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("name: stolen\n")
    folder = folder_with(tmp_path / "repo", {"web.yaml": UBUNTU})
    (folder / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.yaml")
    (folder / "folder.yaml").mkdir()
    (folder / "loop.yaml").symlink_to(folder / "loop.yaml")
    (folder / "out.yaml").symlink_to(outside)
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path / "repo")
    assert time.monotonic() - started < 60  # /dev/zero is never read, the FIFO never waited on
    assert [str(p) for p in caught.value.problems] == [
        "image_flavours/folder.yaml: is a directory, not a file",
        "image_flavours/loop.yaml: is a symbolic link loop",
        "image_flavours/out.yaml: is a symbolic link leading outside the repository",
        "image_flavours/pipe.yaml: is a FIFO (named pipe), not a regular file",
        "image_flavours/zero.yaml: is a symbolic link leading outside the repository",
    ]


def test_a_device_inside_the_repository_is_refused_as_a_device(tmp_path):
    # /dev is the only place with devices here: the folder itself is the "repository".
    _, problems = read_yaml(Path("/dev/zero"), "zero.yaml", Path("/dev"))
    assert [str(p) for p in problems] == ["zero.yaml: is a device, not a regular file"]


def test_a_file_parameter_naming_a_device_or_a_link_out_is_refused(tmp_path):
    step = "  - image-tests:\n      suite: tests/zero.sh\n"
    folder = folder_with(tmp_path, {"web.yaml": UBUNTU + step})
    (folder / "tests").mkdir()
    (folder / "tests" / "zero.sh").symlink_to("/dev/zero")
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)
    assert any("steps[1].image-tests.suite: 'tests/zero.sh' is a symbolic link leading outside the repository" in str(p)
               for p in caught.value.problems), caught.value.problems


def test_a_build_asset_is_limited_unpacked_not_only_packed(tmp_path):
    # 65 MiB of zeros packs to about 65 kB; the build instance would still unpack 65 MiB.
    step = "  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n"
    folder = folder_with(tmp_path, {"web.yaml": UBUNTU + step, "ansible/web/site.yml": "- hosts: localhost\n"})
    with open(folder / "ansible" / "web" / "zeros.bin", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: costs nothing to make, refused before reading
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "image_flavours/web.yaml: steps[1].ansible-playbook.directory: 'ansible/web' holds more than 67108864 bytes "
        "unpacked; a build asset is at most 64 MiB"]


def test_the_secret_scan_is_bounded_per_text_and_per_run():
    cache = SecretCache(budget=3000, max_text=2000)
    with pytest.raises(ValueError, match="reads at most 2000 bytes of one text"):
        scan_text("x" * 2001, ".txt", cache)
    scan_text("a = 1\n" * 300, ".txt", cache)  # 1800 bytes scanned
    with pytest.raises(ValueError, match="past 3000 bytes in one run"):
        scan_text("b = 2\n" * 300, ".txt", cache)
    assert scan_text("a = 1\n" * 300, ".txt", cache) == []  # remembered: costs no budget


def test_an_asset_too_large_to_scan_is_refused_not_passed_unscanned(tmp_path):
    step = "  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n"
    folder = folder_with(tmp_path, {"web.yaml": UBUNTU + step, "ansible/web/site.yml": "- hosts: localhost\n",
                                    "ansible/web/data.txt": "x\n" * 600_000})
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path, scan_cache=SecretCache())
    assert [str(p) for p in caught.value.problems] == [
        "image_flavours/web.yaml: steps[1].ansible-playbook.directory: 'ansible/web/data.txt' is 1200000 bytes; "
        "the secret scan reads at most 1000000 bytes of one text"]


# 2. Never a traceback ----------------------------------------------------------------------


def test_an_undecodable_stack_file_is_one_line_with_the_byte(project, capsys):
    stack = project.root / "Pulumi.dev.yaml"
    stack.write_bytes(stack.read_bytes().replace(b"environment: dev", b"environment: d\xe9v"))
    line = stack.read_bytes().split(b"\n").index(b"    environment: d\xe9v") + 1
    status, err = planned_refusal(project, capsys)
    assert status == 2
    assert err.strip().splitlines() == [f"error: Pulumi.dev.yaml: is not UTF-8 text (byte 0xe9 on line {line})"]


def test_a_stack_name_is_not_a_path(project, capsys):
    assert main(["--stack", "../../etc/passwd", "--root", str(project.root), "--quiet"]) == 2
    assert "is not a Pulumi stack name" in capsys.readouterr().err


def test_an_unwritable_plan_folder_is_one_line_and_exit_2(project, capsys):
    blocked = project.root / "build"
    blocked.write_text("a file where the build folder goes\n")
    status = main(["--stack", "dev", "--root", str(project.root), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip().splitlines() == [
        "error: build/assets: cannot write the build assets (Not a directory); nothing was created"]
    assert list(project.root.glob("build*")) == [blocked]


def test_the_plan_file_is_replaced_whole(project, capsys, monkeypatch):
    """A write that fails half way (a full disk) leaves no partial plan and no temporary file behind."""

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    out = project.root / "build" / "plan" / "dev.json"
    monkeypatch.setattr(os, "fsync", full_disk)
    status = main(["--stack", "dev", "--root", str(project.root), "--quiet"])
    assert status == 2 and not out.exists()
    assert list(out.parent.iterdir()) == []
    assert "cannot write the plan file (No space left on device)" in capsys.readouterr().err


# 3. Control characters, terminal escapes -------------------------------------------------


def test_control_characters_are_refused_in_every_field_and_never_echoed(tmp_path):
    head = "\n".join('description: "\\e[2J\\e]0;owned\\a"' if line.startswith("description:") else line
                     for line in UBUNTU.splitlines()) + "\n"
    found = refused(tmp_path, {"web.yaml": head + "tags: {team: \"a\\u202eb\"}\n"})
    assert found == [
        "image_flavours/web.yaml: description: holds the control character \\x1b; only line feeds and tabs are accepted in a value",
        "image_flavours/web.yaml: tags.team: holds the control character \\u202e; only line feeds and tabs are accepted in a value",
    ]
    assert all("\x1b" not in line and "\u202e" not in line for line in found)


def test_control_characters_in_stack_settings_are_refused(tmp_path):
    config = settings()
    config["golden-images:tags"] = {"owner": "platform\rteam"}
    found = refused(tmp_path, {"web.yaml": UBUNTU}, config)
    assert "Pulumi.dev.yaml: golden-images:tags.owner: holds the control character \\r; only line feeds and tabs are accepted in a value" in found


def test_a_problem_never_prints_an_escape_sequence():
    assert str(Problem("f.yaml", "steps[0]", "unknown step '\x1b[31mred'")) == "f.yaml: steps[0]: unknown step '\\x1b[31mred'"


# 4. Secrets, everywhere ----------------------------------------------------------------------

AWS_KEY = "AKIA" + "IOSFODNN7" + "EXAMPLE"  # AWS's documented example access key id
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----"


def test_secrets_in_the_description_and_stack_tags_are_refused_by_field(tmp_path):
    head = UBUNTU.replace("description: ", f"description: deploy key {AWS_KEY} ")
    config = settings()
    config["golden-images:tags"] = {"owner": "platform", "ci_token": AWS_KEY}
    found = refused(tmp_path, {"web.yaml": head}, config)
    assert [line.split(" (")[0] for line in found] == [
        "Pulumi.dev.yaml: golden-images:tags.ci_token: value looks like a secret",
        "image_flavours/web.yaml: description: value looks like a secret",
    ]
    assert all(AWS_KEY not in line for line in found)


def test_a_64_hex_value_is_a_secret_outside_a_checksum_field(tmp_path):
    token = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    found = refused(tmp_path, {"web.yaml": UBUNTU + f"tags: {{deploy_token: '{token}'}}\n"})
    assert [line.split(" (")[0] for line in found] == ["image_flavours/web.yaml: tags.deploy_token: value looks like a secret"]


@pytest.mark.parametrize("encoding,content", [
    ("one latin-1 byte", ("# caf\xe9\n" + PRIVATE_KEY + "\n").encode("latin-1")),
    ("utf-16 with a BOM", ("# notes\n" + PRIVATE_KEY + "\n").encode("utf-16")),
    ("utf-16 without a BOM", ("# notes\n" + PRIVATE_KEY + "\n").encode("utf-16-le")),
    ("a binary file", b"\x00\x01\x02\x89PNG\x00" + PRIVATE_KEY.encode() + b"\x00\xff"),
])
def test_every_file_of_a_build_asset_is_scanned_in_any_encoding(tmp_path, encoding, content):
    step = "  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n"
    folder = folder_with(tmp_path, {"web.yaml": UBUNTU + step, "ansible/web/site.yml": "- hosts: localhost\n"})
    (folder / "ansible" / "web" / "files.dat").write_bytes(content)
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)
    [line] = [str(p) for p in caught.value.problems]
    assert line.startswith("image_flavours/web.yaml: steps[1].ansible-playbook.directory: 'ansible/web/files.dat' ")
    assert "looks like a secret (Private Key)" in line and PRIVATE_KEY not in line


def test_decoding_for_the_scan_keeps_every_line():
    assert decode_for_scan(b"a\n\xff\nb\n") == ("a\n\ufffd\nb\n", "utf-8")
    assert mask(AWS_KEY) == "<20 characters withheld: looks like a secret>"


def test_ansible_variables_are_scanned_at_any_depth(tmp_path):
    step = ("  - ansible-playbook:\n      directory: ansible/web\n      playbook: site.yml\n"
            "      variables: {db: {password: s3cr3tPassw0rd}}\n")
    found = refused(tmp_path, {"web.yaml": UBUNTU + step, "ansible/web/site.yml": "- hosts: localhost\n"})
    assert [line.split(" (")[0] for line in found] == [
        "image_flavours/web.yaml: steps[1].ansible-playbook.variables.db.password: value looks like a secret"]


def test_the_plan_never_registers_anything_for_a_refused_secret(project):
    text = project.flavour_text("ubuntu-2404.yaml").replace("description: ", f"description: {AWS_KEY} ")
    project.write_flavour("ubuntu-2404.yaml", text)
    with pytest.raises(UserError) as caught:
        project.plan()
    assert caught.value.registered == []
    assert "image_flavours/ubuntu-2404.yaml: description: value looks like a secret" in str(caught.value)
    assert AWS_KEY not in str(caught.value)
