"""The shipped Azure Virtual Desktop session host image (image_flavours/win11-avd.yaml), as both
stacks plan it."""
from __future__ import annotations

import base64
import re

import pytest

STACKS = ("dev", "prod")


def _one(plan, typ: str, name: str):
    found = [r for r in plan.of_type(typ) if r.name == name]
    assert len(found) == 1, f"expected one {typ} {name}, found {len(found)}"
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_both_stacks_build_it_on_azure_only(plans, stack):
    plan = plans[stack]
    # The stack files select no flavours (golden-images:flavours unset): every flavour is built.
    assert plan.outputs["flavours"]["win11-avd"]["clouds"] == ["azure"]
    assert not [r for r in plan.resources if r.type.startswith("aws:") and "win11" in r.name]


@pytest.mark.parametrize("stack", STACKS)
def test_the_gallery_definition_is_gen2_trusted_launch(plans, stack):
    image = _one(plans[stack], "azure-native:compute:GalleryImage", "win11-avd-image")
    # Windows 11 runs only on Generation 2 VMs, and a Trusted Launch VM is created only from a
    # definition whose SecurityType feature is TrustedLaunch (Compute Gallery docs, "Trusted
    # launch for Azure VMs"); a V1 definition cannot take the Gen2 build's output.
    assert image.inputs["hyperVGeneration"] == "V2"
    assert image.inputs["osType"] == "Windows"
    assert image.inputs["osState"] == "Generalized"
    features = {f["name"]: f["value"] for f in image.inputs["features"]}
    assert features == {"SecurityType": "TrustedLaunch", "IsAcceleratedNetworkSupported": "True",
                        "IsHibernateSupported": "False"}


@pytest.mark.parametrize("stack", STACKS)
def test_the_template_starts_from_the_avd_marketplace_image(plans, stack):
    template = _one(plans[stack], "azure-native:virtualmachineimages:VirtualMachineImageTemplate", "win11-avd-template")
    assert template.inputs["source"] == {"type": "PlatformImage", "publisher": "MicrosoftWindowsDesktop",
                                         "offer": "windows-11", "sku": "win11-24h2-avd", "version": "latest"}
    assert template.inputs["vmProfile"] == {"vmSize": "Standard_D8s_v5", "osDiskSizeGB": 128}


@pytest.mark.parametrize("stack", STACKS)
def test_updates_are_filtered_and_surrounded_by_restarts(plans, stack):
    template = _one(plans[stack], "azure-native:virtualmachineimages:VirtualMachineImageTemplate", "win11-avd-template")
    kinds = [c["type"] for c in template.inputs["customize"]]
    # AIB customizers: WindowsRestart, WindowsUpdate (searchCriteria, filters, updateLimit), PowerShell.
    assert kinds == ["WindowsRestart", "WindowsUpdate", "WindowsRestart", "PowerShell", "PowerShell",
                     "WindowsRestart", "PowerShell", "PowerShell"]
    update = template.inputs["customize"][1]
    # The WindowsUpdate filters are PowerShell expressions on the update ($_), "include:" or "exclude:".
    assert update["filters"] == ["exclude:$_.Title -like '*Preview*'", "exclude:$_.Title -like '*KB5005463*'",
                                 "include:$true"]
    assert update["searchCriteria"] == "IsInstalled=0"
    # The session host settings run as the script the build VM decodes (shipped base64-encoded).
    runner = "\n".join(template.inputs["customize"][3]["inline"])
    encoded = re.search(r"FromBase64String\('([A-Za-z0-9+/=]+)'\)", runner)
    assert encoded, runner
    script = base64.b64decode(encoded.group(1)).decode("utf-8-sig")
    assert "Set-ItemProperty -Path $ts -Name fEnableTimeZoneRedirection -Type DWord -Value 1" in script
    assert "Set-ItemProperty -Path $sense -Name AllowStorageSenseGlobal -Type DWord -Value 0" in script


@pytest.mark.parametrize("stack", STACKS)
def test_versions_replicate_where_the_host_pools_are(plans, stack):
    template = _one(plans[stack], "azure-native:virtualmachineimages:VirtualMachineImageTemplate", "win11-avd-template")
    (distributor,) = template.inputs["distribute"]
    assert distributor["type"] == "SharedImage"
    # The flavour's distribution.azure.replication, in every stack, not the stack's own.
    assert distributor["targetRegions"] == [
        {"name": "westeurope", "replicaCount": 3, "storageAccountType": "Standard_ZRS"},
        {"name": "northeurope", "replicaCount": 1, "storageAccountType": "Standard_LRS"},
    ]
    other = _one(plans[stack], "azure-native:virtualmachineimages:VirtualMachineImageTemplate", "ubuntu-2404-template")
    assert other.inputs["distribute"][0]["targetRegions"] != distributor["targetRegions"]
