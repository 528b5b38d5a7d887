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
# A team's Ubuntu image that needs two secrets at build time: a private package feed's token
# (used for one download, never kept) and, asked for explicitly, the Datadog API key baked
# into datadog.yaml. The vault is mapped to its resource id in the stack (azure.key_vaults).
SECRET_VAULT_ID = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/security/providers/"
                   "Microsoft.KeyVault/vaults/contoso-kv")
SECRET_TEAM_FLAVOUR = """\
name: feed-consumer
description: Ubuntu with the team's internal agent from its private feed
version: 1.0.0
os: linux
""" + UBUNTU_BASE_IMAGE + """\
steps:
  - os-updates
  # Ubuntu AMIs have no AWS CLI, which reads the secret on AWS.
  - aws-managed-component: {name: aws-cli-version-2-linux}
    options: {only_on: aws}
  - script:
      inline: |
        set -euo pipefail
        curl --fail --silent --show-error -H @- -o /var/tmp/internal-agent.deb \\
          https://artifacts.example.com/internal/agent_2.4.1_amd64.deb <<< "Authorization: Bearer ${FEED_TOKEN}"
        apt-get install -y /var/tmp/internal-agent.deb
        rm -f /var/tmp/internal-agent.deb
      check: dpkg -s internal-agent
      secrets:
        FEED_TOKEN:
          secret:
            aws: secretsmanager:golden-images/feed-token
            azure: https://contoso-kv.vault.azure.net/secrets/feed-token
  - datadog-agent:
      bake_key: true
      api_key:
        secret:
          aws: ssm:/agents/datadog/api-key
          azure: https://contoso-kv.vault.azure.net/secrets/datadog-api-key
  - linux-baseline
  - cleanup
"""


# Readable step names (tests/model/test_step_names.py, tests/aws/test_component_names.py,
# tests/azure/test_customizer_names.py): a team's web image with three scripts (two kept as
# files, one inline), two files and an artefact, the way image_flavours/rhel-9-stig.yaml and windows-2022-app-server.yaml mix them.
NAMED_STEPS_FLAVOUR = ubuntu_flavour() + """\
  - os-updates
  - script:
      file: scripts/web/crypto-and-banner.sh
      check: test -s /etc/issue
  - script:
      inline: "echo 'vm.swappiness = 10' > /etc/sysctl.d/90-web.conf"
  - script:
      name: nginx-tuning
      file: scripts/web/tune.sh
  - file: {source: files/web/chrony.conf, destination: /etc/chrony.conf}
  - file: {source: files/web/pki, destination: /etc/pki/ca-trust/source/anchors/corp, mode: "0644"}
  - artifact:
      key: web/agent-2.1.0.tar.gz
      destination: /var/tmp/golden-images/downloads/agent-2.1.0.tar.gz
"""
NAMED_STEPS_FILES = {
    "scripts/web/crypto-and-banner.sh": "#!/usr/bin/env bash\nset -euo pipefail\necho 'Authorised use only' > /etc/issue\n",
    "scripts/web/tune.sh": "#!/usr/bin/env bash\nset -euo pipefail\necho tuned\n",
    "files/web/chrony.conf": "server time.example.com iburst\n",
    "files/web/pki/corp-root.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
}
NAMED_STEPS_STORAGE = ("/subscriptions/0b6f2a4c-8d1e-4f3a-9c5b-7e2d1a0f6b8c/resourceGroups/platform-artefacts/"
                       "providers/Microsoft.Storage/storageAccounts/contosoartefacts")
NAMED_STEPS_STACK = {"aws": {"region": "eu-west-1", "artefacts": {"bucket": "contoso-build-artefacts"}},
                     "azure": {"location": "westeurope",
                               "artefacts": {"storage_account_id": NAMED_STEPS_STORAGE, "container": "build-artefacts"}}}
