"""Every agent step leaves its services stopped and disabled, and its check proves it.

An agent baked into an image must not run on the build instance or start on the first boot
before configuration management has written its configuration (the API key, the collector's
pipeline) and starts it (see each step's README). Each Linux agent step's prepared install
script, the exact text the build instance runs, runs here in a temporary root against
stand-in systemctl, package managers, curl and gpg (tests/steps/standins.py). The stand-in
packages behave like the vendors' packages at their worst: the Datadog package's
post-install enables and starts its main unit. Then the step's prepared check runs against
the same machine and must pass, and fail once a unit is enabled or active again.
"""
from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from components.model.flavour import Flavour
from components.model.settings import StackSettings
from components.model.steps import load_catalogue
from tests.builds import build_of
from tests.steps.standins import Machine

CATALOGUE = load_catalogue()
SETTINGS = StackSettings.model_validate({
    "clouds": ["aws", "azure"],
    "schedule": {"every": "week", "on": "sunday"},
    "aws": {"region": "eu-west-1"},
    "azure": {"location": "westeurope"},
})

# systemctl verbs that would run a unit now or at boot (systemctl(1)); none may be called.
STARTING = {"start", "restart", "try-restart", "reload-or-restart", "try-reload-or-restart", "enable",
            "reenable", "preset", "preset-all", "isolate", "link", "add-wants", "add-requires"}


def prepared(step: str, cloud: str = "aws"):
    """The step as a Linux flavour on `cloud` builds it: install script and check with their prologue."""
    flavour = Flavour.model_validate({
        "name": "web", "description": "web", "version": "1.0.0", "os": "linux",
        "base_image": {"aws": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
                       "azure": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}},
        "steps": [step]})
    [found] = [s for s in build_of(flavour, SETTINGS, CATALOGUE).steps_on(cloud) if s.name == step]
    return found


def systemctl_verbs(machine: Machine) -> list[tuple[str, list[str]]]:
    calls = []
    for line in machine.calls("systemctl"):
        words = line.split()[1:]
        verb = next(w for w in words if not w.startswith("-"))
        calls.append((verb, words))
    return calls


def assert_left_stopped_and_disabled(machine: Machine, units: set[str]) -> None:
    assert units, "the agent installed units"
    assert not machine.unit_state("enabled") & units, "no unit of the agent is enabled"
    assert not machine.unit_state("active") & units, "no unit of the agent is running"
    for verb, words in systemctl_verbs(machine):
        assert verb not in STARTING, f"the script ran 'systemctl {' '.join(words)}'"
        assert "--now" not in words or verb == "disable", f"the script ran 'systemctl {' '.join(words)}'"
    # Not masked either: configuration management enables and starts them at boot.
    assert not machine.unit_state("masked") & units


# --- Datadog Agent: Datadog's signed apt or yum repository

DATADOG = prepared("datadog-agent")
DD_VERSION = DATADOG.environment["GI_PIN_DATADOG_AGENT_VERSION"]
# The fingerprints install.sh pins (keys.datadoghq.com DATADOG_APT_KEY_<last 8>.public).
DD_APT_KEYS = ["5F1E256061D813B125E156E8E6266D4AC0962C7D", "D75CEA17048B9ACBF186794B32637D44F14F620E",
               "A2923DFF56EDA6E76E55E492D3A80E30382E94DE"]
DD_RPM_KEYS = {"DATADOG_RPM_KEY_B01082D3.public": "0000000000000000000000000000000AB01082D3",
               "DATADOG_RPM_KEY_FD4BF915.public": "0000000000000000000000000000000AFD4BF915"}
# The Agent 7 package's systemd units (the main Agent, APM, process, system probe, security
# agent), each WantedBy/BindsTo datadog-agent.service; the -exp units belong to fleet upgrades.
DD_UNITS = {"datadog-agent.service", "datadog-agent-trace.service", "datadog-agent-process.service",
            "datadog-agent-sysprobe.service", "datadog-agent-security.service", "datadog-agent-exp.service"}

# The package: the agent binary (`agent version` prints "Agent <version> - Commit: ..."),
# the units, an example configuration without a key, and a post-install that enables and
# starts the main unit, as a package that starts its service on installation does.
DD_PACKAGE = r"""
version=${1#1:}; version=${version%-1}
mkdir -p /opt/datadog-agent/bin/agent /etc/datadog-agent
cat > /opt/datadog-agent/bin/agent/agent <<AGENT
#!/bin/bash
echo "Agent ${STANDIN_REPORTED_VERSION:-$version} - Commit: 1a2b3c4 - Serialization version: v5.0.150 - Go version: go1.24.6"
AGENT
chmod 0755 /opt/datadog-agent/bin/agent/agent
for unit in UNITS; do printf '[Unit]\nDescription=%s\n' "$unit" > "/usr/lib/systemd/system/$unit"; done
echo '# api_key:' > /etc/datadog-agent/datadog.yaml.example
mkdir -p /var/lib/standin/systemd/enabled /var/lib/standin/systemd/active
touch /var/lib/standin/systemd/enabled/datadog-agent.service /var/lib/standin/systemd/active/datadog-agent.service
""".replace("UNITS", " ".join(sorted(DD_UNITS)))


def datadog_machine(tmp_path, family: str = "debian") -> Machine:
    machine = Machine(tmp_path, without=("apt-get",) if family == "rhel" else ("dnf", "rpm"))
    machine.package("datadog-agent", DD_PACKAGE)
    for fingerprint in DD_APT_KEYS:
        machine.put(f"/standin/web/keys.datadoghq.com/DATADOG_APT_KEY_{fingerprint[-8:]}.public",
                    f"fingerprint {fingerprint}\n")
    for name, fingerprint in DD_RPM_KEYS.items():
        machine.put(f"/standin/web/keys.datadoghq.com/{name}", f"fingerprint {fingerprint}\n")
    return machine


@pytest.mark.parametrize("family", ["debian", "rhel"])
def test_datadog_agent_is_installed_pinned_then_left_stopped_and_disabled(tmp_path, family):
    machine = datadog_machine(tmp_path, family)
    result = machine.run(DATADOG.script)
    assert result.returncode == 0, result.stderr

    if family == "debian":
        [install] = [c for c in machine.calls("apt-get") if " install " in c]
        assert install.endswith(f"install -y datadog-agent=1:{DD_VERSION}-1")
        sources = machine.file("/var/lib/standin/sources-at-install.datadog-agent").read_text()
        keyring = "/usr/share/keyrings/datadog-archive-keyring.gpg"
        assert sources == f"deb [signed-by={keyring}] https://apt.datadoghq.com/ stable 7\n"
        # The keyring holds the three verified keys; the source list is gone again.
        assert machine.file(keyring).read_text().splitlines() == [f"binary fingerprint {f}" for f in DD_APT_KEYS]
        assert not machine.file("/etc/apt/sources.list.d/datadog.list").exists()
    else:
        [install] = machine.calls("dnf")
        assert install.endswith(f"install -y datadog-agent-{DD_VERSION}-1")
        assert len(machine.calls("rpm")) == len(DD_RPM_KEYS)
        repository = machine.file("/var/lib/standin/sources-at-install.datadog-agent").read_text()
        assert "gpgcheck=1" in repository and "repo_gpgcheck=1" in repository
        assert not machine.file("/etc/yum.repos.d/datadog.repo").exists()
    assert all(" --proto =https " in c for c in machine.calls("curl"))

    assert_left_stopped_and_disabled(machine, DD_UNITS)
    stopped = {words[-1] for verb, words in systemctl_verbs(machine) if verb == "stop"}
    assert stopped == DD_UNITS, "every unit was stopped, not only the one the package started"

    check = machine.run(DATADOG.check, "check.sh")
    assert check.returncode == 0, check.stderr
    assert f"{len(DD_UNITS)} unit(s) stopped and disabled" in check.stdout


@pytest.fixture(scope="module")
def datadog_installed(tmp_path_factory) -> Machine:
    """A Debian machine the Datadog step ran on; tests change clones of it."""
    machine = datadog_machine(tmp_path_factory.mktemp("datadog"))
    result = machine.run(DATADOG.script)
    assert result.returncode == 0, result.stderr
    return machine


@pytest.mark.parametrize("state, unit", [("enabled", "datadog-agent.service"), ("active", "datadog-agent-trace.service")])
def test_the_datadog_check_fails_when_a_unit_is_enabled_or_running(datadog_installed, tmp_path, state, unit):
    machine = datadog_installed.clone(tmp_path)
    assert machine.run(DATADOG.check, "check.sh").returncode == 0
    machine.set_unit(unit, state)
    check = machine.run(DATADOG.check, "check.sh")
    assert check.returncode == 1
    assert f"{unit} is " in check.stderr and "expected disabled and inactive" in check.stderr


def test_the_datadog_check_fails_on_a_baked_api_key(datadog_installed, tmp_path):
    machine = datadog_installed.clone(tmp_path)
    machine.put("/etc/datadog-agent/datadog.yaml", "api_key: 0123456789abcdef0123456789abcdef\n")
    check = machine.run(DATADOG.check, "check.sh")
    assert check.returncode == 1 and "contains an api_key" in check.stderr


def test_datadog_refuses_a_key_whose_fingerprint_is_not_pinned(tmp_path):
    machine = datadog_machine(tmp_path)
    machine.put(f"/standin/web/keys.datadoghq.com/DATADOG_APT_KEY_{DD_APT_KEYS[1][-8:]}.public",
                "fingerprint " + "F" * 32 + DD_APT_KEYS[1][-8:] + "\n")
    result = machine.run(DATADOG.script)
    assert result.returncode == 1 and "expected " + DD_APT_KEYS[1] in result.stderr
    assert not [c for c in machine.calls("apt-get") if " install " in c]


# --- OpenTelemetry Collector: the release archive, its own unit and user

OTEL = prepared("otel-collector")
OTEL_VERSION = OTEL.environment["GI_PIN_OTELCOL_CONTRIB_VERSION"]
OTEL_UNIT = "otelcol-contrib.service"


def otel_archive(version: str) -> bytes:
    """A release archive with an otelcol-contrib that reports its version as the real one does."""
    binary = f"#!/bin/bash\necho 'otelcol-contrib version {version}'\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data, mode in (("otelcol-contrib", binary, 0o755), ("README.md", b"readme\n", 0o644)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def otel_machine(tmp_path) -> Machine:
    machine = Machine(tmp_path)
    [download] = OTEL.downloads
    data = otel_archive(OTEL_VERSION)
    # AWSTOE's download action verifies the sha256 before the script runs; the stand-in file
    # lands where the download would, and its own checksum stands in for the pin's.
    machine.put(download.destination, data)
    assert hashlib.sha256(machine.file(download.destination).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    return machine


def test_otel_collector_installs_its_unit_and_user_and_leaves_the_unit_stopped_and_disabled(tmp_path):
    machine = otel_machine(tmp_path)
    result = machine.run(OTEL.script)
    assert result.returncode == 0, result.stderr
    assert f"otelcol-contrib version {OTEL_VERSION}" in result.stdout

    assert machine.file("/usr/local/bin/otelcol-contrib").stat().st_mode & 0o777 == 0o755
    unit = machine.file(f"/etc/systemd/system/{OTEL_UNIT}").read_text()
    assert "User=otelcol-contrib" in unit and "ConditionPathExists=/etc/otelcol-contrib/config.yaml" in unit
    assert any(line.startswith("otelcol-contrib:") for line in machine.file("/etc/passwd").read_text().splitlines())
    assert not machine.file("/etc/otelcol-contrib/config.yaml").exists()

    assert_left_stopped_and_disabled(machine, {OTEL_UNIT})
    verbs = systemctl_verbs(machine)
    assert ("daemon-reload", ["daemon-reload"]) in verbs
    assert {v for v, _ in verbs} == {"daemon-reload", "disable", "stop"}

    check = machine.run(OTEL.check, "check.sh")
    assert check.returncode == 0, check.stderr
    assert "unit disabled and inactive, no configuration baked" in check.stdout


@pytest.fixture(scope="module")
def otel_installed(tmp_path_factory) -> Machine:
    """A machine the collector step ran on; tests change clones of it."""
    machine = otel_machine(tmp_path_factory.mktemp("otel"))
    result = machine.run(OTEL.script)
    assert result.returncode == 0, result.stderr
    return machine


def test_otel_collector_run_again_keeps_the_unit_disabled(otel_installed, tmp_path):
    """A retried step (the binary already there, the user too) changes nothing and still passes."""
    machine = otel_installed.clone(tmp_path)
    again = machine.run(OTEL.script)
    assert again.returncode == 0, again.stderr
    assert f"{OTEL_VERSION} already installed" in again.stdout
    assert len(machine.calls("useradd")) == 1
    assert_left_stopped_and_disabled(machine, {OTEL_UNIT})
    assert machine.run(OTEL.check, "check.sh").returncode == 0


@pytest.mark.parametrize("state", ["enabled", "active"])
def test_the_otel_check_fails_when_the_unit_is_enabled_or_running(otel_installed, tmp_path, state):
    machine = otel_installed.clone(tmp_path)
    machine.set_unit(OTEL_UNIT, state)
    check = machine.run(OTEL.check, "check.sh")
    assert check.returncode == 1
    assert "expected disabled and inactive" in check.stderr


def test_the_otel_check_fails_on_a_baked_configuration(otel_installed, tmp_path):
    machine = otel_installed.clone(tmp_path)
    machine.put("/etc/otelcol-contrib/config.yaml", "receivers: {}\n")
    check = machine.run(OTEL.check, "check.sh")
    assert check.returncode == 1 and "baked into the image" in check.stderr


# --- CloudWatch agent: AWS's managed component installs it; the step's check judges the result

CLOUDWATCH = prepared("cloudwatch-agent")
CW_UNIT = "amazon-cloudwatch-agent.service"


def cloudwatch_machine(tmp_path) -> Machine:
    machine = Machine(tmp_path)
    machine.put("/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl", "#!/bin/bash\n", 0o755)
    machine.put("/opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION", "1.300057.1\n")
    machine.put(f"/usr/lib/systemd/system/{CW_UNIT}", "[Unit]\nDescription=Amazon CloudWatch Agent\n")
    return machine


def test_cloudwatch_is_aws_managed_on_linux_and_its_check_passes_when_stopped_and_disabled(tmp_path):
    assert CLOUDWATCH.script is None and CLOUDWATCH.aws_managed_component == "amazon-cloudwatch-agent-linux"
    machine = cloudwatch_machine(tmp_path)
    check = machine.run(CLOUDWATCH.check, "check.sh")
    assert check.returncode == 0, check.stderr
    assert "version 1.300057.1" in check.stdout and "not running, not enabled" in check.stdout


@pytest.mark.parametrize("state", ["enabled", "active"])
def test_the_cloudwatch_check_fails_when_the_agent_is_enabled_or_running(tmp_path, state):
    machine = cloudwatch_machine(tmp_path)
    machine.set_unit(CW_UNIT, state)
    check = machine.run(CLOUDWATCH.check, "check.sh")
    assert check.returncode == 1 and "configured and started at boot" in check.stderr


def test_the_cloudwatch_check_fails_without_the_agent(tmp_path):
    machine = cloudwatch_machine(tmp_path)
    machine.file("/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl").unlink()
    check = machine.run(CLOUDWATCH.check, "check.sh")
    assert check.returncode == 1 and "is missing" in check.stderr


# --- Every agent step is covered

COVERED = {"datadog-agent", "otel-collector", "cloudwatch-agent"}


def test_every_linux_agent_step_is_covered_here():
    linux_agents = {name for name, step in CATALOGUE.steps.items()
                    if step.spec.category == "agent" and "linux" in step.spec.os}
    assert linux_agents == COVERED, "a Linux agent step needs its services test here"
