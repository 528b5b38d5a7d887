"""The pack's project files and the rules table agree with the code and the project's pins."""
from __future__ import annotations

import re

import yaml

from components.plan import ROOT
from policy.rules import RULES

POLICY = ROOT / "policy"


def _pins(path) -> dict:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_pack_pins_are_the_projects_pins():
    project = {**_pins(ROOT / "requirements.txt"), **_pins(ROOT / "requirements-dev.txt")}
    pack = _pins(POLICY / "requirements.txt")
    assert pack["pulumi-policy"] == "1.21.0" and pack["pulumi"] == "3.272.0"
    assert {name: version for name, version in pack.items() if project.get(name) != version} == {}


def test_pack_project_file_runs_python_in_its_own_ignored_virtualenv():
    project = yaml.safe_load((POLICY / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    venv = project["runtime"]["options"]["virtualenv"]
    assert f"{venv}/" in (POLICY / ".gitignore").read_text().split()


def test_docs_table_lists_every_rule_as_defined():
    rows = [line for line in (ROOT / "docs" / "policy.md").read_text().splitlines() if re.match(r"^\| GI-", line)]
    assert rows == [f"| {r.id} | {r.title} | {r.rationale} | {r.enforcement} |" for r in RULES]
