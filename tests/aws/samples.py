"""Shared by the AWS renderer tests: a flavour build, stack settings, hand-made prepared steps and
the Image Builder API model botocore ships."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import yaml

from components.aws import render
from components.model.build import FlavourBuild
from components.model.flavour import Flavour
from components.model.prepared import PreparedStep, prepare_flavour
from components.model.settings import StackSettings
from components.model.steps import Catalogue, load_catalogue
from tests.builds import build_of

FULL_CATALOGUE = load_catalogue()
PREFIX = "golden-images-dev"
KEY = render.KmsKey(identity="stack-key", arns={
    "eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
    "us-east-1": "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
})
UBUNTU_SSM = "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
WINDOWS_SSM = "ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-Base"


def api_shapes() -> dict:
    """The Image Builder API model botocore ships: the limits AWS enforces."""
    import botocore

    path = next(Path(botocore.__file__).parent.glob("data/imagebuilder/*/service-2.json.gz"))
    return json.loads(gzip.decompress(path.read_bytes()))["shapes"]


SHAPES = api_shapes()
RESOURCE_NAME = re.compile(SHAPES["ResourceName"]["pattern"])
AMI_NAME = re.compile(SHAPES["AmiNameString"]["pattern"])
COMPONENT_ARN = re.compile(SHAPES["ComponentVersionArnOrBuildVersionArn"]["pattern"])


def make_flavour(source_commit=None, settings=None, **fields) -> FlavourBuild:
    data = {
        "name": "ubuntu-2404",
        "description": "Ubuntu Server 24.04 LTS",
        "version": "1.2.3",
        "os": "linux",
        "base_image": {"aws": UBUNTU_SSM},
        "steps": ["os-updates"],
        "tags": {"team": "platform"},
    }
    data.update(fields)
    return build_of(Flavour.model_validate(data), settings or make_settings(), FULL_CATALOGUE, source_commit=source_commit)


def make_settings(**aws) -> StackSettings:
    return StackSettings.model_validate({
        "clouds": ["aws"],
        "schedule": {"every": "week", "on": "sunday", "at": "02:00", "timezone": "Europe/Amsterdam"},
        "tags": {"environment": "dev"},
        "aws": {"region": "eu-west-1", **aws},
    })


def prepared(flavour: FlavourBuild, catalogue: Catalogue) -> list:
    return prepare_flavour(flavour.os, flavour.declared_steps, catalogue, "aws")


def plan_of(flavour: FlavourBuild, entries: list, key: render.KmsKey = KEY) -> render.RecipePlan:
    """A recipe plan with these entries, as plan_aws would make it."""
    parent = render.parent_image(flavour, None, region="eu-west-1")
    return render.RecipePlan(entries=tuple(entries), parent=parent,
                             name=render.recipe_name(flavour, entries, prefix=PREFIX, key=key, parent=parent))


def single(step: PreparedStep, key: render.KmsKey = KEY) -> render.ComponentSpec:
    specs = render.component_specs(step, prefix=PREFIX, key=key)
    assert len(specs) == 1
    return specs[0]


def document(step: PreparedStep) -> dict:
    return yaml.safe_load(single(step).data)


def phase(doc: dict, name: str) -> list:
    return next(p["steps"] for p in doc["phases"] if p["name"] == name)


def hand_step(**fields) -> PreparedStep:
    values = {
        "name": "agent",
        "category": "agent",
        "os": "linux",
        "params": {},
        "environment": {"GI_STEP": "agent"},
        "script": "#!/usr/bin/env bash\nexport GI_STEP='agent'\necho install\n",
        "check": "#!/usr/bin/env bash\nexport GI_STEP='agent'\necho check\n",
    }
    values.update(fields)
    return PreparedStep(**values)

