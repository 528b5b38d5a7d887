"""The guardrails' secret scan (policy/secret_scan.py): the model's scanner, memory only in a ScanCache."""
from __future__ import annotations

import ast
import base64

import pytest

from components.plan import ROOT
from policy import rules as r
from policy.secret_scan import ScanCache, findings, prime

POLICY = sorted((ROOT / "policy").glob("*.py"))
assert POLICY


@pytest.mark.parametrize("path", POLICY, ids=lambda p: p.name)
def test_policy_keeps_no_memory_in_module_state(path):
    """No functools cache and no module-level cache-like name: whoever runs the rules owns the memory."""
    tree = ast.parse(path.read_text())
    cached = [
        node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
        for deco in node.decorator_list
        if "cache" in ast.unparse(deco)
    ]
    names = [
        target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and any(w in target.id.upper() for w in ("MEMORY", "CACHE", "FOUND", "SEEN"))
    ]
    assert (cached, names) == ([], [])


def test_the_scan_uses_the_model_s_scanner(monkeypatch):
    import components.model.secrets as model_secrets

    calls = []
    real = model_secrets.scan_text
    monkeypatch.setattr(model_secrets, "scan_text", lambda text, suffix=".txt": calls.append(text) or real(text, suffix))
    cache = ScanCache()
    assert findings(r.COMMANDS[0], {"create": "echo scanned-by-the-model"}, cache) == []
    assert calls == ["echo scanned-by-the-model\n"]


def test_a_line_is_scanned_once_per_cache_whatever_its_indentation():
    cache = ScanCache()
    prime([r.Resource(urn="a", type=r.COMMANDS[0], name="a", inputs={"create": "  echo one\necho two"})], cache)
    assert len(cache.lines) == 2
    findings(r.COMMANDS[0], {"create": "echo one\n      echo two"}, cache)
    assert len(cache.lines) == 2


def test_embedded_scripts_and_masked_references_are_remembered_per_cache():
    text = "#!/bin/bash\nset -euo pipefail\necho the agent is ready\n"
    script = base64.b64encode(text.encode()).decode()
    cache, other = ScanCache(), ScanCache()
    assert findings(r.COMMANDS[0], {"create": f"printf '%s' '{script}' | base64 -d > run.sh"}, cache) == []
    assert cache.decoded_text(script) == text
    assert cache.masked("key=ssm:/golden/api-key") == "key=${secret-reference}"
    assert other.lines == {} and other._decoded == {}
