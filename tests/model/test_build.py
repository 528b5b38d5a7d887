"""The resolved build: what each cloud builds, decided once."""
from __future__ import annotations

import subprocess

from components.model.flavour import Flavour
from components.model.prepared import prologue
from components.model.settings import StackSettings
from components.model.steps import load_catalogue
from tests.builds import build_of

CATALOGUE = load_catalogue()
SETTINGS = StackSettings.model_validate({
    "clouds": ["aws", "azure"],
    "schedule": {"every": "week", "on": "sunday"},
    "aws": {"region": "eu-west-1"},
    "azure": {"location": "westeurope"},
})


def linux(steps: list, **fields) -> Flavour:
    return Flavour.model_validate({
        "name": "web", "description": "web", "version": "1.0.0", "os": "linux",
        "base_image": {"aws": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
                       "azure": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}},
        "steps": steps, **fields})


def test_a_step_both_clouds_support_limited_with_only_on_vanishes_from_the_other_cloud():
    build = build_of(linux(["os-updates", {"linux-packages": {"packages": ["jq"]}, "options": {"only_on": "azure"}},
                            "cleanup"]), SETTINGS, CATALOGUE)
    assert [s.name for s in build.steps_on("azure")] == ["os-updates", "linux-packages", "cleanup"]
    assert [s.name for s in build.steps_on("aws")] == ["os-updates", "cleanup"]
    # Declared steps still list it: paths in messages index the file's entries.
    assert [u.name for u in build.declared_steps] == ["os-updates", "linux-packages", "cleanup"]


def test_a_linux_parameter_with_quotes_and_command_substitution_stays_literal(tmp_path):
    """The environment prologue of every prepared bash script, executed by bash, yields the value unchanged."""
    value = "it's $(touch pwned) `touch pwned2` \"q\" ${HOME} \\ ;|&"
    build = build_of(linux([{"linux-packages": {"packages": ["jq"]}}]), SETTINGS, CATALOGUE)
    step = build.steps_on("aws")[0]
    script = prologue("linux", {**step.environment, "GI_PARAM_X": value}) + 'printf "%s" "$GI_PARAM_X"\n'
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stdout == value
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    # The step's own script starts with the same prologue.
    assert step.script is not None and prologue("linux", step.environment) in step.script


def test_schedule_tags_and_clouds_are_resolved_once():
    build = build_of(linux(["os-updates"], clouds=["aws"], tags={"team": "web"}), SETTINGS, CATALOGUE,
                     source_commit="0123456789abcdef0123456789abcdef01234567")
    assert build.clouds == ("aws",) and build.steps_on("azure") == ()
    assert build.schedule.describe() == "every sunday at 02:00 UTC"
    assert build.tags == {"team": "web", "golden-images:flavour": "web", "golden-images:version": "1.0.0",
                          "golden-images:source-commit": "0123456789abcdef0123456789abcdef01234567"}
    assert "golden-images:source-commit" not in build.tags_without_commit
