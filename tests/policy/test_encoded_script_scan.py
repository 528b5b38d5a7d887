"""GI-SECRET-001 on scripts the product ships base64-encoded: the decoded script is what is judged.

AWSTOE substitutes `{{ ... }}` anywhere in a component document and has no escape (REFERENCE:
AWSTOE), so a script holding `{{` is written base64-encoded and decoded on the instance
(components/aws/render/documents.py); Azure's runners always ship scripts encoded, because
Packer's template engine would rewrite `{{ }}` too (components/azure/render/runners.py).
The encoding is the product's own: the guardrail must neither refuse it as a high-entropy
blob nor let a real secret hide inside it.
"""
from __future__ import annotations

from components.aws import render
from components.azure.render.runners import powershell_runner, shell_runner
from policy import rules as r
from policy.secret_scan import ScanCache, findings
from tests.aws.samples import KEY, PREFIX, hand_step
from tests.plan_samples import encoded_scripts

GO_TEMPLATE = "docker image inspect --format '{{.Id}}' busybox\n"
# AWS's documented example secret access key (IAM user guide), which detect-secrets knows.
AWS_SECRET = "export AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\n"


def _component(script: str) -> dict:
    step = hand_step(name="script", category="software", script="#!/usr/bin/env bash\n" + script, check=None)
    (spec,) = render.component_specs(step, prefix=PREFIX, key=KEY)
    return {"name": spec.name, "platform": spec.platform, "version": spec.version, "data": spec.data}


def test_a_script_holding_double_braces_is_shipped_encoded_and_passes_the_scan():
    inputs = _component(GO_TEMPLATE)
    assert "{{" not in inputs["data"]  # AWSTOE would substitute it: the product encoded the script
    assert encoded_scripts(inputs["data"]) == ["#!/usr/bin/env bash\n" + GO_TEMPLATE]  # ...decoded on the instance
    assert findings(r.COMPONENT, inputs, ScanCache()) == []


def test_a_secret_inside_an_encoded_script_is_still_refused():
    inputs = _component(GO_TEMPLATE + AWS_SECRET)
    assert "wJalrXUtnFEMI" not in inputs["data"]  # only the encoding travels in the document
    found = findings(r.COMPONENT, inputs, ScanCache())
    # Found in the decoded script, on its line (the shebang, the template, then the key).
    assert any(f.startswith("data embedded script 1 line 3 looks like a secret (AWS Access Key)") for f in found), found


def test_azure_runners_encoded_scripts_are_judged_decoded():
    for runner, kind in ((shell_runner, "Shell"), (powershell_runner, "PowerShell")):
        clean = runner("script", GO_TEMPLATE, (0,), 0, None)
        template = {"customize": [{"type": kind, "name": "script", "inline": clean}]}
        assert findings(r.IMAGE_TEMPLATE, template, ScanCache()) == [], kind
        leaky = runner("script", GO_TEMPLATE + AWS_SECRET, (0,), 0, None)
        template = {"customize": [{"type": kind, "name": "script", "inline": leaky}]}
        assert findings(r.IMAGE_TEMPLATE, template, ScanCache()), kind
