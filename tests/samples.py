"""Flavour texts the tests share."""

UBUNTU_BASE_IMAGE = """\
base_image:
  aws: ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id
  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}
"""


def ubuntu_flavour(name: str = "web", description: str = "A web server image", version: str = "1.0.0") -> str:
    """A Linux flavour file up to `steps:`; the test appends its steps."""
    return f"name: {name}\ndescription: {description}\nversion: {version}\nos: linux\n{UBUNTU_BASE_IMAGE}steps:\n"


def stack_config(**overrides) -> dict:
    """Config keys of a stack building on both clouds; `overrides` replace golden-images:<key>."""
    raw = {
        "golden-images:clouds": ["aws", "azure"],
        "golden-images:schedule": {"every": "week", "on": "sunday", "at": "02:00", "timezone": "Europe/Amsterdam"},
        "golden-images:aws": {"region": "eu-west-1"},
        "golden-images:azure": {"location": "westeurope"},
        "aws:region": "eu-west-1",
    }
    raw.update({f"golden-images:{k}": v for k, v in overrides.items()})
    return raw


# The flavour a stack retires in the retirement tests: the previous LTS, still built until
# its consumers move to ubuntu-2404 (image_flavours/ubuntu-2404.yaml).
UBUNTU_2204 = """\
name: ubuntu-2204
description: Ubuntu Server 22.04 LTS, for Linux services not yet moved to 24.04.
version: 3.2.0
os: linux
base_image:
  aws: ssm:/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id
  azure: {publisher: Canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts-gen2, version: latest}
steps:
  - os-updates
  - linux-baseline
  - cleanup
"""
RETIRE_2204 = {"flavour": "ubuntu-2204", "reason": "Ubuntu 22.04 leaves standard support in April 2027",
               "replaced_by": "ubuntu-2404"}
# The subscription of the mock engine (components/mocks.py), as a stack would set it to adopt.
SUBSCRIPTION_ID = "8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48"
