"""The JSON report, the JUnit file beside it and the exit code."""
import json
from xml.etree import ElementTree as ET

from components.rehearse.report import build_report, exit_code, write_report


def steps(tmp_path):
    log = tmp_path / "03-b-build.log"
    log.write_text("E: Unable to locate package nope\n")
    return [
        {"name": "a", "phase": "build", "status": "passed", "exit_code": 0, "seconds": 1.5, "log": None},
        {"name": "b", "phase": "build", "status": "failed", "exit_code": 100, "seconds": 2.0, "log": str(log),
         "reason": "failed with exit code 100"},
        {"name": "c", "phase": "build", "status": "blocked", "exit_code": None, "seconds": 0.1, "log": None,
         "reason": "download blocked: https://example.com/c.tar.gz"},
        {"name": "d", "phase": "validate", "status": "skipped", "exit_code": None, "seconds": 0.0, "log": None,
         "reason": "AWS-managed"},
    ]


def test_report_shape_and_junit(tmp_path):
    report = build_report("ubuntu-2404", "dev", "chroot", "Ubuntu 24.04", "Debian 12", steps(tmp_path))
    json_path, xml_path = write_report(report, tmp_path / "out")
    data = json.loads(json_path.read_text())
    assert json_path.name == "dev-ubuntu-2404.json" and xml_path.name == "dev-ubuntu-2404.junit.xml"
    assert {k: data[k] for k in ("flavour", "stack", "engine", "base", "stand_in", "result")} == {
        "flavour": "ubuntu-2404", "stack": "dev", "engine": "chroot", "base": "Ubuntu 24.04",
        "stand_in": "Debian 12", "result": "failed"}
    assert [set(s) >= {"name", "phase", "status", "exit_code", "seconds", "log"} for s in data["steps"]] == [True] * 4
    suite = ET.parse(xml_path).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("4", "1", "1", "1")
    failure = suite.find("testcase[@name='b']/failure")
    assert failure.get("message") == "failed with exit code 100" and "Unable to locate package" in failure.text
    assert suite.find("testcase[@name='c']/error").get("message").endswith("https://example.com/c.tar.gz")


def test_exit_code_zero_only_without_failed_or_blocked_steps(tmp_path):
    all_steps = steps(tmp_path)
    passed, failed, blocked, skipped = all_steps
    assert exit_code([passed, skipped]) == 0
    assert exit_code([passed, blocked]) == 1
    assert exit_code([passed, blocked], allow_blocked=True) == 0
    assert exit_code([failed, blocked], allow_blocked=True) == 1
    assert build_report("f", "dev", "chroot", "x", None, [passed, skipped])["result"] == "passed"
    assert build_report("f", "dev", "chroot", "x", None, [passed, blocked])["result"] == "failed"
