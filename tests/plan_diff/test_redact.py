"""No secret in a plan diff (components/plan_diff/redact.py): what the guardrails' scanner flags
is masked in the terminal report and the PR comment, and nothing else is."""
from __future__ import annotations

import base64
import json

import pytest

from components.plan_diff.__main__ import main
from components.plan_diff.diff import diff_plans
from components.plan_diff.markdown import render_markdown
from components.plan_diff.redact import Redactor
from components.plan_diff.text import render_text
from tests.plan_samples import COMPONENT, TEMPLATE, PlanBuilder, factory, find

# Built from parts, so that no scanner finds them in this file.
FAKE_ACCESS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
FAKE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"


def _plans(tags_after: dict):
    b1, b2 = PlanBuilder(), PlanBuilder()
    b1.add("aws:iam/role:Role", "build", inputs={"description": "d", "tags": {"team": "platform"}})
    b2.add("aws:iam/role:Role", "build", inputs={"description": "d", "tags": {"team": "platform", **tags_after}})
    return b1.plan(), b2.plan()


@pytest.fixture(scope="module")
def redactor():
    return Redactor()


@pytest.mark.parametrize("tags", [{"aws_secret_access_key": FAKE_SECRET_KEY}, {"note": FAKE_ACCESS_KEY}])
def test_a_secret_in_a_tag_is_masked_in_both_reports(tags, redactor, tmp_path, capsys):
    base, head = _plans(tags)
    diff = diff_plans(base, head)
    [secret] = tags.values()
    text = render_text(diff, redactor=redactor)
    md = render_markdown(diff, redactor=redactor)
    for report in (text, md):
        assert secret not in report
        assert "«redacted: looks like a secret (" in report
    assert f"+ tags.{next(iter(tags))} = «redacted: looks like a secret (" in text
    # The command line too, and the plan diff itself (the data) still holds the value.
    (tmp_path / "b.json").write_text(json.dumps(base))
    (tmp_path / "h.json").write_text(json.dumps(head))
    for extra in ([], ["--markdown"]):
        assert main(["--base-plan", str(tmp_path / "b.json"), "--head-plan", str(tmp_path / "h.json"), *extra]) == 0
        out = capsys.readouterr().out
        assert secret not in out and "«redacted: looks like a secret" in out
    assert diff.changes[0].inputs[0].after == secret


def test_a_secret_line_in_a_script_is_masked_and_the_rest_diffed(redactor):
    base, head = factory(), factory()
    component = find(head, COMPONENT, "ubuntu-2404")
    component["inputs"]["data"] = component["inputs"]["data"].replace(
        "apt-get update", f"export AWS_ACCESS_KEY_ID={FAKE_ACCESS_KEY}\n              apt-get update")
    text = render_text(diff_plans(base, head), redactor=redactor)
    assert FAKE_ACCESS_KEY not in text
    assert "+              «redacted: looks like a secret (AWS Access Key)»" in text


def test_a_secret_in_a_base64_embedded_script_is_masked(redactor):
    """Azure inline customizers carry scripts base64-encoded; the report decodes them, so the mask
    must reach inside."""
    script = f"#!/bin/bash\nset -eu\ncurl -u {FAKE_ACCESS_KEY}:x https://example.com\n"
    base, head = factory(), factory()
    template = find(head, TEMPLATE, "ubuntu-2404")
    encoded = base64.b64encode(script.encode()).decode()
    template["inputs"]["customize"][0]["inline"].append(f"printf '%s' '{encoded}' | base64 -d > /tmp/s.sh")
    diff = diff_plans(base, head)
    for report in (render_text(diff, redactor=redactor), render_markdown(diff, redactor=redactor)):
        assert FAKE_ACCESS_KEY not in report and encoded not in report
        assert "«redacted: looks like a secret (AWS Access Key)»" in report
        assert "set -eu" in report  # the rest of the embedded script is still shown


def test_without_the_policy_pack_the_models_scanner_masks(monkeypatch):
    import sys

    from components.plan_diff import redact

    monkeypatch.setitem(sys.modules, "policy.secret_scan", None)  # import fails
    scanner = Redactor()
    assert isinstance(scanner.cache, redact._ModelScanner)
    text = render_text(diff_plans(*_plans({"note": FAKE_ACCESS_KEY})), redactor=scanner)
    assert FAKE_ACCESS_KEY not in text and "«redacted: looks like a secret (AWS Access Key)»" in text


def test_nothing_is_masked_without_a_secret(script_change, redactor):
    assert "redacted" not in render_text(script_change, redactor=redactor)
    assert "redacted" not in render_markdown(script_change, redactor=redactor)


def test_real_plans_show_no_mask(plans, redactor):
    """The shipped stacks hold no secret, and their ids, checksums and references are not taken for one."""
    empty = {"project": "golden-images", "stack": "dev", "resources": [], "outputs": {}}
    for stack in ("dev", "prod"):
        diff = diff_plans(empty, plans[stack].as_json())
        assert "redacted" not in render_text(diff, redactor=redactor)
