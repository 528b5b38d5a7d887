"""Imports go one way: the offline plan runs the guardrails, the guardrails never import the plan."""
from __future__ import annotations

import ast

import pytest

from components.plan import ROOT

POLICY = sorted((ROOT / "policy").glob("*.py"))
assert POLICY


def _imported(path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", POLICY, ids=lambda p: p.name)
def test_policy_never_imports_the_offline_plan(path):
    assert not {n for n in _imported(path) if n == "components.plan" or n.startswith("components.plan.")}


def test_the_stack_file_reader_needs_neither_the_plan_nor_the_engine():
    names = _imported(ROOT / "components" / "stack_file.py")
    assert not {n for n in names if n.split(".")[0] in ("pulumi", "policy") or n.startswith("components.plan")}
