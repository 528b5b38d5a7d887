"""Flavour texts the tests share."""

UBUNTU_BASE_IMAGE = """\
base_image:
  aws: ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id
  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}
"""


def ubuntu_flavour(name: str = "web", description: str = "A web server image", version: str = "1.0.0") -> str:
    """A Linux flavour file up to `steps:`; the test appends its steps."""
    return f"name: {name}\ndescription: {description}\nversion: {version}\nos: linux\n{UBUNTU_BASE_IMAGE}steps:\n"
