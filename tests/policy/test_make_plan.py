"""`make plan` enforces the guardrails: components.plan.main() on the shipped and on a broken project."""
from __future__ import annotations

import yaml

from components.plan import main

from .test_offline import _step_without


def test_make_plan_fails_on_a_violating_flavour_naming_rule_and_resource(project, tmp_path, capsys):
    step = _step_without("updates")
    flavour = yaml.safe_load(project.flavour_text("ubuntu-2404.yaml"))
    flavour.update(name="stale-ubuntu", steps=[step])
    project.write_flavour("stale-ubuntu.yaml", yaml.safe_dump(flavour, sort_keys=False))
    out = tmp_path / "dev.json"
    code = main(["--stack", "dev", "--root", str(project.root), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: GI-FLAV-001 stale-ubuntu: steps [{step}] include no 'updates' step" in err
    assert out.is_file()  # still written, so reviewers can read the inputs that broke a rule


def test_make_plan_passes_the_shipped_stacks_and_prints_advisories(project, tmp_path, capsys):
    assert main(["--stack", "prod", "--root", str(project.root), "--out", str(tmp_path / "prod.json"), "--quiet"]) == 0
    assert "error: GI-" not in capsys.readouterr().err
    assert main(["--stack", "dev", "--root", str(project.root), "--out", str(tmp_path / "dev.json"), "--quiet"]) == 0
    assert "warning: GI-BUILD-003 " in capsys.readouterr().err  # dev keeps failed build VMs on purpose
