"""Shared helpers for the step catalogue's quality gates."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.model.assets import Asset
from components.model.flavour import StepUse
from components.model.steps import STEPS_DIR, load_catalogue

ROOT = STEPS_DIR.parent.parent
FLAVOURS_DIR = ROOT / "image_flavours"


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


def sample_params(step) -> dict:
    """Values for a step's required parameters, so any step can be prepared on its own."""
    samples = {"string": "sample", "integer": 1, "boolean": True, "list": ["one", "two"], "file": "echo sample"}
    params = {}
    for name, param in step.spec.parameters.items():
        if not param.required:
            continue
        if param.allowed:
            params[name] = param.allowed[0]
        elif name == "url":
            params[name] = "https://downloads.example.com/tool.deb"
        elif param.type == "directory":
            # A packed folder as the loader gives it (a file step's source, an asset on the instance).
            params[name] = Asset(path="sample", sha256="ab" * 32, files=1, data=b"")
        elif name == "destination":
            params[name] = "/opt/sample"
        elif name == "sha256":
            params[name] = "0" * 64
        elif name == "name":
            params[name] = "sample-tool"
        else:
            params[name] = samples[param.type]
    return params


def sample_use(step) -> StepUse:
    return StepUse(name=step.name, params=sample_params(step))


def step_files(suffix: str) -> list[Path]:
    return sorted(STEPS_DIR.rglob(f"*{suffix}"))
