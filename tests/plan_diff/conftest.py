"""Plan diffs several report tests read: a changed script, the same with stable Pulumi names, a new region."""
from __future__ import annotations

import pytest

from components.plan_diff.diff import diff_plans
from tests.plan_samples import INSTALL_V2, OS_UPDATES_V2, factory, stable_factory


@pytest.fixture
def script_change():
    base = factory()
    head = factory(script=OS_UPDATES_V2, component_hash="9d8c7b6a", recipe_hash="4f3e2d1c", template_hash="7a7a7a01")
    return diff_plans(base, head, "origin/main (abc1234)", "working tree")


@pytest.fixture
def stable_change():
    return diff_plans(stable_factory(), stable_factory(install=INSTALL_V2, component_hash="5d1e0c3b7a",
                                                       recipe_hash="0b4c1f9e2d"))


@pytest.fixture
def new_region():
    base = factory()
    head = factory(aws_regions=("eu-west-1", "us-east-1"), azure_regions=("westeurope", "northeurope"),
                   template_hash="2b2b2b02")
    return diff_plans(base, head)
