"""Downloads, exit codes, retries and blocked-versus-failed, on a stand-in machine."""
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from components.rehearse import runner


class FakeMachine:
    """Runs nothing: each run prints the next scripted output and returns its exit code."""

    def __init__(self, *outcomes):
        self.outcomes, self.files, self.runs = list(outcomes), {}, []

    def put(self, path, data, mode):
        self.files[path] = data

    def remove(self, path):
        self.files.pop(path, None)

    def run(self, path, timeout, log):
        output, code = self.outcomes.pop(0)
        log.write(output)
        self.runs.append(path)
        return code


def action(index=1, step="s", phase="build", **kw):
    return {"index": index, "step": step, "phase": phase, "session": 1, "script": "echo", "skip_reason": None,
            "script_path": f"/var/tmp/golden-images-steps/{step}-install.sh", "fetches": [], "valid_exit_codes": [0],
            "attempts": 1, "timeout_seconds": None, "needs": {}, **kw}


def run(machine, actions, tmp_path, blocked=None, caches=()):
    events, blocked = [], dict(blocked or {})
    ok = runner.run_session(machine, actions, blocked, events.append, list(caches), tmp_path / "store", tmp_path / "logs")
    return ok, [e for e in events if e["event"] == "end"], blocked


def test_valid_exit_codes_and_retries(tmp_path):
    machine = FakeMachine(("first\n", 1), ("second\n", 3010))
    ok, [end], _ = run(machine, [action(valid_exit_codes=[0, 3010], attempts=2)], tmp_path)
    assert ok and end["status"] == "passed" and end["exit_code"] == 3010
    assert "attempt 2 of 2" in Path(end["log"]).read_text()
    assert machine.files == {}  # the script is removed after it passed, as the build's wrapper does


def test_a_failure_stops_the_session_and_keeps_the_log(tmp_path):
    machine = FakeMachine(("E: Unable to locate package nope\n", 100))
    ok, ends, _ = run(machine, [action(), action(index=2, step="t")], tmp_path)
    assert not ok and [e["status"] for e in ends] == ["failed"]
    assert "Unable to locate package nope" in Path(ends[0]["log"]).read_text()


def test_a_network_refusal_in_the_scripts_output_is_blocked_not_failed(tmp_path):
    machine = FakeMachine(("curl: (6) Could not resolve host: keys.datadoghq.com\n", 6), ("check\n", 1))
    ok, ends, blocked = run(machine, [action(step="dd"), action(index=2, step="dd", phase="validate")], tmp_path)
    assert ok and [e["status"] for e in ends] == ["blocked", "blocked"]
    assert "keys.datadoghq.com" in ends[0]["reason"] and "its build was blocked" in ends[1]["reason"]
    assert machine.runs == ["/var/tmp/golden-images-steps/dd-install.sh"]  # the check of a blocked build never runs
    assert "dd" in blocked


def test_failing_image_tests_are_blocked_only_when_each_needs_a_blocked_step(tmp_path):
    needs = {"test_dd": ["dd"]}
    only_dd = FakeMachine(("FAIL test_dd\nPASS test_ssh\n", 1))
    _, [end], _ = run(only_dd, [action(step="image-tests", needs=needs)], tmp_path, blocked={"dd": "x"})
    assert end["status"] == "blocked" and "test_dd needs dd" in end["reason"]
    both = FakeMachine(("FAIL test_dd\nFAIL test_ssh\n", 1))
    _, [end], _ = run(both, [action(step="image-tests", needs=needs)], tmp_path, blocked={"dd": "x"})
    assert end["status"] == "failed"


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "tool.tar.gz").write_bytes(b"payload")
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder), **kw)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


SHA = hashlib.sha256(b"payload").hexdigest()


def fetch_action(url, sha=SHA):
    return action(fetches=[{"url": url, "sha256": sha, "destination": "/var/tmp/golden-images/downloads/tool.tar.gz",
                            "local": None}])


def test_pinned_downloads_are_fetched_checksummed_and_kept_by_sha256(tmp_path, server):
    machine = FakeMachine(("ok\n", 0))
    ok, [end], _ = run(machine, [fetch_action(f"{server}/tool.tar.gz")], tmp_path)
    assert ok and end["status"] == "passed"
    assert machine.files["/var/tmp/golden-images/downloads/tool.tar.gz"] == b"payload"
    assert (tmp_path / "store" / SHA).read_bytes() == b"payload"


def test_a_wrong_checksum_or_missing_file_fails(tmp_path, server):
    _, [end], _ = run(FakeMachine(), [fetch_action(f"{server}/tool.tar.gz", sha="0" * 64)], tmp_path)
    assert end["status"] == "failed" and "pinned" in end["reason"]
    _, [end], _ = run(FakeMachine(), [fetch_action(f"{server}/missing.tar.gz")], tmp_path)
    assert end["status"] == "failed" and "HTTP 404" in end["reason"]


def test_a_refused_download_is_blocked_with_its_url_and_a_cache_serves_it(tmp_path):
    url = "http://127.0.0.1:9/tool.tar.gz"  # the discard port: nothing listens, the connection is refused
    _, [end], _ = run(FakeMachine(), [fetch_action(url)], tmp_path)
    assert end["status"] == "blocked" and url in end["reason"]
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / SHA).write_bytes(b"payload")
    machine = FakeMachine(("ok\n", 0))
    _, [end], _ = run(machine, [fetch_action(url)], tmp_path, caches=[cache])
    assert end["status"] == "passed" and machine.files["/var/tmp/golden-images/downloads/tool.tar.gz"] == b"payload"


def test_an_untrusted_certificate_is_blocked_and_names_the_ca_bundle_option(tmp_path):
    # pip's words when a TLS-intercepting proxy re-signs pypi.org with a CA the root does not trust.
    output = ("WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
              "certificate verify failed: self-signed certificate in certificate chain (_ssl.c:992)'))\n")
    ok, [end], blocked = run(FakeMachine((output, 1)), [action(step="ansible-playbook")], tmp_path)
    assert ok and end["status"] == "blocked"
    assert "CERTIFICATE_VERIFY_FAILED" in end["reason"] and "--ca-bundle" in end["reason"]
    assert "ansible-playbook" in blocked


def test_steps_run_with_systemctl_offline_and_the_ca_variables_only_when_a_bundle_is_given():
    plain, trusting = runner.environment(False), runner.environment(True)
    assert plain["SYSTEMD_OFFLINE"] == "1" and "SSL_CERT_FILE" not in plain and "PIP_CERT" not in plain
    for name in ("SSL_CERT_FILE", "CURL_CA_BUNDLE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO"):
        assert trusting[name] == "/run/golden-images-rehearse/ca-certificates.crt"
    assert trusting["PATH"] == plain["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_a_blocked_use_of_a_step_blocks_only_its_own_check_not_another_use_of_the_same_step(tmp_path):
    # Two image-tests suites: goss, whose binary download the network refuses, and a shell suite.
    machine = FakeMachine(("curl: (6) Could not resolve host: github.com\n", 6), ("shell suite\n", 0),
                          ("shell suite check\n", 0))
    actions = [action(step="image-tests", use="image-tests#1"), action(index=2, step="image-tests", use="image-tests#2"),
               action(index=3, step="image-tests", phase="validate", use="image-tests#1"),
               action(index=4, step="image-tests", phase="validate", use="image-tests#2")]
    ok, ends, blocked = run(machine, actions, tmp_path)
    assert ok and [e["status"] for e in ends] == ["blocked", "passed", "blocked", "passed"]
    assert list(blocked) == ["image-tests#1"]
    assert len(machine.runs) == 3  # the blocked suite's check never ran; the other suite's did
