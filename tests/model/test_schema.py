"""The published JSON Schema matches the model and accepts what the model accepts."""
import json

import jsonschema
import yaml

from components.model.schema import render
from components.plan import ROOT

SCHEMA_FILE = ROOT / "image_flavours" / "flavour.schema.json"


def test_published_schema_is_current():
    assert SCHEMA_FILE.read_text() == render(), "image_flavours/flavour.schema.json is stale: run `make schema`"


def test_shipped_flavours_satisfy_the_schema():
    schema = json.loads(SCHEMA_FILE.read_text())
    flavour_files = [p for p in (ROOT / "image_flavours").glob("*.yaml") if p.name not in ("applications.yaml", "versions.yaml")]
    assert flavour_files
    for path in flavour_files:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_schema_rejects_what_the_model_rejects():
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = yaml.safe_load((ROOT / "image_flavours" / "ubuntu-2404.yaml").read_text())
    assert not list(validator.iter_errors(good))
    for broken in (
        {**good, "colour": "blue"},
        {**good, "steps": ["no-such-step"]},
        {**good, "steps": [{"os-updates": {"exclud": []}}]},
        {**good, "version": "1.0"},
        {**good, "os": "macos"},
    ):
        assert list(validator.iter_errors(broken)), broken
