"""Real rehearsals on the debootstrap root: a tiny flavour passes, a broken step script fails
at that step with its log, and nothing stays mounted. Needs root (CI runs as root) and
debootstrap or the cached root under build/rehearse/roots/."""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from components.model import loader, steps
from components.plan import ROOT
from components.rehearse import __main__ as cli
from components.rehearse.engines import ROOT_TARBALL
from components.rehearse.mounts import MountedError, mounts_under, safe_remove

TINY = """\
name: rehearse-tiny
description: A tiny Linux flavour for rehearsal tests.
version: 1.0.0
os: linux
base_image:
  aws: ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id
steps:
  - os-updates
  - linux-packages:
      packages: [jq]
  - image-tests:
      suite: tests/rehearse-tiny.sh
clouds: [aws]
"""
SUITE = """\
test_jq_is_installed() {
  command -v jq
}

test_the_private_proc_shows_only_this_machines_processes() {
  [ "$(ls -d /proc/[0-9]* | wc -l)" -lt 20 ]
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.fail("the rehearsal's chroot engine needs root: run the tests as root (CI does)")
    if not shutil.which("debootstrap") and not (ROOT / "build/rehearse/roots" / ROOT_TARBALL).is_file():
        pytest.fail("debootstrap is missing: apt-get install debootstrap (.ci/run installs it)")
    root = tmp_path / "project"
    (root / "image_flavours" / "tests").mkdir(parents=True)
    for stack in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(stack, root / stack.name)
    (root / "image_flavours" / "rehearse-tiny.yaml").write_text(TINY)
    (root / "image_flavours" / "tests" / "rehearse-tiny.sh").write_text(SUITE)
    out = tmp_path / "out"
    out.mkdir()
    cache = ROOT / "build" / "rehearse" / "roots"
    cache.mkdir(parents=True, exist_ok=True)
    (out / "roots").symlink_to(cache)  # the project's cached root file system, made once
    return root, out


def rehearse(project, *extra):
    root, out = project
    code = cli.main(["--flavour", "rehearse-tiny", "--stack", "dev", "--engine", "chroot", "--project", str(root),
                     "--out", str(out), *extra])
    report = json.loads((out / "dev-rehearse-tiny.json").read_text())
    assert mounts_under(out) == []
    return code, report


def test_a_tiny_flavour_passes_across_a_restart(project, capsys):
    code, report = rehearse(project)
    assert code == 0, capsys.readouterr().out
    assert report["result"] == "passed" and report["engine"] == "chroot"
    assert (report["base"], report["stand_in"]) == ("Ubuntu 24.04", "Debian 12")
    assert [(s["name"], s["phase"], s["status"]) for s in report["steps"]] == [
        ("os-updates", "build", "passed"), ("linux-packages", "build", "passed"), ("image-tests", "build", "passed"),
        ("os-updates", "validate", "passed"), ("linux-packages", "validate", "passed"),
        ("image-tests", "validate", "passed"), ("linux-packages", "test", "passed"), ("image-tests", "test", "passed")]
    assert "as a stand-in for Ubuntu 24.04" in capsys.readouterr().out
    junit = (project[1] / "dev-rehearse-tiny.junit.xml").read_text()
    assert 'tests="8"' in junit and 'failures="0"' in junit


def test_a_broken_step_script_fails_the_rehearsal_at_that_step_with_its_log(project, tmp_path, monkeypatch, capsys):
    broken = tmp_path / "catalogue" / "components" / "steps"
    shutil.copytree(steps.STEPS_DIR, broken)
    script = broken / "linux-packages" / "install.sh"
    text = script.read_text()
    line = 'retry apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${names[@]}"'
    assert line in text
    # A typical script mistake: a package name that does not exist in the distribution (without
    # retry(), whose pauses would add two and a half minutes).
    script.write_text(text.replace(line, 'apt-get install -y --no-install-recommends jq-typo-golden-images'))
    monkeypatch.setattr(loader, "load_catalogue", lambda: steps.load_catalogue(broken))
    started = time.monotonic()
    code, report = rehearse(project)
    out = capsys.readouterr().out
    assert code == 1 and report["result"] == "failed"
    statuses = [(s["name"], s["phase"], s["status"]) for s in report["steps"]]
    assert statuses[:2] == [("os-updates", "build", "passed"), ("linux-packages", "build", "failed")]
    assert all(status == "skipped" for _, _, status in statuses[2:])
    failed = report["steps"][1]
    assert failed["exit_code"] == 100
    log = Path(failed["log"]).read_text()
    assert "Unable to locate package jq-typo-golden-images" in log
    assert "----- log of linux-packages (build)" in out and "Unable to locate package jq-typo-golden-images" in out
    assert "not run: linux-packages (build) failed before it" in report["steps"][2]["reason"]
    assert time.monotonic() - started < 120


TRUSTING = """\
name: rehearse-trust
description: A Linux flavour whose script needs the network's CA bundle.
version: 1.0.0
os: linux
base_image:
  aws: ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id
steps:
  - script:
      inline: |
        for name in SSL_CERT_FILE CURL_CA_BUNDLE PIP_CERT REQUESTS_CA_BUNDLE GIT_SSL_CAINFO; do
          [ "${!name}" = "${SSL_CERT_FILE}" ] || { echo "$name is '${!name}'"; exit 1; }
        done
        grep -c 'BEGIN CERTIFICATE' "${SSL_CERT_FILE}"
        grep -q 'rehearsal-test-marker' "${SSL_CERT_FILE}"
        # systemctl works offline: no service manager runs here.
        [ "${SYSTEMD_OFFLINE}" = 1 ]
clouds: [aws]
"""


def test_a_ca_bundle_reaches_the_steps_for_the_rehearsal_only(project, tmp_path, capsys):
    root, out = project
    (root / "image_flavours" / "rehearse-trust.yaml").write_text(TRUSTING)
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("# rehearsal-test-marker\n" + Path("/etc/ssl/certs/ca-certificates.crt").read_text())
    code = cli.main(["--flavour", "rehearse-trust", "--stack", "dev", "--engine", "chroot", "--project", str(root),
                     "--out", str(out), "--ca-bundle", str(bundle)])
    printed = capsys.readouterr().out
    report = json.loads((out / "dev-rehearse-trust.json").read_text())
    assert code == 0, printed
    assert report["ca_bundle"] == str(bundle) and f"the steps trust {bundle}" in printed
    assert [(s["name"], s["status"]) for s in report["steps"]] == [("script", "passed")]
    # The bundle lived on the session's /run: the root file system, which becomes the image, has no copy.
    machine = out / "run" / "dev-rehearse-trust" / "root"
    assert not list(machine.rglob("golden-images-rehearse")), "the CA bundle was left in the root file system"
    assert mounts_under(out) == []


def test_clean_refuses_to_delete_through_a_mount(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("mount namespaces need root: run the tests as root (CI does)")
    victim = tmp_path / "build" / "root" / "dev"
    victim.mkdir(parents=True)
    (victim / "keep").write_text("host file")
    # Another mount namespace holds a mount below build/, as a running rehearsal would.
    holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                               f"mount -t tmpfs t '{victim}' && echo up && exec sleep 30"], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "up"
        assert mounts_under(tmp_path / "build") == [str(victim)]
        with pytest.raises(MountedError, match="refusing to delete"):
            safe_remove(tmp_path / "build")
        done = subprocess.run(["python3", "-m", "components.rehearse.mounts", "clean", str(tmp_path / "build")],
                              cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 1 and "refusing to delete" in done.stderr
        assert (victim / "keep").read_text() == "host file"
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    assert mounts_under(tmp_path / "build") == []
    safe_remove(tmp_path / "build")
    assert not (tmp_path / "build").exists()
