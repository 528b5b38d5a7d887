"""One flavour file, image_flavours/f.yaml (with the files it names), loaded as `make plan` loads it:
its build, or every problem the loader reports for it."""
from __future__ import annotations

from pathlib import Path

import pytest

from components.aws.render.keys import KmsKey
from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from tests.builds import builds_of
from tests.flavour_folders import folder_with
from tests.samples import stack_config as settings

KEY = KmsKey(identity="k", arns={"eu-west-1": "arn:aws:kms:eu-west-1:000000000000:key/k"})


def build(tmp_path: Path, text: str, files: dict | None = None, **overrides):
    folder = folder_with(tmp_path, {"f.yaml": text, **(files or {})})
    inputs = load_inputs(settings(**overrides), "Pulumi.dev.yaml", folder, tmp_path)
    return next(iter(builds_of(inputs).values()))


def refused(tmp_path: Path, text: str, files: dict | None = None, **overrides) -> list[str]:
    folder = folder_with(tmp_path, {"f.yaml": text, **(files or {})})
    with pytest.raises(ValidationFailed) as caught:
        load_inputs(settings(**overrides), "Pulumi.dev.yaml", folder, tmp_path)
    return [str(p) for p in caught.value.problems]


def step_named(b, cloud: str, name: str):
    return next(s for s in b.steps_on(cloud) if s.name == name)
