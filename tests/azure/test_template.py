"""The Azure factory as the real program registers it under the mock engine (the `make plan` engine)."""
from __future__ import annotations

import copy

import pytest

from components.azure import render
from components.mocks import SUBSCRIPTION_ID, stable_guid
from components.model.assets import pack_directory, pack_file
from components.model.loader import load_inputs
from components.plan import ROOT, Plan, UserError, stack_config
from tests.builds import builds_of

TEMPLATE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
GALLERY_IMAGE = "azure-native:compute:GalleryImage"
WORKFLOW = "azure-native:logic:Workflow"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
DEFINITION = "azure-native:authorization:RoleDefinition"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
COMMAND = "command:local:Command"
TRIGGER = "azure-native:virtualmachineimages:Trigger"
BLOB = "azure-native:storage:Blob"
ACCOUNT = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
SUB = f"/subscriptions/{SUBSCRIPTION_ID}"
# Built-in roles that must never be handed out by this program.
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
STACKS = ["dev", "prod"]


def inputs_of(stack: str, root=ROOT, config=None):
    config = config if config is not None else stack_config(stack, root)[0]
    return load_inputs({k: v for k, v in config.items() if k.startswith("golden-images:")},
                       f"Pulumi.{stack}.yaml", root / "image_flavours", root)


def azure_flavours(stack: str):
    loaded = inputs_of(stack)
    return [b for b in builds_of(loaded).values() if b.builds_on("azure")], loaded


def one(resources: list, what: str):
    assert len(resources) == 1, f"expected one {what}, found {len(resources)}"
    return resources[0]


def under(plan: Plan, flavour: str, typ: str) -> list:
    component = one([r for r in plan.resources if r.type == "golden-images:azure:ImageTemplate" and r.name == flavour],
                    f"azure component {flavour}")
    return [r for r in plan.children(component.urn) if r.type == typ]


def numbers_as_floats(value):
    """Mocks deliver ints as floats; compare renderings the same way."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_floats(v) for v in value]
    return value


def asset_store(plan) -> str:
    """URL of the stack's build asset container (the storage account's name as the blobs name it)."""
    account = {b.inputs["accountName"] for b in plan.of_type(BLOB)}
    assert len(account) == 1
    return f"https://{account.pop()}.blob.core.windows.net/build-assets"


@pytest.mark.parametrize("stack", STACKS)
class TestTemplateInputs:
    def test_the_provider_receives_exactly_the_rendering(self, plans, stack):
        flavours, loaded = azure_flavours(stack)
        assert flavours
        names = render.FactoryNames.for_stack(stack, loaded.settings.azure)
        for flavour in flavours:
            template = one(under(plans[stack], flavour.name, TEMPLATE), "template")
            image = one(under(plans[stack], flavour.name, GALLERY_IMAGE), "image definition")
            expected_name = render.template_name(flavour, render.template_digest(
                render.render_template(flavour, loaded.settings.azure, render.symbolic_refs(names, flavour))))
            group = f"{SUB}/resourceGroups/{names.resource_group}"
            images = f"{group}/providers/Microsoft.Compute/galleries/{names.gallery}/images"
            refs = render.TemplateRefs(
                identity_id=f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{names.builder_identity}",
                gallery_image_id=f"{images}/{flavour.name}",
                staging_resource_group_id=f"{SUB}/resourceGroups/{render.staging_group_name(names, expected_name)}",
                base_image_id=f"{images}/{flavour.base.name}" if flavour.base else None,
                asset_store=asset_store(plans[stack]),
                # The app server reads the team's artefact container with the build VM's identity.
                build_vm_identity_id=(f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                                      f"{names.build_vm_identity}" if render.reads_artefacts(flavour) else None),
                build_vm_client_id=stable_guid("client", "build-vm") if render.reads_artefacts(flavour) else None,
            )
            body = numbers_as_floats(render.render_template(flavour, loaded.settings.azure, refs))
            assert template.inputs == {
                "imageTemplateName": expected_name,
                "resourceGroupName": names.resource_group,
                "location": body["location"],
                "tags": body["tags"],
                "identity": body["identity"],
                **body["properties"],
            }
            assert image.inputs["galleryImageName"] == flavour.name
            assert image.inputs["hyperVGeneration"] == flavour.root.base_image.azure.hyper_v_generation
            if flavour.base is not None:
                # A layer starts from the newest version of its base's gallery image.
                base = one(under(plans[stack], flavour.base.name, GALLERY_IMAGE), "base image definition")
                assert template.inputs["source"] == {"type": "SharedImageVersion",
                                                     "imageVersionId": f"{images}/{flavour.base.name}/versions/latest"}
                assert {k: image.inputs[k] for k in ("osType", "hyperVGeneration", "architecture", "features")} == {
                    k: base.inputs[k] for k in ("osType", "hyperVGeneration", "architecture", "features")}

    def test_templates_are_replaced_new_one_first_after_the_roles_propagated(self, plans, stack):
        plan = plans[stack]
        wait = one([r for r in plan.of_type(COMMAND) if r.name == "builder-roles-propagated"], "propagation wait")
        assignments = [r for r in plan.of_type(ASSIGNMENT) if r.name.startswith("builder-")]
        assert assignments
        assert {a.urn for a in assignments} <= set(wait.options["dependsOn"])
        seconds = int(wait.inputs["create"].split()[-1])
        assert wait.inputs["create"] == f"sleep {seconds}" and seconds >= 120
        for template in plan.of_type(TEMPLATE):
            assert wait.urn in template.options["dependsOn"]
            assert template.options["replaceOnChanges"] == ["*"]
            assert template.options["deleteBeforeReplace"] is False

    def test_each_template_has_its_own_staging_group(self, plans, stack):
        templates = plans[stack].of_type(TEMPLATE)
        groups = [t.inputs["stagingResourceGroup"] for t in templates]
        assert len(set(groups)) == len(templates)
        for template in templates:
            assert template.inputs["stagingResourceGroup"].startswith(f"{SUB}/resourceGroups/")
            assert template.inputs["stagingResourceGroup"].endswith(template.inputs["imageTemplateName"])

    def test_error_handling_per_stack(self, plans, stack):
        expected = {"dev": "abort", "prod": "cleanup"}[stack]
        for template in plans[stack].of_type(TEMPLATE):
            assert template.inputs["errorHandling"] == {"onCustomizerError": expected, "onValidationError": expected}


@pytest.mark.parametrize("stack", STACKS)
class TestPermissions:
    def test_no_assignment_at_subscription_scope_and_no_builtin_power_roles(self, plans, stack):
        plan = plans[stack]
        definitions = {r.name: r for r in plan.of_type(DEFINITION)}
        # The app server reads the artefact container with the build VM identity, which the builder
        # may put on its VMs through one more custom role (tests/test_artefact_store.py).
        assert set(definitions) == {"builder-role", "publisher-role", "runner-role", "build-vm-identity-assigner-role"}
        for assignment in plan.of_type(ASSIGNMENT):
            scope = assignment.inputs["scope"]
            if assignment.name == "build-vm-reads-artefacts":
                # The team's container, in its own subscription (tests/test_artefact_store.py).
                assert scope.endswith("/blobServices/default/containers/installers"), scope
            else:
                assert scope.startswith(f"{SUB}/resourceGroups/"), f"{assignment.name} is assigned at {scope}"
            role = assignment.inputs["roleDefinitionId"]
            assert CONTRIBUTOR not in role and OWNER not in role
            assert assignment.inputs["principalType"] == "ServicePrincipal"
        for definition in definitions.values():
            for permission in definition.inputs["permissions"]:
                assert all("*" not in action for action in permission["actions"])
            assert all(s.startswith(f"{SUB}/resourceGroups/") for s in definition.inputs["assignableScopes"])

    def test_builder_reads_the_gallery_and_writes_versions_of_each_flavours_own_definition_only(self, plans, stack):
        plan = plans[stack]
        [gallery] = plan.of_type("azure-native:compute:Gallery")
        assignment = one([r for r in plan.of_type(ASSIGNMENT) if r.name == "builder-gallery"], "gallery assignment")
        gallery_id = f"{SUB}/resourceGroups/{gallery.inputs['resourceGroupName']}/providers/Microsoft.Compute/galleries/{gallery.inputs['galleryName']}"
        assert assignment.inputs["scope"] == gallery_id
        role = one([r for r in plan.of_type(DEFINITION) if r.name == "builder-role"], "builder role")
        # Build assets exist in the shipped stacks: reading blobs is the one data action added.
        # docs/azure.md: the builder reads the gallery and build assets; writes nothing on the gallery.
        assert role.inputs["permissions"] == [{"actions": [
            "Microsoft.Compute/galleries/read",
            "Microsoft.Compute/galleries/images/read",
            "Microsoft.Compute/galleries/images/versions/read",
        ], "notActions": [], "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]}]
        publisher = one([r for r in plan.of_type(DEFINITION) if r.name == "publisher-role"], "publisher role")
        assert publisher.inputs["permissions"] == [{"actions": [
            "Microsoft.Compute/galleries/images/read",
            "Microsoft.Compute/galleries/images/versions/read",
            "Microsoft.Compute/galleries/images/versions/write",
        ], "notActions": []}]
        # One assignment per image definition, scoped to that definition (an ARM resource id is a
        # valid RBAC scope; a role assigned there reaches the definition's versions only).
        writers = [r for r in plan.of_type(ASSIGNMENT) if publisher.urn in r.options["dependsOn"]]
        names = sorted(r.inputs["galleryImageName"] for r in plan.of_type(GALLERY_IMAGE))
        assert sorted(r.inputs["scope"] for r in writers) == [f"{gallery_id}/images/{name}" for name in names]
        assert all(r.inputs["roleDefinitionId"] != assignment.inputs["roleDefinitionId"] for r in writers)
        # The builder's identity is the principal, and each template waits for its definition's assignment.
        for name in names:
            mine = one([r for r in plan.of_type(ASSIGNMENT) if r.name == f"{name}-publisher"], name)
            assert mine.inputs["principalId"] == assignment.inputs["principalId"]
            wait = one([r for r in plan.of_type(COMMAND) if r.name == f"{name}-publisher-propagated"], name)
            assert mine.urn in wait.options["dependsOn"]
            template = one(under(plan, name, TEMPLATE), "template")
            assert wait.urn in template.options["dependsOn"]

    def test_build_assets_are_private_and_read_by_the_builder_on_their_container_only(self, plans, stack):
        plan = plans[stack]
        account = one(plan.of_type(ACCOUNT), "storage account").inputs
        assert (account["allowBlobPublicAccess"], account["enableHttpsTrafficOnly"], account["minimumTlsVersion"]) == (
            False, True, "TLS1_2")
        # allowSharedKeyAccess null means true (Storage API); the provider's Blob needs the key
        # (pulumi-azure-native#2015), so it is on and said so; no object replication to other tenants.
        assert (account["allowSharedKeyAccess"], account["allowCrossTenantReplication"]) == (True, False)
        assert "publicNetworkAccess" not in account  # the deploying machine and the build VM upload and fetch over it
        container = one(plan.of_type(CONTAINER), "container").inputs
        assert (container["containerName"], container["publicAccess"]) == ("build-assets", "None")
        # One blob per packed content: the playbook folder, rhel-9-stig's two placed files and the
        # ansible-playbook step's own locks and helpers, and ubuntu-2404's goss suite.
        blobs = {b.inputs["blobName"]: b for b in plan.of_type(BLOB)}
        assert len(blobs) == len(plan.of_type(BLOB)) == 6
        sha = pack_directory(ROOT / "image_flavours" / "ansible" / "ubuntu-2404", "ansible/ubuntu-2404").sha256
        blob = blobs[f"assets/{sha}.tar.gz"]
        assert blob.inputs["source"] == {"asset": {"path": f"build/assets/{sha}.tar.gz"}}
        assert blob.inputs["containerName"] == "build-assets" and blob.inputs["type"] == "Block"
        assignment = one([r for r in plan.of_type(ASSIGNMENT) if r.name == "builder-assets"], "asset assignment")
        role = one([r for r in plan.of_type(DEFINITION) if r.name == "builder-role"], "builder role")
        assert assignment.inputs["scope"].endswith("/blobServices/default/containers/build-assets")
        gallery = one([r for r in plan.of_type(ASSIGNMENT) if r.name == "builder-gallery"], "gallery assignment")
        assert role.urn in assignment.options["dependsOn"]
        assert assignment.inputs["roleDefinitionId"] == gallery.inputs["roleDefinitionId"]  # the custom role, no built-in
        wait = one([r for r in plan.of_type(COMMAND) if r.name == "builder-roles-propagated"], "propagation wait")
        assert {assignment.urn, *(b.urn for b in blobs.values())} <= set(wait.options["dependsOn"])
        # The ubuntu template fetches it with its checksum, then places it where the step expects it.
        template = one(under(plan, "ubuntu-2404", TEMPLATE), "template").inputs
        (fetch,) = [c for c in template["customize"] if c["type"] == "File" and c.get("sha256Checksum") == sha]
        assert fetch["sourceUri"] == f"{asset_store(plan)}/assets/{sha}.tar.gz"
        assert fetch["sha256Checksum"] == sha
        after = template["customize"][template["customize"].index(fetch) + 1:]
        place = next(c for c in after if c["type"] == "Shell")  # the step's downloads are placed together
        assert f"sudo mv -f '{fetch['destination']}' '/var/tmp/golden-images/assets/{sha}.tar.gz'" in place["inline"]

    def test_schedule_identity_may_only_run_templates_in_the_factory_group(self, plans, stack):
        plan = plans[stack]
        role = one([r for r in plan.of_type(DEFINITION) if r.name == "runner-role"], "runner role")
        assert role.inputs["permissions"] == [{"actions": [
            "Microsoft.VirtualMachineImages/imageTemplates/read",
            "Microsoft.VirtualMachineImages/imageTemplates/run/action",
        ], "notActions": []}]
        assignment = one([r for r in plan.of_type(ASSIGNMENT) if r.name == "scheduler-runner"], "runner assignment")
        group = one(plan.of_type("azure-native:resources:ResourceGroup"), "factory group")
        assert assignment.inputs["scope"] == f"{SUB}/resourceGroups/{group.inputs['resourceGroupName']}"


@pytest.mark.parametrize("stack", STACKS)
class TestSchedule:
    def test_workflow_runs_its_flavours_current_template(self, plans, stack):
        flavours, loaded = azure_flavours(stack)
        names = render.FactoryNames.for_stack(stack, loaded.settings.azure)
        scheduler = one([r for r in plans[stack].of_type(IDENTITY) if r.name == "scheduler"], "scheduler identity")
        scheduler_id = (f"{SUB}/resourceGroups/{names.resource_group}/providers/"
                        f"Microsoft.ManagedIdentity/userAssignedIdentities/{scheduler.inputs['resourceName']}")
        for flavour in flavours:
            template = one(under(plans[stack], flavour.name, TEMPLATE), "template")
            workflow = one(under(plans[stack], flavour.name, WORKFLOW), "workflow")
            template_id = (f"{SUB}/resourceGroups/{names.resource_group}/providers/"
                           f"Microsoft.VirtualMachineImages/imageTemplates/{template.inputs['imageTemplateName']}")
            action = workflow.inputs["definition"]["actions"]["Run_image_template"]["inputs"]
            assert action["uri"] == f"https://management.azure.com{template_id}/run?api-version=2024-02-01"
            assert action["authentication"]["identity"] == scheduler_id
            assert workflow.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [scheduler_id]}
            assert workflow.inputs["state"] == "Enabled"

    def test_recurrence_is_the_stack_schedule(self, plans, stack):
        expected = {
            "dev": {"frequency": "Week", "interval": 1.0, "startTime": "2025-01-01T00:00:00",
                    "timeZone": "W. Europe Standard Time",
                    "schedule": {"hours": [2.0], "minutes": [0.0], "weekDays": ["Sunday"]}},
            "prod": {"frequency": "Month", "interval": 1.0, "startTime": "2025-01-01T00:00:00",
                     "timeZone": "W. Europe Standard Time",
                     "schedule": {"hours": [3.0], "minutes": [0.0], "monthDays": [15.0]}},
        }[stack]
        workflows = plans[stack].of_type(WORKFLOW)
        assert workflows
        for workflow in workflows:
            recurrence = workflow.inputs["definition"]["triggers"]["Recurrence"]["recurrence"]
            if workflow.name in ("windows-2022-core-dotnet-iis-schedule", "windows-2022-app-server-schedule"):
                # A layer runs layer_delay_hours (4) after its base, on the same rule.
                expected_here = copy.deepcopy(expected)
                expected_here["schedule"]["hours"] = [expected["schedule"]["hours"][0] + 4]
                assert recurrence == expected_here
            else:
                assert recurrence == expected


@pytest.mark.parametrize("stack", STACKS)
def test_summary_per_flavour(plans, stack):
    flavours, loaded = azure_flavours(stack)
    outputs = plans[stack].outputs["flavours"]
    for flavour in flavours:
        summary = outputs[flavour.name]["azure"]
        template = one(under(plans[stack], flavour.name, TEMPLATE), "template")
        name = template.inputs["imageTemplateName"]
        group = template.inputs["resourceGroupName"]
        assert set(summary) == {"gallery_image_id", "template_name", "run_command", "regions", "source", "schedule"}
        if flavour.base is not None:
            assert summary["source"] == f"newest version of gallery image {flavour.base.name}"
            assert "at 0" in summary["schedule"] and summary["schedule"] != outputs[flavour.base.name]["azure"]["schedule"]
        else:
            image = flavour.base_image.azure
            assert summary["source"] == f"marketplace image {image.publisher}:{image.offer}:{image.sku}:{image.version}"
        assert summary["template_name"] == name
        assert summary["run_command"] == f"az image builder run -n {name} -g {group} --no-wait"
        assert summary["gallery_image_id"].endswith(f"/images/{flavour.name}")
        assert summary["regions"] == [r.region for r in loaded.settings.azure.replicas]


def test_shared_resources_protected_in_prod_only(plans):
    for stack, protected in (("dev", False), ("prod", True)):
        for typ in ("azure-native:resources:ResourceGroup", "azure-native:compute:Gallery"):
            assert all(r.options["protect"] is protected for r in plans[stack].of_type(typ)), (stack, typ)
    assert all(r.options["retainOnDelete"] for r in plans["prod"].of_type(GALLERY_IMAGE))


def test_defaults_leave_optional_parts_out(plans):
    dev = plans["dev"]
    assert not dev.of_type(TRIGGER)
    # Under a flavour's template only the wait for its publisher assignment: no build-on-deploy run.
    assert {r.name for r in dev.of_type(COMMAND) if r.parent and "ImageTemplate" in r.parent} == {
        f"{r.inputs['galleryImageName']}-publisher-propagated" for r in dev.of_type(GALLERY_IMAGE)}
    assert all("vnetConfig" not in t.inputs["vmProfile"] for t in dev.of_type(TEMPLATE))
    assert sorted(r.name for r in dev.of_type(ASSIGNMENT) if r.name.startswith("builder-")) == [
        "builder-assets", "builder-assigns-build-vm-identity", "builder-gallery"]
    # assets: ubuntu-2404 ships a playbook; attaches: the app server reads the artefact container
    assert sorted(r.name for r in dev.of_type(ASSIGNMENT) if r.name.endswith("-publisher")) == sorted(
        f"{r.inputs['galleryImageName']}-publisher" for r in dev.of_type(GALLERY_IMAGE))


# ---------------------------------------------------------------------------
# Stack flags, on a scratch copy of the project
# ---------------------------------------------------------------------------
SUBNET = (f"{SUB}/resourceGroups/network/providers/Microsoft.Network/virtualNetworks/build-vnet/subnets/")


def with_azure(project, **changes) -> dict:
    config = copy.deepcopy(project.config("dev"))
    config["golden-images:azure"] = {**config["golden-images:azure"], **changes}
    return config


def test_optional_flags(project):
    plan = project.plan("dev", config=with_azure(
        project, source_image_trigger=True, build_on_deploy=True,
        subnet_id=SUBNET + "builds", container_instance_subnet_id=SUBNET + "aci"))
    templates = plan.of_type(TEMPLATE)
    triggers = plan.of_type(TRIGGER)
    assert sorted(t.inputs["imageTemplateName"] for t in triggers) == sorted(t.inputs["imageTemplateName"] for t in templates)
    assert all(t.inputs["kind"] == "SourceImage" for t in triggers)

    runs = [r for r in plan.of_type(COMMAND) if r.name.endswith("-build-on-deploy")]
    # A layer waits for its schedule: its base's deploy-time build publishes an image only hours later.
    layers = [t for t in templates if t.inputs["source"]["type"] == "SharedImageVersion"]
    assert layers and len(runs) == len(templates) - len(layers)
    for template in [t for t in templates if t not in layers]:
        name, group = template.inputs["imageTemplateName"], template.inputs["resourceGroupName"]
        [run] = [r for r in runs if name in r.inputs["create"]]
        assert run.inputs["create"] == f"az image builder run -n {name} -g {group} --no-wait --subscription {SUBSCRIPTION_ID}"
        assert template.urn in run.options["dependsOn"]
        assert template.inputs["vmProfile"]["vnetConfig"] == {
            "subnetId": SUBNET + "builds", "containerInstanceSubnetId": SUBNET + "aci"}

    network = one([r for r in plan.of_type(ASSIGNMENT) if r.name.startswith("builder-network-")], "network assignment")
    assert network.inputs["scope"] == SUBNET.rstrip("/").rsplit("/subnets", 1)[0]
    wait = one([r for r in plan.of_type(COMMAND) if r.name == "builder-roles-propagated"], "propagation wait")
    assert network.urn in wait.options["dependsOn"]
    role = one([r for r in plan.of_type(DEFINITION) if r.name == "builder-role"], "builder role")
    assert set(render.NETWORK_ACTIONS) <= set(role.inputs["permissions"][0]["actions"])
    assert f"{SUB}/resourceGroups/network" in role.inputs["assignableScopes"]


def test_unmapped_time_zone_stops_the_program(project):
    config = copy.deepcopy(project.config("dev"))
    config["golden-images:schedule"] = {**config["golden-images:schedule"], "timezone": "Asia/Kathmandu"}
    with pytest.raises(UserError, match=r"golden-images:schedule\.timezone: 'Asia/Kathmandu'"):
        project.plan("dev", config=config)


# ---------------------------------------------------------------------------
# One step changes: only that flavour's template (and its staging group) change name
# ---------------------------------------------------------------------------
PHYSICAL_NAMES = ("imageTemplateName", "stagingResourceGroup", "galleryImageName", "galleryName", "workflowName",
                  "resourceName", "resourceGroupName", "roleName")


def physical_names(plan: Plan) -> dict:
    return {
        r.urn: {key: r.inputs[key] for key in PHYSICAL_NAMES if key in r.inputs}
        for r in plan.resources
        if r.custom and r.type.startswith("azure-native:")
    }


def test_changing_one_step_renames_only_that_template(project):
    before = project.plan("dev")
    changed = "windows-2022-core-dotnet"
    text = project.flavour_text(f"{changed}.yaml")
    assert "  - os-updates\n" in text
    project.write_flavour(f"{changed}.yaml", text.replace("  - os-updates\n", "  - os-updates:\n      exclude: [KB5005463]\n", 1))
    after = project.plan("dev")

    old, new = physical_names(before), physical_names(after)
    assert set(old) == set(new), "the same resources exist before and after"
    renamed = {urn for urn in old if old[urn] != new[urn]}
    [template] = [r for r in after.of_type(TEMPLATE) if r.name == f"{changed}-template"]
    # The layers (IIS, app server) re-run their base's updates with the base's parameters, so
    # they change too; nothing else does.
    [layer] = [r for r in after.of_type(TEMPLATE) if r.name == f"{changed}-iis-template"]
    [app_server] = [r for r in after.of_type(TEMPLATE) if r.name == "windows-2022-app-server-template"]
    assert renamed == {template.urn, layer.urn, app_server.urn}
    assert "KB5005463" in str(layer.inputs["customize"]) and "KB5005463" in str(app_server.inputs["customize"])
    assert set(k for k in old[template.urn] if old[template.urn][k] != new[template.urn][k]) == {
        "imageTemplateName", "stagingResourceGroup"}

    # The schedule keeps its name and is switched to the new template in place.
    def workflow(plan):
        return one([r for r in plan.of_type(WORKFLOW) if r.name == f"{changed}-schedule"], "workflow")

    old_uri = workflow(before).inputs["definition"]["actions"]["Run_image_template"]["inputs"]["uri"]
    new_uri = workflow(after).inputs["definition"]["actions"]["Run_image_template"]["inputs"]["uri"]
    assert old_uri != new_uri and new[template.urn]["imageTemplateName"] in new_uri
    others = [r for r in after.of_type(WORKFLOW)
              if r.name not in (f"{changed}-schedule", f"{changed}-iis-schedule", "windows-2022-app-server-schedule")]
    assert others and all(r.inputs == next(b for b in before.of_type(WORKFLOW) if b.urn == r.urn).inputs for r in others)
    assert "KB5005463" in str(template.inputs["customize"])


@pytest.mark.parametrize("stack", STACKS)
def test_rhel_9_stig_fetches_its_placed_files_with_their_checksums(plans, stack):
    """The file step on Azure: a File customizer (sourceUri, destination, sha256Checksum) per asset,
    to /tmp (the customizer uploads as the unprivileged build user), moved with sudo, then the script
    that verifies the archive again and places it; its check is an in-VM validation."""
    plan = plans[stack]
    template = one(under(plan, "rhel-9-stig", TEMPLATE), "template").inputs
    customize = template["customize"]
    # Each placed file's customizers carry its destination's name (components/model/use_names.py).
    for source, pack, use in (("chrony.conf", pack_file, "chrony-conf"), ("pki", pack_directory, "corp")):
        sha = pack(ROOT / "image_flavours" / "files" / "rhel-9-stig" / source, f"files/rhel-9-stig/{source}").sha256
        (fetch,) = [c for c in customize if c["type"] == "File" and c.get("sha256Checksum") == sha]
        assert fetch["sourceUri"] == f"{asset_store(plan)}/assets/{sha}.tar.gz"
        assert fetch["destination"].startswith("/tmp/")
        place, install = customize[customize.index(fetch) + 1: customize.index(fetch) + 3]
        assert f"sudo mv -f '{fetch['destination']}' '/var/tmp/golden-images/assets/{sha}.tar.gz'" in place["inline"]
        assert install["type"] == "Shell" and install["name"].endswith(f"-file-{use}-install")
    checks = [v["name"] for v in template["validate"]["inVMValidations"] if v["name"].endswith(("-file-chrony-conf-check", "-file-corp-check"))]
    assert len(checks) == 2
