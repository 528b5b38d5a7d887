"""Which distribution a base image is, and the load-time refusal of steps that cannot run on it."""

from pathlib import Path

import pytest

from components.model.distributions import aws_distribution, azure_distribution
from components.model.errors import ValidationFailed
from components.model.flavour import AzureImageRef
from components.model.loader import load_inputs
from tests.samples import stack_config as settings

PLAYBOOK = "- hosts: localhost\n  tasks:\n    - ansible.builtin.debug: {msg: hello}\n"
ANSIBLE = "  - ansible-playbook: {directory: ansible/web, playbook: site.yml}\n"


# Public SSM parameter paths as AWS and the publishers document them (docs.aws.amazon.com, "Query
# for the latest Amazon Linux AMI IDs using Systems Manager Parameter Store"; Canonical's "Find
# Ubuntu images on AWS"; Debian's cloud wiki) and Image Builder managed image ARNs.
@pytest.mark.parametrize("parent, expected", [
    ("ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", "ubuntu-24.04"),
    ("ssm:/aws/service/canonical/ubuntu/server/22.04/stable/current/arm64/hvm/ebs-gp2/ami-id", "ubuntu-22.04"),
    ("ssm:/aws/service/debian/release/12/latest/amd64", "debian-12"),
    ("ssm:/aws/service/debian/release/bookworm/latest/arm64", "debian-12"),
    ("ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "amazon-linux-2023"),
    ("ssm:/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2", "amazon-linux-2"),
    ("arn:aws:imagebuilder:eu-west-1:aws:image/red-hat-enterprise-linux-8-x86/x.x.x", "rhel-8"),
    ("arn:aws:imagebuilder:eu-west-1:aws:image/red-hat-enterprise-linux-9-x86/x.x.x", "rhel-9"),
    ("arn:aws:imagebuilder:eu-west-1:aws:image/amazon-linux-2023-x86/x.x.x", "amazon-linux-2023"),
    ("arn:aws:imagebuilder:eu-west-1:aws:image/amazon-linux-2-x86/x.x.x", "amazon-linux-2"),
    ("ami-0123456789abcdef0", None),  # an AMI id says nothing: allowed
    ("ssm:/myteam/base-ami", None),
])
def test_aws_parents(parent, expected):
    assert aws_distribution(parent) == expected


@pytest.mark.parametrize("publisher, offer, sku, expected", [
    ("Canonical", "ubuntu-24_04-lts", "server", "ubuntu-24.04"),
    ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "ubuntu-22.04"),
    ("Debian", "debian-12", "12-gen2", "debian-12"),
    ("RedHat", "RHEL", "8-lvm-gen2", "rhel-8"),
    ("RedHat", "RHEL", "810-gen2", "rhel-8"),
    ("RedHat", "RHEL", "9-lvm-gen2", "rhel-9"),
    ("RedHat", "RHEL", "94_gen2", "rhel-9"),
    ("OpenLogic", "CentOS", "8_5-gen2", None),
])
def test_azure_marketplace_images(publisher, offer, sku, expected):
    assert azure_distribution(AzureImageRef(publisher=publisher, offer=offer, sku=sku)) == expected


def load(tmp_path: Path, base: str, step: str = ANSIBLE):
    folder = tmp_path / "image_flavours"
    (folder / "ansible" / "web").mkdir(parents=True)
    (folder / "ansible" / "web" / "site.yml").write_text(PLAYBOOK)
    (folder / "web.yaml").write_text(
        f"name: web\ndescription: A web server image\nversion: 1.0.0\nos: linux\nbase_image:\n{base}steps:\n{step}")
    return load_inputs(settings(), "Pulumi.dev.yaml", folder, tmp_path)


def problems(tmp_path: Path, base: str, step: str = ANSIBLE) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        load(tmp_path, base, step)
    return [str(p) for p in caught.value.problems]


def test_ansible_on_amazon_linux_2_is_refused_when_the_flavour_is_loaded(tmp_path):
    base = ("  aws: ssm:/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2\n"
            "  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}\n")
    found = problems(tmp_path, base)
    assert found == ["image_flavours/web.yaml: steps[0].ansible-playbook: step 'ansible-playbook' does not support "
                     "Amazon Linux 2 (base_image.aws): Amazon Linux 2's Python is 3.7, too old for any ansible-core the "
                     "step can lock (3.9 at least); use script or linux-packages steps."]


def test_ansible_on_rhel_8_is_refused_on_each_cloud_that_builds_it(tmp_path):
    base = ("  aws: arn:aws:imagebuilder:eu-west-1:aws:image/red-hat-enterprise-linux-8-x86/x.x.x\n"
            "  azure: {publisher: RedHat, offer: RHEL, sku: 8-lvm-gen2}\n")
    found = problems(tmp_path, base, "  - os-updates\n" + ANSIBLE)
    assert [f.split(": ", 2)[1] for f in found] == ["steps[1].ansible-playbook"] * 2
    assert "RHEL 8 (base_image.aws)" in found[0] and "RHEL 8 (base_image.azure)" in found[1]
    assert "cannot manage a Python 3.6 target" in found[0]


def test_a_step_limited_to_the_other_cloud_is_not_refused(tmp_path):
    base = ("  aws: ssm:/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2\n"
            "  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}\n")
    step = "  - ansible-playbook: {directory: ansible/web, playbook: site.yml}\n    options: {only_on: azure}\n"
    assert load(tmp_path, base, step).flavours


@pytest.mark.parametrize("base", [
    "  aws: ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\n  azure: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server}\n",
    "  aws: ssm:/aws/service/debian/release/12/latest/amd64\n  azure: {publisher: Debian, offer: debian-12, sku: 12-gen2}\n",
    "  aws: arn:aws:imagebuilder:eu-west-1:aws:image/red-hat-enterprise-linux-9-x86/x.x.x\n  azure: {publisher: RedHat, offer: RHEL, sku: 9-lvm-gen2}\n",
    "  aws: ami-0123456789abcdef0\n  azure: {publisher: Contoso, offer: hardened-linux, sku: v3}\n",
], ids=["al2023", "debian-12", "rhel-9", "unknown-ami"])
def test_supported_and_unknown_bases_load(tmp_path, base):
    assert load(tmp_path, base).flavours
