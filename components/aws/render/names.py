"""Names, partitions, ARNs and tags shared by every Image Builder object of a stack."""
from __future__ import annotations

import re
from typing import Mapping

from ...model.build import FlavourBuild
from ...model.errors import RenderError
from ...model.settings import aws_partition

TAG_NAMESPACE = "golden-images"
NAME_LIMIT = 128  # Image Builder ResourceName: ^[-_A-Za-z-0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z-0-9]$
TAG_LIMIT = 50  # TagMap on Image Builder resources and AMIs
RESOURCE_TAG_LIMIT = 30  # ResourceTagMap: tags on the build instances
LOG_PREFIX = "image-builder"


def name_prefix(stack: str) -> str:
    """Prefix of every Image Builder name: two stacks can share an account and region."""
    # 16 characters keep autonamed IAM roles (prefix + "-imagebuilder-lifecycle" + Pulumi's
    # 8-character suffix) within IAM's 64.
    slug = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-")[:16].strip("-")
    return f"{TAG_NAMESPACE}-{slug or 'stack'}"


def hashed_name(readable: str, digest: str) -> str:
    """`<readable>-<digest>`, the readable part cut so the whole fits Image Builder's limit."""
    room = NAME_LIMIT - len(digest) - 1
    return f"{readable[:room].rstrip('-')}-{digest}"


def partition(region: str) -> str:
    """aws, aws-cn or aws-us-gov, from botocore's endpoint data (no API call)."""
    return aws_partition(region)


def managed_component_arn(component: str, region: str, version: str = "x.x.x", owner: str = "aws") -> str:
    """An AWS-managed (owner aws) or AWS Marketplace (owner aws-marketplace) component at a version;
    x wildcards take the newest match at build time.

    Image Builder's ARN pattern (GetMarketplaceResource.resourceArn in the API reference) takes as
    owner a 12-digit account or `aws(?:-[a-z-]+)?`, which admits aws-marketplace.
    """
    if owner not in ("aws", "aws-marketplace"):
        raise RenderError(f"component owner '{owner}': expected aws or aws-marketplace")
    return f"arn:{partition(region)}:imagebuilder:{region}:{owner}:component/{component}/{version}"


def managed_policy_arn(policy: str, region: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{policy}"


def image_builder_service_role_arn(account_id: str, region: str) -> str:
    return (f"arn:{partition(region)}:iam::{account_id}:role/aws-service-role/"
            "imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder")


def image_arn(region: str, account_id: str, recipe: str) -> str:
    """The newest image a recipe of this account built (Image Builder names images after their recipe)."""
    return f"arn:{partition(region)}:imagebuilder:{region}:{account_id}:image/{recipe.lower()}/x.x.x"


def flavour_resource_name(prefix: str, build: FlavourBuild) -> str:
    return f"{prefix}-{build.name}"


def flavour_tags(build: FlavourBuild) -> dict[str, str]:
    """Tags on every resource of one flavour and on its AMIs."""
    return checked_tags(dict(build.tags), TAG_LIMIT, f"flavour '{build.name}'")


def component_tags(stack_tags: Mapping[str, str], step_name: str) -> dict[str, str]:
    """Components are shared between flavours, so they carry the stack's tags and their step."""
    return checked_tags({**stack_tags, f"{TAG_NAMESPACE}:step": step_name}, TAG_LIMIT, f"step '{step_name}'")


def checked_tags(tags: dict[str, str], limit: int, owner: str) -> dict[str, str]:
    if len(tags) > limit:
        raise RenderError(f"{owner}: {len(tags)} tags, AWS takes at most {limit} here; "
                          "remove some from the stack's or the flavour's tags")
    return tags
