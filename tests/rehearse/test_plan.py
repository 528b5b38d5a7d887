"""Which actions a rehearsal runs, in which phase and session, and what it skips and why."""
from pathlib import Path

import pytest

from components.plan import ROOT
from components.rehearse.engines import base_of
from components.rehearse.plan import plan_actions, suite_needs
from components.rehearse.source import Fetch, Rehearsal, RehearsalError, StepSpec, load_rehearsal


def rehearsal(*steps, cloud="aws") -> Rehearsal:
    return Rehearsal(flavour="f", stack="dev", os="linux", cloud=cloud, base_aws=None, base_azure=None, steps=steps)


def step(name, **kw) -> StepSpec:
    kw.setdefault("script", f"echo {name}")
    return StepSpec(name=name, check=f"echo check {name}", **kw)


def test_build_then_validate_then_test_in_the_build_instances_order():
    actions = plan_actions(rehearsal(step("a"), step("b", image_test=False), step("c")))
    assert [(a.phase, a.step) for a in actions] == [
        ("build", "a"), ("build", "b"), ("build", "c"),
        ("validate", "a"), ("validate", "b"), ("validate", "c"),
        ("test", "a"), ("test", "c")]
    assert [a.index for a in actions] == list(range(1, 9))
    assert actions[0].script == "echo a" and actions[3].script == "echo check a"
    assert actions[0].script_path == "/var/tmp/golden-images-steps/a-install.sh"
    assert actions[3].script_path == "/var/tmp/golden-images-steps/a-check.sh"


def test_a_restart_ends_the_session_and_the_test_phase_is_a_new_machine():
    actions = plan_actions(rehearsal(step("updates", reboot_after=True), step("b")))
    sessions = {(a.phase, a.step): a.session for a in actions}
    assert sessions[("build", "updates")] == 1
    assert sessions[("build", "b")] == sessions[("validate", "b")] == 2
    assert sessions[("test", "b")] == 3


def test_run_options_come_from_the_prepared_step():
    fetch = Fetch(url="https://example.com/x", sha256="0" * 64, destination="/var/tmp/golden-images/downloads/x")
    [build, check, _] = plan_actions(rehearsal(step("a", valid_exit_codes=(0, 3010), retries=2, timeout_minutes=5,
                                                    fetches=(fetch,))))
    assert (build.valid_exit_codes, build.attempts, build.timeout_seconds, build.fetches) == ((0, 3010), 3, 300, (fetch,))
    assert (check.valid_exit_codes, check.attempts, check.fetches) == ((0,), 1, ())


def test_managed_components_and_requested_skips_are_listed_with_the_reason():
    actions = plan_actions(rehearsal(step("cw", script=None, managed_component="amazon-cloudwatch-agent-linux"),
                                     step("ansible")), skip={"ansible": "needs Python 3.12"})
    reasons = {(a.phase, a.step): a.skip_reason for a in actions}
    assert "AWS-managed component amazon-cloudwatch-agent-linux" in reasons[("build", "cw")]
    assert reasons[("validate", "cw")].startswith("its build is not rehearsed")
    assert reasons[("build", "ansible")] == "skipped on request (--skip ansible): needs Python 3.12"
    assert all(a.script is None for a in actions)


def test_suite_needs_reads_the_comment_above_a_test():
    suite = "# needs: datadog-agent\ntest_dd() {\n  true\n}\n\ntest_plain() { true; }\n# needs: a, b\nfunction test_two() { :; }\n"
    assert suite_needs(suite) == {"test_dd": ["datadog-agent"], "test_two": ["a", "b"]}


def test_the_shipped_linux_flavour_is_rehearsed_with_awss_steps():
    r = load_rehearsal("dev", "ubuntu-2404", ROOT)
    assert (r.cloud, r.os) == ("aws", "linux")
    assert [s.name for s in r.steps] == ["os-updates", "linux-packages", "datadog-agent", "otel-collector",
                                         "cloudwatch-agent", "ansible-playbook", "linux-baseline", "image-tests", "image-tests",
                                         "cleanup"]
    by_name = {s.name: s for s in r.steps}
    assert by_name["os-updates"].reboot_after and not by_name["os-updates"].image_test
    assert by_name["cloudwatch-agent"].managed_component == "amazon-cloudwatch-agent-linux"
    # The playbook folder and the step's own locks and helpers.
    assets = by_name["ansible-playbook"].fetches
    assert len(assets) == 3
    assert all(Path(a.local).is_file() and a.url.startswith("asset:") for a in assets)
    assert "export GI_PARAM_PACKAGES='ca-certificates curl gnupg jq unzip'" in by_name["linux-packages"].script
    assert base_of(r.base_aws, r.base_azure).image == "ubuntu:24.04"


def test_a_windows_flavour_is_refused_with_the_reason():
    with pytest.raises(RehearsalError, match="windows flavour: only Linux flavours can be rehearsed"):
        load_rehearsal("dev", "windows-2022-core-dotnet", ROOT)


def test_an_unknown_flavour_names_the_known_ones():
    with pytest.raises(RehearsalError, match="no flavour 'nope'.*ubuntu-2404"):
        load_rehearsal("dev", "nope", ROOT)


@pytest.mark.parametrize("aws,azure,label,image", [
    ("ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", None, "Ubuntu 24.04", "ubuntu:24.04"),
    (None, "Canonical:ubuntu-24_04-lts:server", "Ubuntu 24.04", "ubuntu:24.04"),
    ("ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", None, "Amazon Linux 2023", "amazonlinux:2023"),
])
def test_the_container_image_matches_the_base(aws, azure, label, image):
    base = base_of(aws, azure)
    assert (base.label, base.image) == (label, image)


def test_each_use_of_a_step_used_twice_is_its_own_and_a_script_without_a_check_has_no_check_action():
    no_check = StepSpec(name="script", script="echo only a build", check=None)
    actions = plan_actions(rehearsal(step("image-tests"), no_check, step("image-tests")))
    assert [(a.phase, a.use) for a in actions] == [
        ("build", "image-tests#1"), ("build", "script"), ("build", "image-tests#2"),
        ("validate", "image-tests#1"), ("validate", "image-tests#2"),
        ("test", "image-tests#1"), ("test", "image-tests#2")]
