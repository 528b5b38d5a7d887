"""Lineage tags: what an image was built from, written on every AMI and gallery image version.

Pure: no Pulumi, no cloud SDK. The renderers put these tags on the images
(AWS: the distribution's amiDistributionConfiguration.amiTags; Azure: the
SharedImage distributor's artifactTags) and `make images` reads them back, so
any consumer can trace an image to its flavour, version, commit and base.

Keys live in the project's `golden-images:` namespace and satisfy both clouds:
EC2 Image Builder TagKey `^(?!aws:)[a-zA-Z0-9\\s_.:/=+\\-@]*$` (1-128), Azure tag
names without `<>%&\\?/`; values at most 256 characters on both.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Optional

from .settings import NAMESPACE

FLAVOUR = f"{NAMESPACE}:flavour"
VERSION = f"{NAMESPACE}:version"
SOURCE_COMMIT = f"{NAMESPACE}:source-commit"
BUILT_FROM = f"{NAMESPACE}:built-from"
BASE_FLAVOUR = f"{NAMESPACE}:base-flavour"

LINEAGE_KEYS = (FLAVOUR, VERSION, SOURCE_COMMIT, BUILT_FROM, BASE_FLAVOUR)
VALUE_LIMIT = 256  # AWS TagValue and Azure tag values
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,40}$")


def lineage_tags(flavour: str, version: str, source_commit: Optional[str], built_from: str,
                 base_flavour: Optional[str] = None) -> dict[str, str]:
    """The lineage tags of one flavour's images.

    `built_from` is the parent as the build service receives it: the marketplace
    image (AWS `ssm:/aws/service/...`, an AMI id or an Image Builder image ARN;
    Azure `publisher:offer:sku:version`), or for a layered flavour the reference
    to its base flavour's image (with `base_flavour` naming that flavour).
    A missing commit (a deploy from outside CI) leaves its tag out rather than
    writing a guess. Raises ValueError for a value no cloud would accept.
    """
    tags = {FLAVOUR: flavour, VERSION: version, BUILT_FROM: built_from}
    if source_commit:
        if not _COMMIT.match(source_commit):
            raise ValueError(f"source commit '{source_commit}' is not a git commit id (7-40 hex digits)")
        tags[SOURCE_COMMIT] = source_commit.lower()
    if base_flavour:
        tags[BASE_FLAVOUR] = base_flavour
    for key, value in tags.items():
        if not value:
            raise ValueError(f"lineage tag '{key}' needs a value")
        if len(value) > VALUE_LIMIT:
            raise ValueError(f"lineage tag '{key}' is {len(value)} characters, the clouds take at most {VALUE_LIMIT}")
    return tags


def azure_marketplace_reference(publisher: str, offer: str, sku: str, version: str) -> str:
    """An Azure Marketplace image as the Azure CLI spells a URN."""
    return f"{publisher}:{offer}:{sku}:{version}"


def read_lineage(tags: Optional[Mapping[str, str]]) -> dict[str, Optional[str]]:
    """The lineage found on an image's tags (None for each one missing), keyed without the namespace."""
    tags = tags or {}
    return {key.split(":", 1)[1]: tags.get(key) for key in LINEAGE_KEYS}
