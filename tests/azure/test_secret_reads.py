"""Secret references on Azure, as the program registers them: the build VM of a flavour that
reads secrets carries the build VM identity, which reads exactly the referenced secrets.

Facts (Azure documentation): vmProfile.userAssignedIdentities are the user-assigned identities
Image Builder configures on the build and validation VMs, and the template's identity needs
the right to assign them (what the built-in "Managed Identity Operator",
f1a07417-d97a-45cb-824c-7a7467783830, grants: userAssignedIdentities/*/read and */assign/action);
"Key Vault Secrets User" (4633458b-17de-408a-b874-0445c86b69e6) reads secret contents, and
Key Vault's Azure RBAC accepts an assignment scoped to one secret
(<vault id>/secrets/<name>); a role assignment names the role by
/subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<role id>.
"""
from __future__ import annotations

import base64
import re

import pytest

from components.mocks import SUBSCRIPTION_ID
from tests.conftest import ProjectCopy
from tests.samples import SECRET_TEAM_FLAVOUR, SECRET_VAULT_ID

TEMPLATE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
DEFINITION = "azure-native:authorization:RoleDefinition"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    project = ProjectCopy(tmp_path_factory.mktemp("secrets"))
    project.write_flavour("feed-consumer.yaml", SECRET_TEAM_FLAVOUR)
    config = project.config("dev")
    config["golden-images:azure"] = {**config["golden-images:azure"], "key_vaults": {"contoso-kv": SECRET_VAULT_ID}}
    return project.plan("dev", config=config)


def _template(plan, flavour):
    [template] = [t for t in plan.of_type(TEMPLATE) if t.name.startswith(f"{flavour}-")]
    return template


def _build_vm_identity_id():
    return (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/golden-images-dev/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/golden-images-dev-build-vm")


def test_only_the_flavour_reading_secrets_puts_the_build_vm_identity_on_its_vm(plan):
    [identity] = [i for i in plan.of_type(IDENTITY) if i.name == "build-vm"]
    assert identity.inputs["resourceName"] == "golden-images-dev-build-vm"
    assert _template(plan, "feed-consumer").inputs["vmProfile"]["userAssignedIdentities"] == [_build_vm_identity_id()]
    for template in plan.of_type(TEMPLATE):
        # The app server reads the stack's artefact container with the same identity (tests/test_artefact_store.py).
        if not template.name.startswith(("feed-consumer-", "windows-2022-app-server-")):
            assert "userAssignedIdentities" not in template.inputs["vmProfile"], template.name


def test_the_build_vm_identity_reads_exactly_each_referenced_secret(plan):
    reads = [a for a in plan.of_type(ASSIGNMENT)
             if a.name.startswith("build-vm-reads-") and a.name != "build-vm-reads-artefacts"]
    role = ("/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/"
            f"roleDefinitions/{KEY_VAULT_SECRETS_USER}")
    assert sorted((a.inputs["scope"], a.inputs["roleDefinitionId"]) for a in reads) == [
        (f"{SECRET_VAULT_ID}/secrets/datadog-api-key", role),
        (f"{SECRET_VAULT_ID}/secrets/feed-token", role),
    ]
    principals = {a.inputs["principalId"] for a in reads}
    assert len(principals) == 1 and principals != {None}
    # The build VM's identity, not the template's (the builder's, as on its gallery assignment), reads them.
    [builder_gallery] = [a for a in plan.of_type(ASSIGNMENT) if a.name == "builder-gallery"]
    assert builder_gallery.inputs["principalId"] not in principals


def test_the_template_identity_may_assign_only_the_build_vm_identity(plan):
    [assign] = [a for a in plan.of_type(ASSIGNMENT) if a.name == "builder-assigns-build-vm-identity"]
    assert assign.inputs["scope"] == _build_vm_identity_id()
    [role] = [d for d in plan.of_type(DEFINITION) if d.name == "build-vm-identity-assigner-role"]
    # Managed Identity Operator's two actions, nothing else, as one of the factory's custom roles.
    assert role.inputs["permissions"] == [{"actions": [
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"], "notActions": []}]
    assert role.inputs["roleType"] == "CustomRole"
    assert MANAGED_IDENTITY_OPERATOR not in str(assign.inputs["roleDefinitionId"])
    [builder_gallery] = [a for a in plan.of_type(ASSIGNMENT) if a.name == "builder-gallery"]
    assert assign.inputs["principalId"] == builder_gallery.inputs["principalId"]


def test_the_shipped_stacks_read_no_secret_and_only_the_app_server_carries_the_build_vm_identity(plans):
    for stack_plan in plans.values():
        # The shipped stacks' one reader of the artefact container, windows-2022-app-server, needs it.
        assert len([i for i in stack_plan.of_type(IDENTITY) if i.name == "build-vm"]) == 1
        assert not [a for a in stack_plan.of_type(ASSIGNMENT)
                    if a.name.startswith("build-vm-reads-") and a.name != "build-vm-reads-artefacts"]
        for template in stack_plan.of_type(TEMPLATE):
            if not template.name.startswith("windows-2022-app-server-"):
                assert "userAssignedIdentities" not in template.inputs["vmProfile"], template.name


def _scripts(template) -> str:
    """The customizers' text, with each base64-carried script decoded."""
    text = []
    for customizer in template.inputs["customize"]:
        for line in customizer.get("inline", []):
            text.append(line)
            text.extend(base64.b64decode(m).decode() for m in re.findall(r"'([A-Za-z0-9+/=]{40,})'", line))
    return "\n".join(text)


def test_the_customizer_reads_the_key_vault_reference_with_the_helper(plan):
    text = _scripts(_template(plan, "feed-consumer"))
    assert "gi_read_secret FEED_TOKEN 'https://contoso-kv.vault.azure.net/secrets/feed-token'" in text
    assert "resource=https%3A%2F%2Fvault.azure.net" in text  # the IMDS token for Key Vault
    assert "?api-version=7.4" in text
    assert "secretsmanager:golden-images/feed-token" not in text  # only Azure's reference
    assert "export GI_PARAM_API_KEY='https://contoso-kv.vault.azure.net/secrets/datadog-api-key'" in text
