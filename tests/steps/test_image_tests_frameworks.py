"""image-tests with goss, InSpec (Cinc Auditor) and suites of any size as build assets.

What the build machine receives (AWSTOE phases, AIB customizers and validators), the Linux runner
run against stand-in `goss` and `cinc-auditor` commands in a throwaway root, and each refusal
with file, field and reason."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from components.aws.render.documents import component_phases
from components.azure.render.customizers import render_customizers, render_validations
from components.model.loader import load_inputs
from components.model.steps import load_catalogue
from tests.builds import builds_of
from tests.flavour_folders import WINDOWS, folder_with, refused
from tests.samples import stack_config, ubuntu_flavour
from tests.steps.standins import Machine

CATALOGUE = load_catalogue()
GOSS = CATALOGUE.pins["goss"].downloads["linux"]
CINC = CATALOGUE.pins["cinc-auditor"].downloads["linux"]
ASSET_STORE = "https://example.blob.core.windows.net/build-assets"
GOSSFILES = {
    "tests/web-goss/goss.yaml": "gossfile:\n  packages.yaml: {}\n",
    "tests/web-goss/packages.yaml": "package:\n  curl:\n    installed: true\n",
}
PROFILE = {
    "tests/web-inspec/inspec.yml": "name: web\nversion: 1.0.0\n",
    "tests/web-inspec/controls/ssh.rb": "control 'ssh-1' do\n  describe sshd_config do\n    its('PermitRootLogin') { should eq 'no' }\n  end\nend\n",
}


def _build(tmp_path: Path, steps: str, files: dict):
    folder = folder_with(tmp_path, {"web.yaml": ubuntu_flavour() + steps, **files})
    inputs = load_inputs(stack_config(), "Pulumi.dev.yaml", folder, tmp_path)
    return next(iter(builds_of(inputs).values()))


def _tests_step(build, cloud: str):
    return next(s for s in build.steps_on(cloud) if s.name == "image-tests")


GOSS_USE = "  - image-tests: {framework: goss, tests: tests/web-goss}\n"
INSPEC_USE = "  - image-tests: {framework: inspec, tests: tests/web-inspec}\n"


# What the clouds receive -------------------------------------------------------------


def test_aws_fetches_goss_and_the_suite_in_every_phase_that_runs_it(tmp_path):
    step = _tests_step(_build(tmp_path, GOSS_USE, GOSSFILES), "aws")
    asset = step.params["tests"]
    phases = {p["name"]: p["steps"] for p in component_phases(step)}
    for name in ("build", "validate", "test"):
        actions = phases[name]
        # AWSTOE WebDownload verifies only with both checksum and algorithm (REFERENCE: AWSTOE).
        assert actions[0] == {"name": "Download", "action": "WebDownload", "inputs": [{
            "source": GOSS["url"], "destination": f"/var/tmp/golden-images/downloads/{GOSS['file']}",
            "checksum": GOSS["sha256"], "algorithm": "SHA256", "overwrite": True}]}
        # The suite is a build asset: S3Download from the stack's asset bucket, never inline.
        assert actions[1] == {"name": "DownloadAssets", "action": "S3Download", "inputs": [{
            "source": "s3://{{ AssetBucket }}/" + asset.key,
            "destination": f"/var/tmp/golden-images/assets/{asset.sha256}.tar.gz", "overwrite": True}]}
        script = actions[2]["inputs"][0]["content"]
        assert f"export GI_ASSET_TESTS_SHA256='{asset.sha256}'" in script
        assert f"export GI_DOWNLOAD_GOSS_SHA256='{GOSS['sha256']}'" in script
        assert 'validate --format junit --no-color' in script
        assert "packages.yaml" not in script  # the gossfiles travel in the archive
        assert actions[3]["action"] == "ExecuteBash"


def test_a_shell_or_pester_suite_given_inline_fetches_nothing(tmp_path):
    step = _tests_step(_build(tmp_path, "  - image-tests: {suite: tests/web.sh}\n",
                              {"tests/web.sh": "test_curl() { command -v curl; }\n"}), "aws")
    assert step.downloads == ()
    assert [p["name"] for p in component_phases(step)] == ["build", "validate", "test"]
    assert all(a["action"] in ("CreateFile", "ExecuteBash") for p in component_phases(step) for a in p["steps"])


def test_azure_fetches_cinc_auditor_and_the_profile_for_the_step_and_again_for_its_validation(tmp_path):
    step = _tests_step(_build(tmp_path, INSPEC_USE, PROFILE), "azure")
    asset = step.params["tests"]
    customizers = render_customizers([step], ASSET_STORE)
    validations = render_validations([step], ASSET_STORE)
    for items in (customizers, validations):
        files = [c for c in items if c["type"] == "File"]
        # AIB's File customizer/validator verifies sha256Checksum; on Linux it writes to /tmp only.
        assert {(f["sourceUri"], f["sha256Checksum"]) for f in files} == {
            (CINC["url"], CINC["sha256"]), (f"{ASSET_STORE}/{asset.key}", asset.sha256)}
        assert all(f["destination"].startswith("/tmp/") for f in files)
        place = next(c for c in items if c["type"] == "Shell" and "place-downloads" in c["name"])
        assert any(line.startswith("sudo mv -f ") for line in place["inline"])
    check = validations[-1]
    assert check["type"] == "Shell" and check["name"].endswith("-check")
    names = [v["name"] for v in validations]
    assert names.index(check["name"]) > max(i for i, v in enumerate(validations) if v["type"] == "File")
    # The customizers' copies are cleaned up before the validations run their own.
    assert customizers[-1]["name"] == "cleanup-downloads"


def test_a_pinned_download_only_for_the_framework_that_needs_it(tmp_path):
    goss = _tests_step(_build(tmp_path / "a", GOSS_USE, GOSSFILES), "aws")
    inspec = _tests_step(_build(tmp_path / "b", INSPEC_USE, PROFILE), "aws")
    assert [d.pin for d in goss.downloads] == ["goss", "asset-tests"]
    assert [d.pin for d in inspec.downloads] == ["cinc-auditor", "asset-tests"]


# Refusals -----------------------------------------------------------------------------


def test_goss_and_inspec_on_windows_are_refused_with_the_reason(tmp_path):
    problems = refused(tmp_path, {"win.yaml": WINDOWS + """\
  - image-tests: {framework: goss, tests: tests/web-goss}
  - image-tests: {framework: inspec, tests: tests/web-inspec}
""", **GOSSFILES, **PROFILE})
    assert any(p.startswith("image_flavours/win.yaml: steps[0].image-tests.framework: 'goss' does not run on a "
                            "windows flavour: goss publishes only an alpha Windows build") for p in problems), problems
    assert any(p.startswith("image_flavours/win.yaml: steps[1].image-tests.framework: 'inspec' does not run on a "
                            "windows flavour: no Windows InSpec") for p in problems), problems
    assert not any("(use pester)" in p for p in problems)  # one reason, not two


def test_an_inspec_folder_without_inspec_yml_is_refused(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + INSPEC_USE,
                                  "tests/web-inspec/controls/ssh.rb": "control 'x' do\nend\n"})
    assert problems == ["image_flavours/web.yaml: steps[0].image-tests.tests: 'tests/web-inspec' must be a folder "
                        "holding inspec.yml at its top with framework: inspec"]


def test_an_inspec_profile_given_as_a_file_is_refused(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + "  - image-tests: {framework: inspec, tests: tests/x.rb}\n",
                                  "tests/x.rb": "control 'x' do\nend\n"})
    assert problems == ["image_flavours/web.yaml: steps[0].image-tests.tests: 'tests/x.rb' must be a folder "
                        "holding inspec.yml at its top with framework: inspec"]


def test_a_missing_suite_folder_is_refused(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + GOSS_USE})
    assert problems == ["image_flavours/web.yaml: steps[0].image-tests.tests: no file or folder 'tests/web-goss' "
                        "in image_flavours/"]


def test_goss_needs_a_tests_asset_not_an_inline_suite(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + "  - image-tests: {framework: goss, suite: tests/g.yaml}\n",
                                  "tests/g.yaml": "package: {}\n"})
    assert any(p.startswith("image_flavours/web.yaml: steps[0].image-tests.tests: required with framework: goss")
               for p in problems), problems


def test_suite_and_tests_together_or_neither_are_refused(tmp_path):
    both = refused(tmp_path / "a", {"web.yaml": ubuntu_flavour() + "  - image-tests: {suite: tests/s.sh, tests: tests/s.sh}\n",
                                    "tests/s.sh": "test_a() { true; }\n"})
    neither = refused(tmp_path / "b", {"web.yaml": ubuntu_flavour() + "  - image-tests: {framework: shell}\n"})
    assert "image_flavours/web.yaml: steps[0].image-tests: give only one of suite, tests (got suite, tests)" in both
    assert "image_flavours/web.yaml: steps[0].image-tests: give one of suite, tests (got none)" in neither


def test_pester_on_linux_is_refused(tmp_path):
    problems = refused(tmp_path, {"web.yaml": ubuntu_flavour() + "  - image-tests: {framework: pester, suite: tests/s.sh}\n",
                                  "tests/s.sh": "test_a() { true; }\n"})
    assert problems == ["image_flavours/web.yaml: steps[0].image-tests.framework: 'pester' does not run on a linux "
                        "flavour: Pester is a PowerShell module; on Linux use shell, goss or inspec"]


# The runner against stand-ins ------------------------------------------------------------

JUNIT_PASS = ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="goss" errors="0" tests="2" failures="0" '
              'skipped="0" time="0.01">\n<testcase name="Package: curl: installed"/>\n<testcase name="b"/>\n</testsuite>\n')
JUNIT_FAIL = JUNIT_PASS.replace('failures="0"', 'failures="1"')
JUNIT_EMPTY = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="goss" errors="0" tests="0" failures="0">\n</testsuite>\n'
GOSS_BINARY = "#!/bin/bash\n# stand-in goss: prints the JUnit results the test chose, exits as it chose\n" \
              'echo "goss $*" >> /var/log/standin/calls.log\ncat /standin/goss-output 2>/dev/null || true\n' \
              'exit "$(cat /standin/goss-exit)"\n'


def _machine(base: Path) -> Machine:
    base.mkdir(parents=True, exist_ok=True)
    return Machine(base)


def _run(tmp_path: Path, step, binary_pin: dict, binary: str, extra: dict) -> tuple[Machine, object]:
    """Place the step's downloads as the renderers would (the stand-in binary under the pinned name,
    the script's pin made the stand-in's sha256), then run the rendered script."""
    machine = Machine(tmp_path)
    asset = step.params["tests"]
    machine.put(asset.destination("linux"), asset.data)
    machine.put(f"/var/tmp/golden-images/downloads/{binary_pin['file']}", binary, 0o644)
    for path, content in extra.items():
        machine.put(path, content, 0o755)
    script = step.script.replace(binary_pin["sha256"], hashlib.sha256(binary.encode()).hexdigest())
    return machine, machine.run(script)


@pytest.fixture(scope="module")
def goss_step(tmp_path_factory):
    return _tests_step(_build(tmp_path_factory.mktemp("goss"), GOSS_USE, GOSSFILES), "aws")


@pytest.mark.parametrize("output, code, passes, says", [
    (JUNIT_PASS, 0, True, "goss: 2 tests, 2 passed, 0 failed"),
    (None, 0, False, "goss wrote no results file"),
    (JUNIT_EMPTY, 0, False, "the suite ran no test"),
    (JUNIT_FAIL, 1, False, "1 test(s) failed"),
    (JUNIT_FAIL, 0, False, "1 test(s) failed"),  # the results decide, whatever the exit code
    (JUNIT_PASS, 1, False, "goss exited 1 although its results show no failure"),
    (JUNIT_PASS, 2, False, "goss failed to run (exit code 2)"),
])
def test_the_goss_runner_passes_only_on_a_results_file_with_tests_and_no_failure(goss_step, tmp_path, output, code,
                                                                                 passes, says):
    extra = {"/standin/goss-exit": str(code)}
    if output is not None:
        extra["/standin/goss-output"] = output
    machine, result = _run(tmp_path, goss_step, GOSS, GOSS_BINARY, extra)
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    assert says in result.stdout + result.stderr
    (call,) = machine.calls("goss")
    assert call.endswith("/goss.yaml validate --format junit --no-color")
    downloads = [machine.file(goss_step.environment["GI_DOWNLOAD_GOSS"]), machine.file(goss_step.environment["GI_ASSET_TESTS"])]
    # Passed: nothing of goss or the suite stays in the image; failed: kept for a retry.
    assert all(p.exists() is not passes for p in downloads)


def test_the_goss_runner_refuses_a_binary_whose_sha256_is_not_the_pin(goss_step, tmp_path):
    machine = Machine(tmp_path)
    asset = goss_step.params["tests"]
    machine.put(asset.destination("linux"), asset.data)
    machine.put(f"/var/tmp/golden-images/downloads/{GOSS['file']}", GOSS_BINARY)
    result = machine.run(goss_step.script)
    assert result.returncode == 1
    assert f"expected {GOSS['sha256']}" in result.stderr
    assert machine.calls("goss") == []


def test_the_goss_runner_refuses_a_suite_archive_that_changed(goss_step, tmp_path):
    machine = Machine(tmp_path)
    machine.put(goss_step.params["tests"].destination("linux"), b"not the archive")
    machine.put(f"/var/tmp/golden-images/downloads/{GOSS['file']}", GOSS_BINARY)
    result = machine.run(goss_step.script.replace(GOSS["sha256"], hashlib.sha256(GOSS_BINARY.encode()).hexdigest()))
    assert result.returncode == 1 and "the suite archive (tests/web-goss) has sha256" in result.stderr


# InSpec: dpkg-deb "unpacks" a stand-in cinc-auditor that writes the junit2 file it is given.
DPKG_DEB = """#!/bin/bash
echo "dpkg-deb $*" >> /var/log/standin/calls.log
mkdir -p "$3/opt/cinc-auditor/bin"
cat > "$3/opt/cinc-auditor/bin/cinc-auditor" <<'AUDITOR'
#!/bin/bash
echo "cinc-auditor $*" >> /var/log/standin/calls.log
for arg in "$@"; do case "$arg" in junit2:*) out="${arg#junit2:}" ;; esac; done
if [ -f /standin/inspec-output ]; then cat /standin/inspec-output > "$out"; fi
exit "$(cat /standin/inspec-exit)"
AUDITOR
chmod 0755 "$3/opt/cinc-auditor/bin/cinc-auditor"
"""
INSPEC_PASS = ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="web" tests="3" failures="0" '
               'errors="0" skipped="0">\n<testcase name="ssh-1" classname="web.ssh-1"/>\n</testsuite>\n</testsuites>\n')
INSPEC_SKIPPED = INSPEC_PASS.replace('skipped="0"', 'skipped="1"')
INSPEC_ALL_SKIPPED = INSPEC_PASS.replace('skipped="0"', 'skipped="3"')
INSPEC_FAILED = INSPEC_PASS.replace('failures="0"', 'failures="2"')


@pytest.fixture(scope="module")
def inspec_step(tmp_path_factory):
    return _tests_step(_build(tmp_path_factory.mktemp("inspec"), INSPEC_USE, PROFILE), "aws")


@pytest.mark.parametrize("output, code, passes, says", [
    (INSPEC_PASS, 0, True, "inspec: 3 tests, 3 passed, 0 failed"),
    # InSpec exits 101 when controls were skipped and none failed, 100 when any failed
    # (Inspec::RunnerRspec#exit_code with distinct exit codes, its default).
    (INSPEC_SKIPPED, 101, True, "inspec: 3 tests, 2 passed, 0 failed, 0 errors, 1 skipped"),
    (INSPEC_ALL_SKIPPED, 101, False, "no test passed (every test was skipped)"),
    (INSPEC_FAILED, 100, False, "2 test(s) failed"),
    (None, 0, False, "inspec wrote no results file"),
    (INSPEC_PASS, 1, False, "cinc-auditor failed to run (exit code 1)"),
])
def test_the_inspec_runner_reads_exit_codes_and_the_junit2_file(inspec_step, tmp_path, output, code, passes, says):
    extra = {"/standin/inspec-exit": str(code), "/standin/bin/dpkg-deb": DPKG_DEB}
    if output is not None:
        extra["/standin/inspec-output"] = output
    machine, result = _run(tmp_path, inspec_step, CINC, "stand-in cinc-auditor package\n", extra)
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    assert says in result.stdout + result.stderr
    assert machine.calls("dpkg-deb") == [f"dpkg-deb -x /var/tmp/golden-images/downloads/{CINC['file']} /"]
    (call,) = machine.calls("cinc-auditor")
    assert " --reporter cli junit2:" in call and call.startswith("cinc-auditor exec /")
    # Unpacked for the run only: nothing of Cinc Auditor stays in the image.
    assert not machine.file("/opt/cinc-auditor").exists()


# Shell suites of any size as a build asset ---------------------------------------------------


def _shell_step(tmp_path: Path, files: dict):
    return _tests_step(_build(tmp_path, "  - image-tests: {tests: tests/web-shell}\n", files), "aws")


def test_a_folder_of_shell_suites_runs_every_test_and_writes_junit(tmp_path):
    big = "".join(f"test_number_{n}() {{ [ {n} -ge 0 ]; }}\n" for n in range(300))  # far over 4,000 characters
    step = _shell_step(tmp_path / "b", {"tests/web-shell/a.sh": big, "tests/web-shell/more/b.sh": "test_b() { true; }\n"})
    assert len(big) > 4000
    machine = _machine(tmp_path / "m")
    machine.put(step.params["tests"].destination("linux"), step.params["tests"].data)
    result = machine.run(step.script)
    assert result.returncode == 0, result.stderr
    assert "image-tests: shell: 301 tests, 301 passed, 0 failed" in result.stdout


def test_a_shell_suite_with_a_failure_or_no_test_fails(tmp_path):
    failing = _shell_step(tmp_path / "f", {"tests/web-shell/a.sh": "test_ok() { true; }\ntest_bad() { echo 'a <b>'; false; }\n"})
    empty = _shell_step(tmp_path / "e", {"tests/web-shell/a.sh": "helper() { true; }\n"})
    for name, step, says in (("f", failing, "1 test(s) failed"), ("e", empty, "the suite ran no test")):
        machine = _machine(tmp_path / f"m{name}")
        machine.put(step.params["tests"].destination("linux"), step.params["tests"].data)
        result = machine.run(step.script)
        assert result.returncode == 1 and says in result.stderr, result.stdout + result.stderr


def test_the_inline_shell_suite_still_runs_as_before(tmp_path):
    step = _tests_step(_build(tmp_path, "  - image-tests: {suite: tests/web.sh}\n",
                              {"tests/web.sh": "test_a() { true; }\ntest_b() { false; }\n"}), "aws")
    result = _machine(tmp_path / "m").run(step.script)
    assert result.returncode == 1
    assert "PASS test_a" in result.stdout and "FAIL test_b" in result.stdout
    assert "shell: 2 tests, 1 passed, 1 failed" in result.stdout


def test_ubuntu_2404_ships_a_goss_suite_as_a_build_asset():
    root = Path(__file__).resolve().parents[2]
    flavour = yaml.safe_load((root / "image_flavours" / "ubuntu-2404.yaml").read_text())
    uses = [s["image-tests"] for s in flavour["steps"] if isinstance(s, dict) and "image-tests" in s]
    assert {"framework": "goss", "tests": "tests/ubuntu-2404-goss"} in uses
    suite = yaml.safe_load((root / "image_flavours" / "tests" / "ubuntu-2404-goss" / "goss.yaml").read_text())
    for included in suite["gossfile"]:
        assert (root / "image_flavours" / "tests" / "ubuntu-2404-goss" / included).is_file()




def test_the_rehearsal_fetches_goss_for_the_check_too_so_no_network_means_blocked_not_passed():
    from components.rehearse.plan import plan_actions
    from components.rehearse.source import load_rehearsal

    root = Path(__file__).resolve().parents[2]
    rehearsal = load_rehearsal("dev", "ubuntu-2404", root)
    goss = [a for a in plan_actions(rehearsal) if a.step == "image-tests" and any(
        f.url == GOSS["url"] for f in a.fetches)]
    # build, validate and test each fetch the pinned goss: where the network refuses it, the
    # runner reports the action blocked (components/rehearse/runner.py), never passed.
    assert [a.phase for a in goss] == ["build", "validate", "test"]
    assert all(f.sha256 == GOSS["sha256"] for a in goss for f in a.fetches if f.url == GOSS["url"])
