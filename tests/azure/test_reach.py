"""Azure rendering of flavour-level reach: sources, OS disk, VM size, gallery definitions, schedules."""
from __future__ import annotations

import pytest

from components.azure import render
from tests.azure.samples import body, flavour, problems_of, settings
from tests.contract import azure_api as api

VERSION_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-team/providers/"
              "Microsoft.Compute/galleries/teamgallery/images/windows-base/versions/latest")
WIN11 = {"publisher": "MicrosoftWindowsDesktop", "offer": "windows-11", "sku": "win11-24h2-avd"}


def definition(build) -> dict:
    return render.render_image_definition(build, settings().azure, render.FactoryNames.for_stack("dev", settings().azure))


def contract(build) -> set:
    """The API model's complaints about the parts this file renders (symbolic ids elsewhere are not real ids)."""
    return {(v.path, v.rule) for v in api.check_template_body(body(build, settings()))
            if v.path.startswith(("properties.source", "properties.vmProfile"))}


def test_a_marketplace_image_with_a_purchase_plan_sends_plan_info():
    image = {"publisher": "center-for-internet-security-inc", "offer": "cis-windows-server",
             "sku": "cis-windows-server2022-l1-gen2", "plan": {
                 "name": "cis-windows-server2022-l1-gen2", "product": "cis-windows-server",
                 "publisher": "center-for-internet-security-inc"}}
    build = flavour("windows", base_image={"azure": image})
    source = body(build, settings())["properties"]["source"]
    # ImageTemplatePlatformImageSource.planInfo: PlatformImagePurchasePlan {planName, planProduct, planPublisher}.
    assert source["planInfo"] == {"planName": "cis-windows-server2022-l1-gen2", "planProduct": "cis-windows-server",
                                  "planPublisher": "center-for-internet-security-inc"}
    assert contract(build) == set()


def test_a_gallery_image_version_is_the_source():
    build = flavour("windows", base_image={"azure": {"image_version_id": VERSION_ID}},
                    gallery={"hyper_v_generation": "V2"})
    assert body(build, settings())["properties"]["source"] == {"type": "SharedImageVersion", "imageVersionId": VERSION_ID}
    assert contract(build) == set()
    assert definition(build)["hyperVGeneration"] == "V2"


def test_os_disk_and_vm_size_per_cloud():
    build = flavour("windows", build={"disk_size_gb": 200, "azure": {"vm_size": "Standard_D8s_v5",
                                                                     "os_disk_size_gb": 256}})
    profile = body(build, settings())["properties"]["vmProfile"]
    assert profile["vmSize"] == "Standard_D8s_v5" and profile["osDiskSizeGB"] == 256
    assert build.machine.disk_size_on("aws", "windows") == 200
    assert contract(build) == set()


def test_windows_11_gets_a_gen2_trusted_launch_definition():
    build = flavour("windows", base_image={"azure": WIN11},
                    gallery={"security_type": "TrustedLaunch", "accelerated_networking": True,
                             "hibernation": False, "disk_controller_types": ["SCSI", "NVMe"]})
    image = definition(build)
    # Windows 11 is Gen2-only: a V1 definition cannot take the Gen2 build's version.
    assert image["hyperVGeneration"] == "V2"
    assert image["features"] == [
        {"name": "SecurityType", "value": "TrustedLaunch"},
        {"name": "IsAcceleratedNetworkSupported", "value": "True"},
        {"name": "IsHibernateSupported", "value": "False"},
        {"name": "DiskControllerTypes", "value": "SCSI, NVMe"},
    ]


def test_generation_is_overridable_and_standard_adds_no_security_feature():
    build = flavour(gallery={"hyper_v_generation": "V1", "security_type": "Standard"})
    image = definition(build)
    assert image["hyperVGeneration"] == "V1" and "features" not in image


def test_confidential_vm_on_a_v1_source_is_refused_before_anything_is_created():
    image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-core"}
    build = flavour("windows", base_image={"azure": image}, gallery={"security_type": "ConfidentialVM"})
    assert [(p.path, p.message) for p in problems_of(settings(), build)] == [(
        "gallery", "flavour 'test-windows': security type ConfidentialVM needs Hyper-V generation V2 (Secure Boot and "
        "vTPM exist on Gen2 VMs only)")]


def test_no_schedule_means_no_workflow_and_tests_off_drops_image_tests():
    build = flavour(schedule={"enabled": False, "reason": "built on demand for each AVD host pool"},
                    steps=["os-updates", {"image-tests": {"suite": "echo ok"}}],
                    tests={"enabled": False, "reason": "the host pool's smoke test covers it"})
    with pytest.raises(ValueError, match="has no schedule"):
        render.workflow_args(build, render.FactoryNames.for_stack("dev", settings().azure), run_uri="u", identity_id="i")
    props = body(build, settings())["properties"]
    names = [c["name"] for c in props["customize"]] + [v["name"] for v in props["validate"]["inVMValidations"]]
    assert names and not any("image-tests" in n for n in names)
    assert body(build, settings())["tags"]["golden-images:no-schedule"] == "built on demand for each AVD host pool"


def test_a_flavour_cadence_renders_its_own_recurrence():
    build = flavour(schedule={"every": "month", "on": 2, "at": "03:00", "timezone": "Europe/Amsterdam"})
    args = render.workflow_args(build, render.FactoryNames.for_stack("dev", settings().azure), run_uri="u",
                                identity_id="i")
    recurrence = args["definition"]["triggers"]["Recurrence"]["recurrence"]
    assert recurrence["frequency"] == "Month" and recurrence["schedule"]["monthDays"] == [2]
    assert recurrence["timeZone"] == "W. Europe Standard Time"
