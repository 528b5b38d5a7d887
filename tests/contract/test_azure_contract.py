"""Contract tests: every Azure input of the dev and prod plans satisfies VM Image Builder API 2024-02-01.

First the checker itself (tests/contract/azure_api.py) on hand-built bodies, valid and
broken one way at a time, so each rule is shown to fail for its own reason; then the
image templates, galleries and image definitions the real program registers.
"""
from __future__ import annotations

import copy
import inspect
import sys

import pytest

from components.plan import ROOT, stack_config

from . import azure_api as api
from .azure_samples import CHECKSUM, IDENTITY, IMAGE_ID, OTHER_IDENTITY, found, valid_body


def broken(change) -> set[tuple[str, str]]:
    body = valid_body()
    change(body)
    return found(body)


def props(body: dict) -> dict:
    return body["properties"]


# ---------------------------------------------------------------------------
# The checker targets the right contract
# ---------------------------------------------------------------------------
def test_checker_uses_the_sdk_release_for_api_2024_02_01():
    from azure.mgmt.imagebuilder._configuration import ImageBuilderClientConfiguration
    from azure.mgmt.imagebuilder._version import VERSION

    assert VERSION == "1.4.0"
    default = inspect.getsource(ImageBuilderClientConfiguration.__init__)
    assert 'kwargs.pop("api_version", "2024-02-01")' in default
    assert api.API_VERSION == "2024-02-01"


def azure_native_vmi():
    """pulumi_azure_native.virtualmachineimages, imported the way the program does.

    Importing one of its submodules directly first leaves the package without its lazy
    members (VirtualMachineImageTemplate), which would break the program later in the session.
    """
    import pulumi_azure_native.virtualmachineimages as vmi

    return vmi


def test_azure_native_template_uses_api_2024_02_01():
    vmi = azure_native_vmi()
    module = sys.modules[vmi.VirtualMachineImageTemplate.__module__]
    assert "Uses Azure REST API version 2024-02-01." in inspect.getsource(module)


def test_the_sdk_models_carry_the_api_constraints():
    """What the checker relies on the models for is really in their _validation / _subtype_map."""
    assert set(api.subtypes("ImageTemplateCustomizer")) == set(api.CUSTOMIZER_TYPES)
    assert set(api.subtypes("ImageTemplateInVMValidator")) == set(api.VALIDATOR_TYPES)
    assert set(api.subtypes("ImageTemplateDistributor")) == set(api.DISTRIBUTOR_TYPES)
    assert set(api.subtypes("ImageTemplateSource")) == {"PlatformImage", "ManagedImage", "SharedImageVersion"}
    assert set(api.subtypes("DistributeVersioner")) == {"Latest", "Source"}
    models = api._CLASSES
    assert models["ImageTemplateDistributor"]._validation["run_output_name"] == {
        "required": True,
        "pattern": api.RUN_OUTPUT_NAME.pattern,
    }
    assert models["ImageTemplate"]._validation["build_timeout_in_minutes"] == {"maximum": 960, "minimum": 0}
    assert models["ImageTemplate"]._validation["identity"] == {"required": True}
    assert models["TargetRegion"]._validation["replica_count"] == {"minimum": 1}
    # What the models miss, and the checker adds: source and distribute are not required in the SDK.
    assert "source" not in models["ImageTemplate"]._validation
    assert "distribute" not in models["ImageTemplate"]._validation


def _wire_names(args_class) -> set[str]:
    return {vars(p.fget)["_pulumi_name"] for p in vars(args_class).values() if isinstance(p, property)}


def test_reshape_knows_every_azure_native_template_input():
    known = set(api.URL_INPUTS) | set(api.TOP_LEVEL_INPUTS) | set(api.PROPERTY_INPUTS)
    assert _wire_names(azure_native_vmi().VirtualMachineImageTemplateArgs) == known


def test_azure_native_nested_inputs_use_the_rest_field_names():
    """reshape() copies nested inputs unchanged: that is right only if the names are the REST names."""
    inputs = azure_native_vmi()._inputs
    aliases = {"ImageTemplatePropertiesVmBoot": "ImageTemplatePropertiesOptimizeVmBoot"}
    checked = 0
    for name, args_class in vars(inputs).items():
        if not (name.endswith("Args") and isinstance(args_class, type)) or name.endswith("DictArgs"):
            continue
        model = api._CLASSES[aliases.get(name[:-4], name[:-4])]
        rest_keys = {desc["key"] for desc in model._attribute_map.values()}
        assert _wire_names(args_class) <= rest_keys, name
        checked += 1
    assert checked >= 20


# ---------------------------------------------------------------------------
# reshape: azure-native wire inputs -> REST body
# ---------------------------------------------------------------------------
def wire_inputs() -> dict:
    body = valid_body()
    return {
        "resourceGroupName": "rg-golden-images",
        "imageTemplateName": "ubuntu-2404-1a2b3c4d",
        "location": body["location"],
        "tags": body["tags"],
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [IDENTITY]},
        **{key: _as_wire_numbers(value) for key, value in body["properties"].items()},
    }


def _as_wire_numbers(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _as_wire_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_wire_numbers(v) for v in value]
    return value


def test_reshape_builds_the_rest_body():
    body = api.reshape(wire_inputs())
    assert body == valid_body()
    assert isinstance(body["properties"]["buildTimeoutInMinutes"], int)
    assert body["identity"]["userAssignedIdentities"] == {IDENTITY: {}}
    assert "resourceGroupName" not in body and "imageTemplateName" not in body


def test_reshape_takes_the_resource_group_location_when_location_is_not_set():
    inputs = wire_inputs()
    del inputs["location"]
    assert api.reshape(inputs, default_location="northeurope")["location"] == "northeurope"
    assert ("location", "required") in found(api.reshape(inputs))


def test_reshape_keeps_an_unknown_input_visible():
    inputs = {**wire_inputs(), "buildTimeout": 60.0}
    assert ("buildTimeout", "unknown-field") in found(api.reshape(inputs))


def test_valid_wire_inputs_pass():
    assert api.check_template(wire_inputs()) == []


# ---------------------------------------------------------------------------
# The checker: a valid body passes, each broken body fails for its reason
# ---------------------------------------------------------------------------
def test_valid_body_passes():
    assert api.check_template_body(valid_body()) == []


def test_msrest_validates_the_sdk_model_of_the_valid_body():
    model = api.sdk_model(valid_body())
    assert type(model).__name__ == "ImageTemplate"
    kinds = [type(step).__name__ for step in model.customize]
    assert kinds == [
        "ImageTemplateShellCustomizer",
        "ImageTemplateShellCustomizer",
        "ImageTemplatePowerShellCustomizer",
        "ImageTemplateRestartCustomizer",
        "ImageTemplateWindowsUpdateCustomizer",
        "ImageTemplateFileCustomizer",
    ]
    assert type(model.distribute[0].versioning).__name__ == "DistributeVersionerLatest"
    assert api.sdk_validate(valid_body()) == []


def test_msrest_reports_a_model_constraint_by_itself():
    body = valid_body()
    props(body)["distribute"][0]["runOutputName"] = "golden image!"
    errors = api.sdk_validate(body)
    assert [(e.rule, e.target) for e in errors] == [("pattern", "ImageTemplateSharedImageDistributor.run_output_name")]


@pytest.mark.parametrize(
    "change, expected",
    [
        pytest.param(lambda b: b.update(propertiez={}), {("propertiez", "unknown-field")}, id="top level"),
        pytest.param(
            lambda b: props(b).update(buildTimeout=60),
            {("properties.buildTimeout", "unknown-field")},
            id="properties",
        ),
        pytest.param(
            lambda b: props(b)["customize"][0].update(runElevated=True),
            {("properties.customize[0].runElevated", "unknown-field")},
            id="field of another customizer type",
        ),
        pytest.param(
            lambda b: props(b)["distribute"][0]["targetRegions"][1].update(replicas=2),
            {("properties.distribute[0].targetRegions[1].replicas", "unknown-field")},
            id="target region",
        ),
        pytest.param(
            lambda b: props(b)["distribute"][0]["versioning"].update(minor=0),
            {("properties.distribute[0].versioning.minor", "unknown-field")},
            id="versioning",
        ),
        pytest.param(
            lambda b: props(b)["optimize"]["vmBoot"].update(enabled=True),
            {("properties.optimize.vmBoot.enabled", "unknown-field")},
            id="vmBoot",
        ),
        pytest.param(
            lambda b: props(b)["validate"]["inVMValidations"][0].update(runElevated=True),
            {("properties.validate.inVMValidations[0].runElevated", "unknown-field")},
            id="in-VM validator",
        ),
    ],
)
def test_unknown_field_at_any_depth(change, expected):
    assert broken(change) == expected


def test_field_names_are_case_sensitive():
    def change(b):
        distributor = props(b)["distribute"][0]
        distributor["RunOutputName"] = distributor.pop("runOutputName")

    assert broken(change) == {
        ("properties.distribute[0].RunOutputName", "unknown-field"),
        ("properties.distribute[0].runOutputName", "required"),
    }


def test_read_only_field_is_not_sent():
    assert broken(lambda b: props(b)["source"].update(exactVersion="1.2.3")) == {
        ("properties.source.exactVersion", "read-only")
    }
    assert broken(lambda b: props(b).update(provisioningState="Succeeded")) == {
        ("properties.provisioningState", "read-only")
    }


def test_missing_identity():
    assert broken(lambda b: b.pop("identity")) == {("identity", "required")}


def test_two_identities():
    def change(b):
        b["identity"]["userAssignedIdentities"][OTHER_IDENTITY] = {}

    assert broken(change) == {("identity.userAssignedIdentities", "identity-count")}


def test_system_assigned_identity():
    def change(b):
        b["identity"] = {"type": "SystemAssigned"}

    assert broken(change) == {("identity.type", "identity-type"), ("identity.userAssignedIdentities", "identity-count")}


def test_identity_map_values_are_empty_objects():
    def change(b):
        b["identity"]["userAssignedIdentities"][IDENTITY] = {"principalId": "x"}

    assert broken(change) == {(f"identity.userAssignedIdentities[{IDENTITY!r}].principalId", "read-only")}


def test_missing_source_and_distribute():
    assert broken(lambda b: props(b).pop("source")) == {("properties.source", "required")}
    assert broken(lambda b: props(b).pop("distribute")) == {("properties.distribute", "required")}
    assert broken(lambda b: props(b).update(distribute=[])) == {("properties.distribute", "min-items")}


def test_missing_location():
    assert broken(lambda b: b.pop("location")) == {("location", "required")}


def test_bad_customizer_type():
    assert broken(lambda b: props(b)["customize"][0].update(type="Bash")) == {
        ("properties.customize[0].type", "unknown-type")
    }


def test_customizer_types_are_case_sensitive():
    assert broken(lambda b: props(b)["customize"][2].update(type="Powershell")) == {
        ("properties.customize[2].type", "unknown-type")
    }


def test_bad_validator_and_distributor_and_source_types():
    assert broken(lambda b: props(b)["validate"]["inVMValidations"][0].update(type="WindowsRestart")) == {
        ("properties.validate.inVMValidations[0].type", "unknown-type")
    }
    assert broken(lambda b: props(b)["distribute"][0].update(type="Gallery")) == {
        ("properties.distribute[0].type", "unknown-type")
    }
    assert broken(lambda b: props(b)["source"].update(type="Marketplace")) == {("properties.source.type", "unknown-type")}
    assert broken(lambda b: props(b)["distribute"][0]["versioning"].update(scheme="Next")) == {
        ("properties.distribute[0].versioning.scheme", "unknown-type")
    }


def test_run_as_system_without_run_elevated():
    assert broken(lambda b: props(b)["customize"][2].update(runElevated=False)) == {
        ("properties.customize[2].runAsSystem", "run-as-system")
    }


def test_file_without_checksum():
    assert broken(lambda b: props(b)["customize"][5].pop("sha256Checksum")) == {
        ("properties.customize[5].sha256Checksum", "checksum-policy")
    }


def test_file_without_source_or_destination():
    assert broken(lambda b: props(b)["customize"][5].pop("destination")) == {
        ("properties.customize[5].destination", "required")
    }
    assert broken(lambda b: props(b)["customize"][5].pop("sourceUri")) == {
        ("properties.customize[5].sourceUri", "required")
    }
    assert broken(lambda b: props(b)["customize"][5].update(destination="etc/app.conf")) == {
        ("properties.customize[5].destination", "destination")
    }


def test_script_needs_exactly_one_of_uri_and_inline():
    assert broken(lambda b: props(b)["customize"][0].update(scriptUri="https://example.org/x.sh", sha256Checksum=CHECKSUM)) == {
        ("properties.customize[0]", "script")
    }
    assert broken(lambda b: props(b)["customize"][0].pop("inline")) == {("properties.customize[0]", "script")}


def test_downloaded_script_without_checksum():
    assert broken(lambda b: props(b)["customize"][1].pop("sha256Checksum")) == {
        ("properties.customize[1].sha256Checksum", "checksum-policy")
    }
    assert broken(lambda b: props(b)["customize"][1].update(sha256Checksum="abc")) == {
        ("properties.customize[1].sha256Checksum", "sha256")
    }
    assert broken(lambda b: props(b)["customize"][1].update(scriptUri="http://example.org/agent.sh")) == {
        ("properties.customize[1].scriptUri", "uri")
    }


def test_restart_timeout_format():
    assert broken(lambda b: props(b)["customize"][3].update(restartTimeout="10 minutes")) == {
        ("properties.customize[3].restartTimeout", "duration")
    }


def test_bad_target_region_storage_type():
    assert broken(lambda b: props(b)["distribute"][0]["targetRegions"][0].update(storageAccountType="Standard_GRS")) == {
        ("properties.distribute[0].targetRegions[0].storageAccountType", "enum")
    }


def test_target_region_replica_count_and_duplicates():
    assert broken(lambda b: props(b)["distribute"][0]["targetRegions"][1].update(replicaCount=0)) == {
        ("properties.distribute[0].targetRegions[1].replicaCount", "minimum")
    }
    assert broken(lambda b: props(b)["distribute"][0]["targetRegions"][1].update(name="westeurope")) == {
        ("properties.distribute[0].targetRegions", "unique-region")
    }
    assert broken(lambda b: props(b)["distribute"][0]["targetRegions"][1].pop("name")) == {
        ("properties.distribute[0].targetRegions[1].name", "required")
    }


def test_replication_regions_with_target_regions():
    assert broken(lambda b: props(b)["distribute"][0].update(replicationRegions=["westeurope"])) == {
        ("properties.distribute[0]", "target-regions-exclusive"),
        ("properties.distribute[0].replicationRegions", "deprecated"),
    }


def test_storage_account_type_on_the_distributor_needs_replication_regions():
    assert broken(lambda b: props(b)["distribute"][0].update(storageAccountType="Standard_LRS")) == {
        ("properties.distribute[0].storageAccountType", "storage-account-type")
    }


def test_bad_run_output_name():
    assert broken(lambda b: props(b)["distribute"][0].update(runOutputName="golden image!")) == {
        ("properties.distribute[0].runOutputName", "pattern")
    }
    assert broken(lambda b: props(b)["distribute"][0].update(runOutputName="x" * 65)) == {
        ("properties.distribute[0].runOutputName", "pattern")
    }


def test_run_output_names_are_unique():
    def change(b):
        props(b)["distribute"].append({"type": "VHD", "runOutputName": "ubuntu-2404-1.0.0"})

    assert broken(change) == {("properties.distribute", "run-output-name-unique")}


def test_gallery_image_id_must_be_an_image_definition():
    assert broken(lambda b: props(b)["distribute"][0].update(galleryImageId="goldenimages/ubuntu-2404")) == {
        ("properties.distribute[0].galleryImageId", "resource-id")
    }


def test_timeout_above_960_minutes():
    assert broken(lambda b: props(b).update(buildTimeoutInMinutes=1000)) == {
        ("properties.buildTimeoutInMinutes", "maximum")
    }
    assert broken(lambda b: props(b).update(buildTimeoutInMinutes=-1)) == {("properties.buildTimeoutInMinutes", "minimum")}


def test_wrong_json_types():
    assert broken(lambda b: props(b).update(buildTimeoutInMinutes="240")) == {("properties.buildTimeoutInMinutes", "type")}
    assert broken(lambda b: props(b).update(buildTimeoutInMinutes=240.5)) == {("properties.buildTimeoutInMinutes", "type")}
    assert broken(lambda b: props(b)["customize"][0].update(inline="apt-get update")) == {
        ("properties.customize[0].inline", "type"),
        ("properties.customize[0]", "script"),
    }
    assert broken(lambda b: props(b)["customize"][2].update(runElevated="true")) == {
        ("properties.customize[2].runElevated", "type"),
        ("properties.customize[2].runAsSystem", "run-as-system"),
    }


def test_enums_the_sdk_types_as_strings():
    assert broken(lambda b: props(b)["errorHandling"].update(onCustomizerError="ignore")) == {
        ("properties.errorHandling.onCustomizerError", "enum")
    }
    assert broken(lambda b: props(b)["optimize"]["vmBoot"].update(state="On")) == {("properties.optimize.vmBoot.state", "enum")}
    assert broken(lambda b: props(b)["autoRun"].update(state="enabled")) == {("properties.autoRun.state", "enum")}


def test_vm_profile():
    assert broken(lambda b: props(b)["vmProfile"].update(osDiskSizeGB=-1)) == {("properties.vmProfile.osDiskSizeGB", "minimum")}
    assert broken(lambda b: props(b)["vmProfile"].update(osDiskSizeGB=5000)) == {("properties.vmProfile.osDiskSizeGB", "maximum")}
    assert broken(lambda b: props(b)["vmProfile"].update(vmSize="D2ds_v5")) == {("properties.vmProfile.vmSize", "vm-size")}


def test_platform_source_needs_every_part():
    assert broken(lambda b: props(b)["source"].pop("sku")) == {("properties.source.sku", "required")}
    assert broken(lambda b: props(b)["source"].update(version="24.04")) == {("properties.source.version", "version")}


def test_staging_resource_group_is_an_id():
    assert broken(lambda b: props(b).update(stagingResourceGroup="rg-aib-staging")) == {
        ("properties.stagingResourceGroup", "resource-id")
    }


def test_tags():
    assert broken(lambda b: b["tags"].update({"a/b": "c"})) == {("tags['a/b']", "tags")}
    assert broken(lambda b: b["tags"].update({f"t{i}": "v" for i in range(60)})) == {("tags", "tags")}


def test_every_violation_names_its_rule_and_path():
    body = valid_body()
    props(body)["customize"][0]["type"] = "Bash"
    (violation,) = api.check_template_body(body)
    assert str(violation).startswith("properties.customize[0].type: unknown customizer type 'Bash'")
    assert violation.rule == "unknown-type"


# ---------------------------------------------------------------------------
# Names, galleries, image definitions
# ---------------------------------------------------------------------------
def test_template_name():
    assert api.check_template_name("ubuntu-2404-1a2b3c4d") == []
    assert [v.rule for v in api.check_template_name("ubuntu 2404")] == ["pattern"]
    assert [v.rule for v in api.check_template_name("x" * 65)] == ["pattern"]
    assert [v.rule for v in api.check_template_name("x" * 60, autonamed=True)] == ["pattern"]
    inputs = {**wire_inputs(), "imageTemplateName": "golden/ubuntu"}
    assert {(v.path, v.rule) for v in api.check_template(inputs)} == {("imageTemplateName", "pattern")}


@pytest.mark.parametrize("name", ["goldenimages", "golden_images", "golden.images.dev", "G1", "a"])
def test_gallery_name_valid(name):
    assert api.check_gallery_name(name) == []


@pytest.mark.parametrize("name", ["golden-images", "_golden", "golden.", "golden_", "", "g" * 81, "golden images"])
def test_gallery_name_invalid(name):
    (violation,) = api.check_gallery_name(name)
    assert violation.rule == "name"
    if "-" in name:
        assert "hyphens are not allowed" in violation.message


@pytest.mark.parametrize("name", ["ubuntu-2404", "windows-2022-core_dotnet.iis", "a", "U" * 80])
def test_gallery_image_name_valid(name):
    assert api.check_gallery_image_name(name) == []


@pytest.mark.parametrize("name", ["-ubuntu", "ubuntu-", "ubuntu_", ".ubuntu", "ubuntu 2404", "u" * 81, ""])
def test_gallery_image_name_invalid(name):
    assert [v.rule for v in api.check_gallery_image_name(name)] == ["name"]


def gallery_image() -> dict:
    return {
        "resourceGroupName": "rg-golden-images",
        "galleryName": "goldenimages",
        "galleryImageName": "ubuntu-2404",
        "location": "westeurope",
        "identifier": {"publisher": "platform-team", "offer": "golden-images", "sku": "ubuntu-2404"},
        "osType": "Linux",
        "osState": "Generalized",
        "hyperVGeneration": "V2",
        "architecture": "x64",
        "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}],
        "tags": {"flavour": "ubuntu-2404"},
    }


def image_found(change) -> set[tuple[str, str]]:
    inputs = gallery_image()
    change(inputs)
    return {(v.path, v.rule) for v in api.check_gallery_image(inputs)}


def test_gallery_image_valid():
    assert api.check_gallery_image(gallery_image()) == []
    assert api.check_gallery({"galleryName": "goldenimages", "resourceGroupName": "rg", "location": "westeurope"}) == []


def test_gallery_with_hyphen():
    violations = api.check_gallery({"galleryName": "golden-images", "resourceGroupName": "rg"})
    assert [(v.path, v.rule) for v in violations] == [("galleryName", "name")]
    assert [(v.path, v.rule) for v in api.check_gallery({"resourceGroupName": "rg"}, logical_name="golden-images")] == [
        ("galleryName", "name")
    ]


def test_gallery_image_rules():
    assert image_found(lambda i: i.update(galleryName="golden-images")) == {("galleryName", "name")}
    assert image_found(lambda i: i.update(galleryImageName="ubuntu-")) == {("galleryImageName", "name")}
    assert image_found(lambda i: i["identifier"].update(sku="s" * 65)) == {("identifier.sku", "length")}
    assert image_found(lambda i: i["identifier"].update(publisher="p" * 129)) == {("identifier.publisher", "length")}
    assert image_found(lambda i: i["identifier"].update(publisher="p" * 128)) == set()
    assert image_found(lambda i: i["identifier"].update(offer="golden images")) == {("identifier.offer", "identifier")}
    assert image_found(lambda i: i["identifier"].pop("offer")) == {("identifier.offer", "required")}
    assert image_found(lambda i: i.update(osType="linux")) == {("osType", "enum")}
    assert image_found(lambda i: i.update(osState="Specialized")) == {("osState", "os-state")}
    assert image_found(lambda i: i.update(hyperVGeneration="V3", features=[])) == {("hyperVGeneration", "enum")}


def test_trusted_launch_needs_generation_2():
    assert image_found(lambda i: i.update(hyperVGeneration="V1")) == {("features[0]", "trusted-launch-needs-v2")}
    assert image_found(lambda i: i.pop("hyperVGeneration")) == {("features[0]", "trusted-launch-needs-v2")}
    assert image_found(lambda i: i.update(hyperVGeneration="V1", features=[])) == set()


def test_template_against_its_image_definition():
    body = valid_body()
    props(body)["customize"] = [c for c in props(body)["customize"] if c["type"] in ("Shell", "File")]
    image = gallery_image()
    assert api.check_template_against_image(body, image) == []
    windows = {**image, "osType": "Windows"}
    assert {(v.path, v.rule) for v in api.check_template_against_image(body, windows)} == {
        ("properties.customize[0].type", "os-mismatch"),
        ("properties.customize[1].type", "os-mismatch"),
        ("properties.validate.inVMValidations[0].type", "os-mismatch"),
    }
    gen1 = {**image, "hyperVGeneration": "V1"}
    assert {(v.path, v.rule) for v in api.check_template_against_image(body, gen1)} == {
        ("properties.source.sku", "generation-mismatch")
    }


@pytest.mark.parametrize(
    "publisher, offer, sku, generation",
    [
        ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-core-g2", "V2"),
        ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-core", None),
        ("Canonical", "ubuntu-24_04-lts", "server", "V2"),
        ("Canonical", "ubuntu-24_04-lts", "server-gen1", "V1"),
        ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "V2"),
    ],
)
def test_expected_generation(publisher, offer, sku, generation):
    source = {"type": "PlatformImage", "publisher": publisher, "offer": offer, "sku": sku, "version": "latest"}
    assert api.expected_generation(source) == generation


def test_gallery_image_id_matches_its_registration():
    parsed = api.parse_gallery_image_id(IMAGE_ID)
    assert parsed and parsed["gallery"] == "goldenimages" and parsed["image"] == "ubuntu-2404"
    assert api.same_image(parsed, gallery_image())
    assert not api.same_image(parsed, {**gallery_image(), "galleryImageName": "windows"})


# ---------------------------------------------------------------------------
# The dev and prod plans
# ---------------------------------------------------------------------------
STACKS = ["dev", "prod"]


def azure_flavours(stack: str) -> list[str]:
    """Flavours built on Azure in a stack, read from the stack and flavour files (not from the plan)."""
    from components.model.loader import load_inputs

    config, source = stack_config(stack)
    inputs = load_inputs({k: v for k, v in config.items() if k.startswith("golden-images:")}, source,
                         ROOT / "image_flavours", ROOT)
    return [item.flavour.name for item in inputs.flavours if "azure" in item.flavour.enabled_clouds(inputs.settings.clouds)]


def default_location(plan, inputs: dict, stack: str):
    """Where azure-native puts a resource without `location`: its resource group's location."""
    for group in plan.of_type(api.RESOURCE_GROUP_TYPE):
        name = group.inputs.get("resourceGroupName", group.name)
        if str(name).lower() == str(inputs.get("resourceGroupName", "")).lower():
            return group.inputs.get("location") or stack_config(stack)[0].get("azure-native:location")
    return stack_config(stack)[0].get("azure-native:location")


def report(problems: list[str]) -> str:
    return "\n" + "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_enables_azure_for_some_flavours(stack):
    assert azure_flavours(stack), f"{stack}: no flavour is built on Azure, the plan tests below would check nothing"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_has_an_image_template_per_azure_flavour(plans, stack):
    plan = plans[stack]
    components = {r.name: r for r in plan.resources if r.type == "golden-images:index:GoldenImage"}
    missing = []
    for flavour in azure_flavours(stack):
        component = components.get(flavour)
        templates = [r for r in plan.children(component.urn) if r.type == api.TEMPLATE_TYPE] if component else []
        if not templates:
            missing.append(flavour)
    assert not missing, f"{stack}: no {api.TEMPLATE_TYPE} for Azure flavour(s) {', '.join(missing)}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_image_template_satisfies_the_api(plans, stack):
    plan = plans[stack]
    templates = plan.of_type(api.TEMPLATE_TYPE)
    assert templates, f"{stack}: the plan has no image template"
    problems = []
    for res in templates:
        location = default_location(plan, res.inputs, stack)
        for violation in api.check_template(res.inputs, logical_name=res.name, default_location=location):
            problems.append(f"{stack} {res.name}: {violation}")
    assert not problems, report(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_every_gallery_and_image_definition_satisfies_the_naming_rules(plans, stack):
    plan = plans[stack]
    galleries, images = plan.of_type(api.GALLERY_TYPE), plan.of_type(api.GALLERY_IMAGE_TYPE)
    assert galleries, f"{stack}: the plan has no compute gallery"
    assert images, f"{stack}: the plan has no gallery image definition"
    problems = [f"{stack} {r.name}: {v}" for r in galleries for v in api.check_gallery(r.inputs, logical_name=r.name)]
    problems += [f"{stack} {r.name}: {v}" for r in images for v in api.check_gallery_image(r.inputs, logical_name=r.name)]
    assert not problems, report(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_templates_publish_to_image_definitions_of_the_plan(plans, stack):
    """Each SharedImage target is an image definition this plan creates, with the template's OS and generation."""
    plan = plans[stack]
    images = plan.of_type(api.GALLERY_IMAGE_TYPE)
    templates = plan.of_type(api.TEMPLATE_TYPE)
    assert templates, f"{stack}: the plan has no image template"
    problems = []
    for res in templates:
        body = api.reshape(res.inputs, default_location(plan, res.inputs, stack))
        targets = api.distributed_images(body)
        if not targets:
            problems.append(f"{stack} {res.name}: no SharedImage distributor with a gallery image definition id")
        for path, parsed in targets:
            matches = [image for image in images if api.same_image(parsed, image.inputs, image.name)]
            if len(matches) != 1:
                problems.append(f"{stack} {res.name}: {path} names {len(matches)} image definitions of the plan")
                continue
            problems += [f"{stack} {res.name}: {v}" for v in api.check_template_against_image(body, matches[0].inputs)]
    assert not problems, report(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_template_identity_is_created_by_the_plan(plans, stack):
    plan = plans[stack]
    identities = plan.of_type(api.IDENTITY_TYPE)
    templates = plan.of_type(api.TEMPLATE_TYPE)
    assert templates, f"{stack}: the plan has no image template"
    problems = []
    for res in templates:
        ids = (res.inputs.get("identity") or {}).get("userAssignedIdentities") or []
        if not ids:
            problems.append(f"{stack} {res.name}: no user-assigned identity")
        for rid in ids:
            name = str(rid).rstrip("/").rsplit("/", 1)[-1].lower()
            if not any(str(i.inputs.get("resourceName", i.name)).lower() == name for i in identities):
                problems.append(f"{stack} {res.name}: identity {rid} is not a {api.IDENTITY_TYPE} of the plan")
    assert not problems, report(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_staging_resource_groups_belong_to_one_template(plans, stack):
    """A staging resource group cannot be associated with another image template, and must be in its region."""
    plan = plans[stack]
    templates = plan.of_type(api.TEMPLATE_TYPE)
    assert templates, f"{stack}: the plan has no image template"
    owners: dict[str, list[str]] = {}
    problems = []
    groups = {str(g.inputs.get("resourceGroupName", g.name)).lower(): g for g in plan.of_type(api.RESOURCE_GROUP_TYPE)}
    for res in templates:
        staging = res.inputs.get("stagingResourceGroup")
        if not staging:
            continue
        owners.setdefault(str(staging).lower(), []).append(res.name)
        group = groups.get(str(staging).rstrip("/").rsplit("/", 1)[-1].lower())
        location = res.inputs.get("location") or default_location(plan, res.inputs, stack)
        if group is not None and str(group.inputs.get("location", "")).lower() != str(location).lower():
            problems.append(f"{stack} {res.name}: staging resource group {staging} is not in {location}")
    problems += [f"{stack}: {', '.join(names)} share staging resource group {rg}" for rg, names in owners.items() if len(names) > 1]
    assert not problems, report(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_the_checker_sees_a_break_in_a_real_template(plans, stack):
    """The plan tests above can fail: the same checks catch one broken field of a real registration."""
    plan = plans[stack]
    res = plan.of_type(api.TEMPLATE_TYPE)[0]
    location = default_location(plan, res.inputs, stack)
    inputs = copy.deepcopy(res.inputs)
    inputs["customize"][0]["type"] = "Bash"
    inputs["distribute"][0]["targetRegions"][0]["storageAccountType"] = "Standard_GRS"
    inputs["buildTimeoutInMinutes"] = 1000.0
    found_rules = {(v.path, v.rule) for v in api.check_template(inputs, res.name, location)}
    assert found_rules == {
        ("properties.customize[0].type", "unknown-type"),
        ("properties.distribute[0].targetRegions[0].storageAccountType", "enum"),
        ("properties.buildTimeoutInMinutes", "maximum"),
    }
    gallery = copy.deepcopy(plan.of_type(api.GALLERY_TYPE)[0].inputs)
    gallery["galleryName"] = str(gallery["galleryName"]).replace("_", "-")
    assert [v.rule for v in api.check_gallery(gallery)] == ["name"]
