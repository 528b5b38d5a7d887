"""`make plan` enforces the guardrails: components.plan.main() on the shipped and on a broken project."""
from __future__ import annotations

import yaml

from components.plan import main

from .builders import step_without


def test_make_plan_fails_on_a_violating_flavour_naming_rule_and_resource(project, tmp_path, capsys):
    step = step_without("updates")
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


GIT_FORM = """      git_url: https://github.com/example/playbooks.git
      git_commit: 3f786850e387550fdab836ed7e6dc881de23001b
      playbook: site.yml"""


def _git_form(project, variables: str = "") -> None:
    """The shipped Ubuntu flavour with its playbook from git, as the ansible-playbook README documents."""
    text = project.flavour_text("ubuntu-2404.yaml").replace(
        "      directory: ansible/ubuntu-2404\n      playbook: site.yml", GIT_FORM + variables)
    assert GIT_FORM in text
    project.write_flavour("ubuntu-2404.yaml", text)


def test_make_plan_passes_the_documented_git_form_of_ansible_playbook(project, tmp_path, capsys):
    """The 40-hex commit id is a public identifier (not_secret in step.yaml), not a secret: it
    used to trip GI-SECRET-001's Hex High Entropy detector inside the rendered AWSTOE document."""
    _git_form(project)
    for stack in ("dev", "prod"):
        code = main(["--stack", stack, "--root", str(project.root), "--out", str(tmp_path / f"{stack}.json"), "--quiet"])
        assert "GI-SECRET-001" not in capsys.readouterr().err
        assert code == 0


def test_only_a_not_secret_parameter_matching_its_pattern_is_spared():
    """The same 40-hex value under another parameter's name, or a commit parameter holding
    something its pattern does not admit, is still reported by the guardrails' scan."""
    from policy.secret_scan import ScanCache

    commit = "3f786850e387550fdab836ed7e6dc881de23001b"
    cache = ScanCache()
    assert cache.scan_text(f"export GI_PARAM_GIT_COMMIT='{commit}'\n") == []
    assert cache.scan_text(f"$env:GI_PARAM_GIT_COMMIT = '{commit}'\n") == []
    assert cache.scan_text(f"export GI_PARAM_API_TOKEN='{commit}'\n") != []
    assert cache.scan_text("export GI_PARAM_GIT_COMMIT='Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u'\n") != []
