"""The retired flavour's SSM parameter arguments against botocore's PutParameter model."""
from __future__ import annotations

import re

import botocore.session
import pytest

from components.aws.render import deprecated_parameter_args
from components.model.settings import RetiredFlavour, parse_settings
from components.stack_file import stack_config

SSM = botocore.session.get_session().get_service_model("ssm")
PUT = SSM.operation_model("PutParameter").input_shape
TAG = SSM.shape_for("Tag")


def _pattern(shape) -> re.Pattern:
    # botocore's `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`: letters, separators and numbers as Python's
    # Unicode \w (minus nothing it adds but `_`, which the pattern allows) and \s.
    assert shape.metadata["pattern"] == r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
    return re.compile(r"^[\w\s.:/=+\-@]*$")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_parameter_fits_put_parameter(stack):
    settings = parse_settings(stack_config(stack)[0], f"Pulumi.{stack}.yaml")
    assert settings.aws is not None
    entry = RetiredFlavour(flavour="ubuntu-2204", reason="Ubuntu 22.04 leaves standard support (April 2027) " * 6,
                           replaced_by="ubuntu-2404")
    args = deprecated_parameter_args(entry, settings.aws, settings.aws.region, dict(settings.tags))
    name, description = PUT.members["Name"].metadata, PUT.members["Description"].metadata
    assert name["min"] <= len(args["name"]) <= name["max"]
    assert description["min"] <= len(args["description"]) <= description["max"]
    assert len(args["description"]) > 300  # the long reason is in it, whole or cut
    for key, value in args["tags"].items():
        assert TAG.members["Key"].metadata["min"] <= len(key) <= TAG.members["Key"].metadata["max"]
        assert len(value) <= TAG.members["Value"].metadata["max"]
        assert _pattern(TAG.members["Key"]).match(key) and _pattern(TAG.members["Value"]).match(value), (key, value)
    assert args["type"] in SSM.shape_for("ParameterType").enum
    assert isinstance(args["overwrite"], bool)

