"""linux-packages and os-updates on each distribution family: the right package manager runs,
with pinned versions in its own syntax.

Each test plays one distribution by putting only its package manager (a stand-in that records
its arguments) on PATH: apt-get (Debian, Ubuntu), dnf (RHEL 8/9, Amazon Linux 2023), yum only
(Amazon Linux 2 has no dnf) and zypper (SUSE).
"""
from __future__ import annotations

import pytest

from tests.steps.path_standins import Machine, rendered, tools_folder

HIDDEN = ("apt", "dnf", "yum", "zypper", "rpm", "dpkg", "sleep", "needs-restarting")


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    return tools_folder(tmp_path_factory.mktemp("tools"), HIDDEN)


@pytest.fixture
def machine(tmp_path, tools) -> Machine:
    m = Machine(tmp_path, tools)
    m.stand_in("sleep")
    return m


PINNED = ["curl", "nginx=1.24.0-1.el9"]


@pytest.mark.parametrize("manager, expected", [
    # apt: `apt-get install pkg=version` selects a version (apt-get(8)).
    ("apt-get", "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends curl nginx=1.24.0-1.el9"),
    # dnf and yum take a package spec NAME-VERSION(-RELEASE) (dnf(8) "Package specification").
    ("dnf", "dnf install -y curl nginx-1.24.0-1.el9"),
    ("yum", "yum install -y curl nginx-1.24.0-1.el9"),
    # zypper: `zypper install name=version` (zypper(8) "install ... name=version").
    ("zypper", "zypper --non-interactive install --no-recommends curl nginx=1.24.0-1.el9"),
])
def test_linux_packages_uses_the_distributions_manager(machine, manager, expected):
    machine.stand_in(manager)
    result = machine.run(rendered("linux-packages", {"packages": PINNED}))
    assert result.returncode == 0, result.stderr
    assert expected in machine.calls()
    assert f"with {manager}" in result.stdout


def test_amazon_linux_2_with_only_yum_installs(machine):
    """Amazon Linux 2 has yum and no dnf: the step used to fail there with 'no supported package manager'."""
    machine.stand_in("yum")
    result = machine.run(rendered("linux-packages", {"packages": ["jq"]}))
    assert result.returncode == 0, result.stderr
    assert machine.calls() == ["yum install -y jq"]


def test_apt_is_preferred_and_updates_its_lists_first(machine):
    machine.stand_in("apt-get")
    machine.stand_in("dnf")
    assert machine.run(rendered("linux-packages", {"packages": ["jq"]})).returncode == 0
    calls = machine.calls()
    assert calls[0] == "apt-get -o DPkg::Lock::Timeout=600 update"
    assert not [c for c in calls if c.startswith("dnf")]


def test_no_package_manager_fails_naming_the_four(machine):
    result = machine.run(rendered("linux-packages", {"packages": ["jq"]}))
    assert result.returncode == 1
    assert "apt-get, dnf, yum or zypper" in result.stderr


def test_a_failing_install_is_retried_then_fails(machine):
    machine.stand_in("yum", "exit 1")
    result = machine.run(rendered("linux-packages", {"packages": ["jq"]}))
    assert result.returncode != 0
    assert machine.calls().count("yum install -y jq") == 5


# The check reads the rpm database (dnf, yum and zypper all install into it).
RPM = r"""
name="${@: -1}"
case "$name" in
  nginx) ;;
  *) exit 1 ;;
esac
case "$*" in
  *"%{EPOCHNUM}"*) printf '1:1.24.0-1.el9' ;;
  *"%{VERSION}-%{RELEASE}"*) printf '1.24.0-1.el9' ;;
  *"%{VERSION}"*) printf '1.24.0' ;;
esac
"""


@pytest.mark.parametrize("pin", ["nginx", "nginx=1.24.0-1.el9", "nginx=1.24.0", "nginx=1:1.24.0-1.el9"])
def test_rpm_check_accepts_the_installed_version(machine, pin):
    machine.stand_in("rpm", RPM)
    result = machine.run(rendered("linux-packages", {"packages": [pin]}, "check"))
    assert result.returncode == 0, result.stderr


def test_rpm_check_refuses_another_version_and_a_missing_package(machine):
    machine.stand_in("rpm", RPM)
    result = machine.run(rendered("linux-packages", {"packages": ["nginx=1.26.0", "jq"]}, "check"))
    assert result.returncode == 1
    assert "nginx is 1.24.0-1.el9, expected 1.26.0" in result.stderr
    assert "jq is not installed" in result.stderr


@pytest.mark.parametrize("manager, expected", [
    ("apt-get", "apt-get -o DPkg::Lock::Timeout=600 -y -o Dpkg::Options::=--force-confdef "
                "-o Dpkg::Options::=--force-confold -o APT::Get::Always-Include-Phased-Updates=true dist-upgrade"),
    ("dnf", "dnf -y --exclude=kernel upgrade --refresh"),
    # yum(8): `update` with `--exclude` (yum has no `upgrade --refresh`).
    ("yum", "yum -y --exclude=kernel update"),
    ("zypper", "zypper --non-interactive update --auto-agree-with-licenses"),
])
def test_os_updates_uses_the_distributions_manager(machine, manager, expected):
    machine.stand_in(manager)
    machine.stand_in("apt-mark")
    result = machine.run(rendered("os-updates", {"exclude": ["kernel"]}))
    assert result.returncode == 0, result.stderr
    assert expected in machine.calls()


def test_zypper_holds_excluded_packages_with_a_lock_then_releases_it(machine):
    machine.stand_in("zypper")
    assert machine.run(rendered("os-updates", {"exclude": ["kernel-default"]})).returncode == 0
    calls = machine.calls()
    lock = calls.index("zypper --non-interactive addlock kernel-default")
    update = calls.index("zypper --non-interactive update --auto-agree-with-licenses")
    assert lock < update < calls.index("zypper --non-interactive removelock kernel-default")


@pytest.mark.parametrize("manager", ["dnf", "yum"])
def test_os_updates_check_on_rpm_systems(machine, manager):
    # check-update exits 100 with a list when updates are pending, 0 when none (yum(8), dnf(8)).
    machine.stand_in(manager, 'if [ -f "$STATE/pending" ]; then cat "$STATE/pending"; exit 100; fi; exit 0')
    check = rendered("os-updates", {"exclude": ["kernel"]}, "check")
    assert machine.run(check).returncode == 0
    (machine.state / "pending").write_text("kernel.x86_64  5.14.0-500.el9  baseos\n")
    assert machine.run(check).returncode == 0  # held back on purpose
    (machine.state / "pending").write_text("openssl.x86_64  3.0.7-29.el9  baseos\n")
    result = machine.run(check)
    assert result.returncode == 1
    assert "openssl.x86_64" in result.stderr


def test_os_updates_check_on_zypper(machine):
    listing = ("S | Repository | Name | Current Version | Available Version | Arch\n"
               "--+------------+------+-----------------+-------------------+-------\n"
               "v | SLE-Updates | openssl-3 | 3.1.4-1 | 3.1.4-2 | x86_64\n")
    machine.stand_in("zypper", f'if [ -f "$STATE/pending" ]; then printf %s "{listing}"; fi')
    check = rendered("os-updates", {}, "check")
    assert machine.run(check).returncode == 0
    (machine.state / "pending").write_text("")
    result = machine.run(check)
    assert result.returncode == 1
    assert "openssl-3" in result.stderr
