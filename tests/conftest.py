"""Shared fixtures: one mock engine (the one `make plan` uses) for every program test."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.plan import ROOT, Plan, run_program, stack_config


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    """The shipped dev and prod stacks, planned once per test session."""
    return {stack: run_program(stack, stack_config(stack)[0]) for stack in ("dev", "prod")}


class ProjectCopy:
    """A scratch copy of the project's inputs (program, stacks, flavours) to break on purpose."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copy(ROOT / "__main__.py", root / "__main__.py")
        for stack_file in ROOT.glob("Pulumi*.yaml"):
            shutil.copy(stack_file, root / stack_file.name)
        shutil.copytree(ROOT / "image_flavours", root / "image_flavours")
        (root / "components").symlink_to(ROOT / "components")

    @property
    def flavours(self) -> Path:
        return self.root / "image_flavours"

    def write_flavour(self, filename: str, text: str) -> Path:
        path = self.flavours / filename
        path.write_text(text)
        return path

    def flavour_text(self, filename: str) -> str:
        return (self.flavours / filename).read_text()

    def config(self, stack: str = "dev") -> dict:
        return stack_config(stack, self.root)[0]

    def plan(self, stack: str = "dev", config: dict | None = None, **kwargs) -> Plan:
        return run_program(stack, self.config(stack) if config is None else config, root=self.root, **kwargs)


@pytest.fixture
def project(tmp_path) -> ProjectCopy:
    return ProjectCopy(tmp_path)


@pytest.fixture(scope="session", autouse=True)
def shared_secret_findings():
    """One memory of secret findings for the whole session, as `make plan` keeps one between runs:
    the shipped flavours' test suites and assets are scanned once, not once per test. The per-run
    budget is the plan's concern (tests/model/test_hostile.py checks it with caches of its own)."""
    from components.model.secrets import SecretCache, using

    with using(SecretCache(budget=10**12)) as cache:
        yield cache
