"""A team flavour that reads secrets still renders inputs the clouds' API models accept: its
AWSTOE documents (the reading helper inline, within the 16,000-character limit) and its
image template with vmProfile.userAssignedIdentities (azure-mgmt-imagebuilder's model)."""
from __future__ import annotations

import pytest

from components.mocks import SUBSCRIPTION_ID
from tests.conftest import ProjectCopy
from tests.samples import SECRET_TEAM_FLAVOUR, SECRET_VAULT_ID

from . import aws_api, awstoe
from . import azure_api as api


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    project = ProjectCopy(tmp_path_factory.mktemp("secrets"))
    project.write_flavour("feed-consumer.yaml", SECRET_TEAM_FLAVOUR)
    config = project.config("dev")
    config["golden-images:azure"] = {**config["golden-images:azure"], "key_vaults": {"contoso-kv": SECRET_VAULT_ID}}
    return project.plan("dev", config=config)


def test_the_documents_reading_secrets_are_valid_awstoe(plan):
    components = [c for c in plan.of_type("aws:imagebuilder/component:Component")
                  if "gi_read_secret() {" in c.inputs["data"]]
    assert len(components) == 2  # the script and datadog-agent
    problems = [f"{c.name}: {e}" for c in components
                for e in awstoe.check_document(c.inputs["data"], c.inputs.get("platform"))
                + aws_api.check(c.type, c.inputs)]
    assert not problems, problems


def test_the_template_with_the_build_vm_identity_satisfies_the_api(plan):
    [template] = [t for t in plan.of_type(api.TEMPLATE_TYPE) if t.name.startswith("feed-consumer-")]
    assert template.inputs["vmProfile"]["userAssignedIdentities"] == [
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/golden-images-dev/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/golden-images-dev-build-vm"]
    assert api.check_template(template.inputs, logical_name=template.name, default_location="westeurope") == []
