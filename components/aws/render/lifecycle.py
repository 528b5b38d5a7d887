"""Lifecycle policies: old AMIs deprecated, then deleted with their snapshots."""
from __future__ import annotations

from typing import Any

from ...model.build import FlavourBuild
from ...model.settings import AwsSettings
from .names import flavour_resource_name


def lifecycle_policy_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, recipe: Any,
                          execution_role_arn: Any, tags: dict[str, str]) -> dict[str, Any]:
    """CreateLifecyclePolicy: deprecate old AMIs, then delete them with their snapshots.

    Images are selected by recipe, not by tag: pipeline-built images carry only
    the tags of the pipeline's `imageTags`, which pulumi-aws cannot set yet.
    The version wildcard keeps every version of the recipe in scope. recipe: the
    recipe's name (an Output when its parent is found at deploy time).
    """
    keep = aws.lifecycle.keep_images
    details: list[dict[str, Any]] = []
    if aws.lifecycle.deprecate_after_days:
        details.append({"action": {"type": "DEPRECATE", "include_resources": {"amis": True}},
                        "filter": {"type": "AGE", "value": aws.lifecycle.deprecate_after_days, "unit": "DAYS"}})
    # Image Builder takes COUNT filters only with DELETE, so deprecation needs an age.
    # An image still in use (launched recently) is kept whatever its rank: deleting it would
    # break the auto-scaling groups and templates that launch it. AMIs never launched are
    # not excluded (Image Builder: no recorded last-launched time, no exclusion).
    details.append({"action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
                    "filter": {"type": "COUNT", "value": keep},
                    "exclusion_rules": {"amis": {"last_launched": {
                        "unit": "DAYS", "value": aws.lifecycle.keep_launched_within_days}}}})
    return {
        "name": flavour_resource_name(prefix, build),
        "description": f"Keep the newest {keep} images of {build.name}",
        "execution_role": execution_role_arn,
        "resource_type": "AMI_IMAGE",
        "status": "ENABLED",
        "policy_details": details,
        "resource_selection": {"recipes": [{"name": recipe, "semantic_version": "x.x.x"}]},
        "tags": tags,
        "region": aws.region,
    }
