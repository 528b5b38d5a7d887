"""aws-managed-component with owner aws-marketplace: the recipe names the Marketplace component's ARN."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.aws.render.keys import KmsKey
from components.aws.render.recipe import recipe_entries
from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from tests.builds import builds_of
from tests.samples import stack_config, ubuntu_flavour

# Image Builder's component ARN (API reference, GetMarketplaceResource.resourceArn): the owner is a
# 12-digit account or aws(-...), which admits aws-marketplace; the version may carry x wildcards.
IMAGE_BUILDER_ARN = re.compile(
    r"^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?):component/[a-z0-9-_]+"
    r"(?:/(?:(?:x|[0-9]+)\.(?:x|[0-9]+)\.(?:x|[0-9]+))(?:/[0-9]+)?)?$")

MARKETPLACE = """\
  - aws-managed-component:
      name: cis-hardening-level-1-ubuntu
      owner: aws-marketplace
      version: 1.2.x
      parameters: {Level: "1"}
"""


def _load(tmp_path: Path, steps: str):
    folder = tmp_path / "image_flavours"
    folder.mkdir(exist_ok=True)
    (folder / "web.yaml").write_text(ubuntu_flavour() + steps)
    return load_inputs(stack_config(), "Pulumi.dev.yaml", folder, tmp_path)


def test_recipe_names_the_marketplace_component_with_its_parameters(tmp_path):
    build = builds_of(_load(tmp_path, MARKETPLACE + "    options: {only_on: aws}\n"))["web"]
    entries = recipe_entries(build.steps_on("aws"), prefix="golden-images-dev", region="eu-west-1",
                             key=KmsKey(identity="test"))
    [managed] = [e for e in entries if e.managed_arn]
    assert managed.managed_arn == (
        "arn:aws:imagebuilder:eu-west-1:aws-marketplace:component/cis-hardening-level-1-ubuntu/1.2.x")
    assert IMAGE_BUILDER_ARN.match(managed.managed_arn)
    assert managed.parameters == (("Level", "1"),)


def test_aws_owner_stays_the_default(tmp_path):
    steps = "  - aws-managed-component: {name: update-linux}\n    options: {only_on: aws}\n"
    build = builds_of(_load(tmp_path, steps))["web"]
    [managed] = [e for e in recipe_entries(build.steps_on("aws"), prefix="p", region="eu-west-1",
                                           key=KmsKey(identity="test")) if e.managed_arn]
    assert managed.managed_arn == "arn:aws:imagebuilder:eu-west-1:aws:component/update-linux/x.x.x"


def test_marketplace_component_is_refused_on_azure_like_the_managed_ones(tmp_path):
    with pytest.raises(ValidationFailed) as caught:
        _load(tmp_path, MARKETPLACE)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith("image_flavours/web.yaml: steps[0]: step 'aws-managed-component' runs only on aws")
               for p in found), found


def test_unknown_owner_is_refused(tmp_path):
    with pytest.raises(ValidationFailed) as caught:
        _load(tmp_path, MARKETPLACE.replace("aws-marketplace", "123456789012") + "    options: {only_on: aws}\n")
    found = [str(p) for p in caught.value.problems]
    assert any("steps[0].aws-managed-component.owner" in p for p in found), found
