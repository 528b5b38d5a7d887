"""What the program reads from the Pulumi engine: the stack's config and where it came from."""
from __future__ import annotations

import json
import os
from typing import Any, Optional

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from .model.settings import NAMESPACE


def read_config() -> dict[str, Any]:
    """Every `golden-images:*` key of the stack, objects decoded, so unknown keys are caught too."""
    raw = {**get_config_env(), **CONFIG.get()}
    values = {}
    for key, value in raw.items():
        if not key.startswith(NAMESPACE + ":"):
            continue
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        values[key] = value
    return values


def settings_source() -> str:
    return f"Pulumi.{pulumi.get_stack()}.yaml"


def source_commit() -> Optional[str]:
    """The commit being deployed, when CI says so (tagged onto images for traceability)."""
    value = os.environ.get("GOLDEN_IMAGES_SOURCE_COMMIT") or os.environ.get("GITHUB_SHA")
    return value[:40] if value else None
