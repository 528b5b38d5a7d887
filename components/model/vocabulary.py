"""The words every part of the project shares: the namespace, strict models, hints, content hashes.

Pure and dependency-free (pydantic aside), so the model, the renderers, the
mocks, plan-diff, the policy pack and the tests all say these things one way.
"""
from __future__ import annotations

import hashlib
import json
from difflib import get_close_matches
from typing import Any, Iterable, Optional

from pydantic import BaseModel, ConfigDict

NAMESPACE = "golden-images"

# Pulumi type tokens of the project's own components.
GOLDEN_IMAGE_TYPE = f"{NAMESPACE}:index:GoldenImage"
AWS_PIPELINE_TYPE = f"{NAMESPACE}:aws:ImagePipeline"
AWS_SHARED_TYPE = f"{NAMESPACE}:aws:SharedInfrastructure"
AWS_RETIRED_TYPE = f"{NAMESPACE}:aws:RetiredFlavour"
AZURE_TEMPLATE_TYPE = f"{NAMESPACE}:azure:ImageTemplate"
AZURE_SHARED_TYPE = f"{NAMESPACE}:azure:SharedInfrastructure"


class StrictModel(BaseModel):
    """Unknown fields are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def closest(value: str, known: Iterable[str]) -> Optional[str]:
    """The known name closest to a mistyped one, if any is close."""
    match = get_close_matches(str(value), sorted(known), n=1)
    return match[0] if match else None


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known name, or ''."""
    match = closest(value, known)
    return f" (did you mean '{match}'?)" if match else ""


def content_hash(payload: Any, length: int = 10, *, compact: bool = False) -> str:
    """Short, stable hash of JSON-able content: the suffix of every immutable object's name.

    `compact` drops the spaces after separators. Both spellings are kept because
    deployed names were hashed with them (AWS names spaced, Azure templates
    compact): changing either would rename, and so replace, every object.
    """
    separators = (",", ":") if compact else (", ", ": ")
    text = json.dumps(payload, sort_keys=True, separators=separators)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
