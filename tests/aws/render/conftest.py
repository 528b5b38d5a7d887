"""Fixtures of the AWS renderer tests."""
from __future__ import annotations

import shutil

import pytest

from components.model.steps import STEPS_DIR, Catalogue, load_catalogue


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Catalogue:
    """os-updates on its own, so these modules test the renderer, not the rest of the catalogue."""
    folder = tmp_path_factory.mktemp("steps")
    shutil.copytree(STEPS_DIR / "os-updates", folder / "os-updates")
    shutil.copytree(STEPS_DIR / "lib", folder / "lib")
    return load_catalogue(folder)


