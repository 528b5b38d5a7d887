"""The JSON Schema of flavour files, generated from the model so editors validate and complete them.

`make schema` writes image_flavours/flavour.schema.json; a test fails when it is stale.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Optional

from .flavour import Flavour
from .steps import Catalogue, load_catalogue
from .use_names import USE_NAME_LIMIT, USE_NAME_PATTERN


def flavour_schema(catalogue: Optional[Catalogue] = None) -> dict[str, Any]:
    """The model's schema, with `steps` spelled the way files write them and known step names listed."""
    catalogue = catalogue or load_catalogue()
    schema = Flavour.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "golden-images flavour"
    options_ref = {"$ref": "#/$defs/StepOptions"}
    step_entries = []
    for name in catalogue.names():
        step = catalogue.steps[name]
        params = {
            key: {"description": p.description, **_param_type(p.type), **({"default": p.default} if p.default is not None else {})}
            for key, p in step.spec.parameters.items()
        }
        step_entries.append(
            {
                "type": "object",
                "description": step.spec.description,
                "properties": {
                    name: {"type": ["object", "null"], "properties": params, "additionalProperties": False},
                    "options": options_ref,
                },
                "required": [name],
                "additionalProperties": False,
            }
        )
    schema["properties"]["steps"] = {
        "type": "array",
        "minItems": 1,
        "description": Flavour.model_fields["steps"].description,
        "items": {"anyOf": [{"type": "string", "enum": catalogue.names()}, *step_entries]},
    }
    schema["$defs"].pop("StepUse", None)
    return schema


def _param_type(kind: str) -> dict[str, Any]:
    if kind == "list":
        return {"type": "array", "items": {"type": "string"}}
    if kind in ("file", "directory"):  # a path inside image_flavours/: embedded (file) or uploaded (directory)
        return {"type": "string"}
    if kind == "mapping":
        return {"type": "object"}
    if kind == "name":  # a use's readable name (use_names.py)
        return {"type": "string", "pattern": USE_NAME_PATTERN.pattern, "maxLength": USE_NAME_LIMIT}
    if kind == "environment":  # NAME: value, plain text or whole numbers
        return {"type": "object", "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": {"type": ["string", "integer"]}}
    if kind == "secret":
        return _SECRET_REFERENCE
    if kind == "secrets":  # NAME: a secret reference
        return {"type": "object", "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": _SECRET_REFERENCE}
    return {"type": kind}


# {secret: {aws: ..., azure: ...}}: where a secret lives (secret_refs.py checks each form).
_SECRET_REFERENCE: dict[str, Any] = {
    "type": "object", "required": ["secret"], "additionalProperties": False,
    "properties": {"secret": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {
            "aws": {"type": "string", "pattern": "^(secretsmanager:|ssm:/|arn:aws)",
                    "description": "secretsmanager:<name>, ssm:/<parameter path>, or a complete secret or parameter ARN"},
            "azure": {"type": "string", "pattern": "^https://[A-Za-z0-9-]{3,24}\\.vault\\.azure\\.net/secrets/",
                      "description": "https://<vault>.vault.azure.net/secrets/<name>[/<version>]"},
        },
    }},
}


def render() -> str:
    return json.dumps(flavour_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
