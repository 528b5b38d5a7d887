"""Which Linux distribution a flavour's marketplace base image is, when its name says so.

Pure and deliberately conservative: a name that matches none of these patterns (an AMI id, a
private image, another publisher) is unknown, and unknown bases are allowed. Steps that cannot run
on a distribution name it in step.yaml (`unsupported_distributions`); the loader refuses them then,
instead of the build failing hours in.
"""

from __future__ import annotations

import re
from typing import Literal, Optional, get_args

from .flavour import AzureImageRef, BaseImage

Distribution = Literal[
    "ubuntu-22.04", "ubuntu-24.04", "debian-12", "rhel-8", "rhel-9", "amazon-linux-2", "amazon-linux-2023",
]
DISTRIBUTIONS: tuple[str, ...] = get_args(Distribution)

NAMES: dict[str, str] = {
    "ubuntu-22.04": "Ubuntu 22.04", "ubuntu-24.04": "Ubuntu 24.04", "debian-12": "Debian 12", "rhel-8": "RHEL 8",
    "rhel-9": "RHEL 9", "amazon-linux-2": "Amazon Linux 2", "amazon-linux-2023": "Amazon Linux 2023",
}

# AWS: public SSM parameter paths (/aws/service/canonical/ubuntu/server/24.04/...,
# /aws/service/debian/release/12/..., /aws/service/ami-amazon-linux-latest/al2023-ami-...,
# .../amzn2-ami-...) and Image Builder managed image ARNs (.../image/amazon-linux-2023-x86/x.x.x,
# .../image/red-hat-enterprise-linux-8-x86/..., .../image/ubuntu-server-22-lts-x86/...).
# First match wins: amazon-linux-2023 before amazon-linux-2.
_AWS: tuple[tuple[str, Distribution], ...] = (
    (r"/ubuntu/server/22\.04/|[:/]image/ubuntu-server-22-lts-", "ubuntu-22.04"),
    (r"/ubuntu/server/24\.04/|[:/]image/ubuntu-server-24-lts-", "ubuntu-24.04"),
    (r"/debian/release/(12|bookworm)/|[:/]image/debian-12-", "debian-12"),
    (r"/al2023-ami-|[:/]image/amazon-linux-2023-", "amazon-linux-2023"),
    (r"/amzn2-ami-|[:/]image/amazon-linux-2-", "amazon-linux-2"),
    (r"[:/]image/red-hat-enterprise-linux-8-", "rhel-8"),
    (r"[:/]image/red-hat-enterprise-linux-9-", "rhel-9"),
)


def aws_distribution(parent: object) -> Optional[Distribution]:
    """The distribution of an AWS parent image reference, or None when its name does not say (an AMI
    id, an AMI filter, per-region parents)."""
    if not isinstance(parent, str) or not (parent.startswith("ssm:") or parent.startswith("arn:")):
        return None
    return next((name for pattern, name in _AWS if re.search(pattern, parent)), None)


def azure_distribution(image: Optional[AzureImageRef]) -> Optional[Distribution]:
    """The distribution of an Azure Marketplace image (publisher, offer, sku), or None."""
    if image is None:
        return None
    publisher, offer, sku = ((value or "").lower() for value in (image.publisher, image.offer, image.sku))
    if publisher == "canonical":
        if offer in ("0001-com-ubuntu-server-jammy", "ubuntu-22_04-lts"):
            return "ubuntu-22.04"
        if offer in ("ubuntu-24_04-lts", "0001-com-ubuntu-server-noble"):
            return "ubuntu-24.04"
    if publisher == "debian" and offer == "debian-12":
        return "debian-12"
    if publisher == "redhat" and offer in ("rhel", "rhel-raw", "rhel-lvm"):
        # SKUs like 8-lvm-gen2, 8_10, 810, 9-lvm, 9_4, 94_gen2.
        if re.match(r"8([-_]|\d|$)", sku):
            return "rhel-8"
        if re.match(r"9([-_]|\d|$)", sku):
            return "rhel-9"
    return None


def base_distributions(base: BaseImage) -> dict[str, Distribution]:
    """cloud -> distribution, for each cloud whose base image names a known distribution."""
    found: dict[str, Optional[Distribution]] = {"aws": aws_distribution(base.aws), "azure": azure_distribution(base.azure)}
    return {cloud: name for cloud, name in found.items() if name is not None}
