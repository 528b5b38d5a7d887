"""The stack's artefact store: artifact steps by key, the Azure read grant, refusals; Marketplace components."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from tests.builds import builds_of
from tests.samples import stack_config

ACCOUNT_ID = ("/subscriptions/0b6f2a4c-8d1e-4f3a-9c5b-7e2d1a0f6b8c/resourceGroups/platform-artefacts/providers/"
              "Microsoft.Storage/storageAccounts/exampleplatformartefacts")
AWS = {"region": "eu-west-1", "artefacts": {"bucket": "team-artefacts", "prefix": "installers/"}}
AZURE = {"location": "westeurope", "artefacts": {"storage_account_id": ACCOUNT_ID, "container": "installers"}}

WINDOWS = """\
name: app
description: An app server
version: 1.0.0
os: windows
base_image:
  aws: ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-Base
  azure: {publisher: MicrosoftWindowsServer, offer: WindowsServer, sku: 2022-datacenter-core-g2}
steps:
"""
BY_KEY = """\
  - artifact:
      key: orders/orders-3.4.1.msi
      destination: C:\\golden-images\\downloads\\orders-3.4.1.msi
      sha256: 5f7c3c4d0b2b8f1e9a6d4c2e1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e
"""


def _inputs(tmp_path: Path, steps: str, **config):
    folder = tmp_path / "image_flavours"
    folder.mkdir(exist_ok=True)
    (folder / "app.yaml").write_text(WINDOWS + steps)
    return load_inputs(stack_config(**config), "Pulumi.dev.yaml", folder, tmp_path)


def _problems(tmp_path: Path, steps: str, **config) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        _inputs(tmp_path, steps, **config)
    return [str(p) for p in caught.value.problems]


def test_one_key_is_read_from_each_clouds_own_store(tmp_path):
    build = builds_of(_inputs(tmp_path, BY_KEY, aws=AWS, azure=AZURE))["app"]
    [aws] = [d for s in build.steps_on("aws") for d in s.downloads]
    [azure] = [d for s in build.steps_on("azure") for d in s.downloads]
    # The prefix is prepended to the key, in S3 object keys and in blob names alike.
    assert aws.url == "s3://team-artefacts/installers/orders/orders-3.4.1.msi"
    assert azure.url == "https://exampleplatformartefacts.blob.core.windows.net/installers/orders/orders-3.4.1.msi"


def test_a_key_without_the_stacks_store_names_the_stack_file(tmp_path):
    found = _problems(tmp_path, BY_KEY, aws={"region": "eu-west-1"}, azure=AZURE)
    assert found == ["image_flavours/app.yaml: steps[0].artifact.key: this flavour runs it on aws, but "
                     "Pulumi.dev.yaml names no artefact store there: set golden-images:aws.artefacts "
                     "{bucket: <name>, prefix: installers/}, or give a source URL"]


def test_a_key_used_only_on_aws_needs_no_azure_store(tmp_path):
    steps = BY_KEY + "    options: {only_on: aws}\n"
    build = builds_of(_inputs(tmp_path, steps, aws=AWS))["app"]
    assert [d.url for s in build.steps_on("aws") for d in s.downloads] == [
        "s3://team-artefacts/installers/orders/orders-3.4.1.msi"]


def test_source_and_key_together_are_refused(tmp_path):
    steps = BY_KEY.replace("      key:", "      source: s3://team-artefacts/x.msi\n      key:")
    found = _problems(tmp_path, steps, aws=AWS, azure=AZURE)
    assert any("steps[0].artifact" in p and "source" in p and "key" in p for p in found), found


@pytest.mark.parametrize("artefacts, field", [
    ({"bucket": "Team_Artefacts"}, "golden-images:aws.artefacts.bucket"),
    ({"bucket": "team-artefacts", "prefix": "/installers"}, "golden-images:aws.artefacts.prefix"),
    ({"bucket": "team-artefacts", "prefx": "installers/"}, "golden-images:aws.artefacts.prefx"),
])
def test_bad_aws_store_settings_name_the_field(tmp_path, artefacts, field):
    found = _problems(tmp_path, BY_KEY, aws={"region": "eu-west-1", "artefacts": artefacts}, azure=AZURE)
    assert any(p.startswith(f"Pulumi.dev.yaml: {field}") for p in found), found


@pytest.mark.parametrize("artefacts, field", [
    ({"storage_account_id": "/subscriptions/x/storageAccounts/a", "container": "installers"},
     "golden-images:azure.artefacts.storage_account_id"),
    ({"storage_account_id": ACCOUNT_ID, "container": "in--stallers"}, "golden-images:azure.artefacts.container"),
    ({"storage_account_id": ACCOUNT_ID}, "golden-images:azure.artefacts.container"),
])
def test_bad_azure_store_settings_name_the_field(tmp_path, artefacts, field):
    found = _problems(tmp_path, BY_KEY, aws=AWS, azure={"location": "westeurope", "artefacts": artefacts})
    assert any(p.startswith(f"Pulumi.dev.yaml: {field}") for p in found), found


def test_a_blob_outside_the_stacks_container_is_refused(project):
    flavour = project.flavour_text("windows-2022-app-server.yaml")
    flavour = flavour.replace(
        "      key: contoso-orders/contoso-orders-3.4.1-x64.msi\n",
        "      source: https://otheraccount.blob.core.windows.net/installers/contoso-orders-3.4.1-x64.msi\n")
    checksum = "      sha256: 5f7c3c4d0b2b8f1e9a6d4c2e1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e\n"
    flavour = flavour.replace(checksum, checksum + "    options: {only_on: azure}\n", 1)
    project.write_flavour("windows-2022-app-server.yaml", flavour)
    from components.stack_file import UserError

    with pytest.raises((UserError, ValidationFailed)) as caught:
        project.plan("dev")
    text = str(caught.value) if not isinstance(caught.value, ValidationFailed) else "\n".join(
        str(p) for p in caught.value.problems)
    assert "image_flavours/windows-2022-app-server.yaml: steps[" in text
    assert "outside the stack's artefact container https://exampleplatformartefacts.blob.core.windows.net/installers" in text


# --- the Azure grant, as the shipped dev plan registers it -----------------------------------

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
# Azure RBAC built-in roles (Storage): Storage Blob Data Reader's role definition id.
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


def _by_name(plan, typ):
    return {r.name: r for r in plan.of_type(typ)}


def test_build_vm_identity_reads_exactly_the_container(plans):
    plan = plans["dev"]
    identities = _by_name(plan, "azure-native:managedidentity:UserAssignedIdentity")
    vm_identity = identities["build-vm"]
    assignments = _by_name(plan, ROLE_ASSIGNMENT)
    grant = assignments["build-vm-reads-artefacts"].inputs
    # A container's scope is the storage account's id + /blobServices/default/containers/<name>.
    assert grant["scope"] == f"{ACCOUNT_ID}/blobServices/default/containers/installers"
    assert grant["roleDefinitionId"] == ("/subscriptions/0b6f2a4c-8d1e-4f3a-9c5b-7e2d1a0f6b8c/providers/"
                                         f"Microsoft.Authorization/roleDefinitions/{BLOB_DATA_READER}")
    principals = {r.name: r for r in plan.resources if r.name in ("build-vm", "builder")}
    assert vm_identity.inputs["resourceName"] == "golden-images-dev-build-vm"
    assert grant["principalType"] == "ServicePrincipal"
    # No other assignment names the team's storage account, nor gives the VM identity anything else.
    on_account = [name for name, r in assignments.items() if "exampleplatformartefacts" in json.dumps(r.inputs)
                  or "platform-artefacts" in json.dumps(r.inputs)]
    assert on_account == ["build-vm-reads-artefacts"]
    vm_principal = grant["principalId"]
    assert [name for name, r in assignments.items() if r.inputs.get("principalId") == vm_principal] == [
        "build-vm-reads-artefacts"]
    assert principals  # both identities are registered


def test_builder_may_attach_the_identity_and_nothing_wider(plans):
    plan = plans["dev"]
    assignments = _by_name(plan, ROLE_ASSIGNMENT)
    attach = assignments["builder-assigns-build-vm-identity"].inputs
    assert attach["scope"].endswith("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/golden-images-dev-build-vm")
    definitions = {r.name: r for r in plan.of_type("azure-native:authorization:RoleDefinition")}
    # Attaching a user-assigned identity to a VM takes its read and assign actions (Managed Identity
    # Operator's two actions), held by a custom role assigned on that identity alone.
    assert definitions["build-vm-identity-assigner-role"].inputs["permissions"] == [{"actions": [
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"], "notActions": []}]
    [permission] = definitions["builder-role"].inputs["permissions"]
    assert not [a for a in permission["actions"] if a.startswith("Microsoft.ManagedIdentity/")]
    # The builder (template) identity gets no new data action: it never reads the team's container.
    assert permission.get("dataActions", []) in ([], ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"])
    assert not [n for n, r in assignments.items()
                if n != "build-vm-reads-artefacts" and "Microsoft.Storage/storageAccounts/exampleplatformartefacts"
                in str(r.inputs.get("scope"))]


def test_template_puts_the_identity_on_the_build_vm_and_fetches_with_imds(plans):
    plan = plans["dev"]
    templates = _by_name(plan, "azure-native:virtualmachineimages:VirtualMachineImageTemplate")
    template = templates["windows-2022-app-server-template"].inputs
    vm_ids = template["vmProfile"]["userAssignedIdentities"]
    assert len(vm_ids) == 1 and vm_ids[0].endswith("/userAssignedIdentities/golden-images-dev-build-vm")
    # The template's own identity stays the builder, and only it.
    assert list(template["identity"]["userAssignedIdentities"])[0].endswith("golden-images-dev-builder")
    [fetch] = [c for c in template["customize"] if c["name"].endswith("artifact-contoso-orders-fetch")]
    script = "\n".join(fetch["inline"])
    # IMDS token endpoint for managed identities (Microsoft Entra docs), audience Azure Storage,
    # and the user-assigned identity picked by its client id.
    assert ("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
            "&resource=https%3A%2F%2Fstorage.azure.com%2F&client_id=") in script
    assert "Metadata = 'true'" in script
    # OAuth requests to Blob storage need x-ms-version 2017-11-09 or later.
    version = script.split("'x-ms-version' = '")[1].split("'")[0]
    assert version >= "2017-11-09"
    assert ("https://exampleplatformartefacts.blob.core.windows.net/installers/contoso-orders/"
            "contoso-orders-3.4.1-x64.msi") in script
    # No File customizer with the builder identity for it any more.
    assert not [c for c in template["customize"] if c["type"] == "File"
                and "exampleplatformartefacts" in str(c.get("sourceUri"))]


def test_flavours_without_artefacts_get_no_vm_identity(plans):
    templates = _by_name(plans["dev"], "azure-native:virtualmachineimages:VirtualMachineImageTemplate")
    others = [name for name, t in templates.items() if "userAssignedIdentities" in t.inputs["vmProfile"]]
    assert others == ["windows-2022-app-server-template"]


def test_aws_role_reads_exactly_the_keyed_object(plans):
    [policy] = [r for r in plans["dev"].resources if r.name.endswith("-imagebuilder-instance-artifacts")]
    document = json.loads(policy.inputs["policy"])
    resources = [res for st in document["Statement"] for res in
                 (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])]
    assert resources == ["arn:aws:s3:::example-platform-artefacts/installers/contoso-orders/contoso-orders-3.4.1-x64.msi"]
