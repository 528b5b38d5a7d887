"""make plan-diff against a git revision: the base rendered in a temporary worktree (components/plan_diff/git.py)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.plan import ROOT


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository holding a copy of the project, one commit deep."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in (".gitignore", "__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "requirements.txt"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "image_flavours", repo / "image_flavours")
    shutil.copytree(ROOT / "components", repo / "components", ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", "base")
    return repo


def _run_cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "components.plan_diff", *args], cwd=repo,
                          capture_output=True, text=True, timeout=120)


def _a_flavour(repo: Path) -> tuple:
    """(file, parsed flavour) of the first flavour file; image_flavours/ also holds shared data."""
    for path in sorted((repo / "image_flavours").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and {"name", "version", "steps"} <= set(data):
            return path, data
    raise AssertionError("no flavour file in image_flavours/")


def test_cli_end_to_end_against_a_git_revision(repo):
    """A flavour's version bumped (its recipe is replaced) and a region added, in the working tree,
    diffed against HEAD rendered in a temporary worktree."""
    flavour_file, flavour = _a_flavour(repo)
    major, minor, patch = str(flavour["version"]).split(".")
    new_version = f"{major}.{minor}.{int(patch) + 1}"
    text, count = re.subn(r"(?m)^version:.*$", f"version: {new_version}", flavour_file.read_text())
    assert count == 1
    flavour_file.write_text(text)
    stack_file = repo / "Pulumi.dev.yaml"
    # Edited as text: the stack file is YAML 1.2 (`on:` is a key, not a boolean) and keeps its comments.
    stack_text, count = re.subn(r"(distribution_regions:\s*\[[^\]]*)\]", r"\1, eu-central-1]", stack_file.read_text())
    assert count == 1, "Pulumi.dev.yaml has no flow-style golden-images:aws distribution_regions list"
    stack_file.write_text(stack_text)
    status_before = _git(repo, "status", "--porcelain")

    result = _run_cli(repo, "--base", "HEAD", "--stack", "dev", "--markdown")
    assert result.returncode == 0, result.stderr
    md = result.stdout
    assert md.startswith("<!-- golden-images plan-diff stack=dev -->")
    assert "`HEAD (" in md and "`working tree`" in md
    section = md.split(f"#### Flavour `{flavour['name']}`")[1].split("#### ")[0]
    recipe = next(line for line in section.splitlines()
                  if line.startswith("| ♻️ replace | `aws:imagebuilder/imageRecipe:ImageRecipe` |"))
    assert "| EC2 Image Builder recipes cannot be updated in place; content changed: " in recipe
    assert "`version`" in recipe
    assert "`distributions[region=eu-central-1]`" in section
    assert '(["eu-central-1"])' in md
    assert next(line for line in md.splitlines() if line.startswith("  class ") and line.endswith(" added"))
    assert f"| `flavours.{flavour['name']}.version` | `{flavour['version']}` | `{new_version}` |" in md

    # The temporary worktree is gone and the repository is as it was.
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert _git(repo, "status", "--porcelain") == status_before


def test_cli_fails_with_the_plans_error(repo):
    flavour_file, _ = _a_flavour(repo)
    flavour_file.write_text(flavour_file.read_text() + "colour: blue\n")
    result = _run_cli(repo, "--base", "HEAD", "--stack", "dev")
    assert result.returncode != 0
    assert "the plan of the working tree failed" in result.stderr
    assert f"{flavour_file.name}: colour: unknown field" in result.stderr
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_cli_unknown_base_revision(repo):
    result = _run_cli(repo, "--base", "no-such-branch", "--stack", "dev")
    assert result.returncode == 2
    assert "unknown git revision 'no-such-branch'" in result.stderr
