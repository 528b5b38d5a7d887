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
