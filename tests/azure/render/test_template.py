"""The image template: source, VM profile, distribution, error handling and its content hash."""
from __future__ import annotations

import pytest

from components.azure import render
from components.model.flavour import Flavour
from tests.azure.samples import CATALOGUE, NAME, body, flavour, settings
from tests.builds import build_of


class TestDigest:
    def test_same_inputs_same_digest(self):
        assert render.template_digest(body(flavour(), settings())) == render.template_digest(body(flavour(), settings()))

    @pytest.mark.parametrize(
        "changed",
        [
            lambda: (flavour(steps=[{"os-updates": {"exclude": ["linux-image-generic"]}}]), settings()),
            lambda: (flavour(version="3.2.2"), settings()),
            lambda: (flavour(build={"azure_vm_size": "Standard_D8s_v5"}), settings()),
            lambda: (flavour(), settings(keep_failed_vm=True)),
            lambda: (flavour(), settings(replication=[{"region": "westeurope", "replica_count": 2}])),
        ],
        ids=["step-param", "version", "vm-size", "error-handling", "replicas"],
    )
    def test_any_change_changes_the_digest(self, changed):
        f, s = changed()
        assert render.template_digest(body(f, s)) != render.template_digest(body(flavour(), settings()))

    def test_staging_group_is_not_part_of_the_hash(self):
        rendered = body(flavour(), settings())
        assert rendered["properties"]["stagingResourceGroup"] == render.STAGING_PLACEHOLDER


class TestTemplate:
    def test_source_is_the_flavours_platform_image(self):
        assert render.render_source(flavour("windows")) == {
            "type": "PlatformImage",
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter-core-g2",
            "version": "latest",
        }

    def test_distribution_to_the_gallery_with_regions_and_major_version(self):
        s = settings(replication=[
            {"region": "westeurope", "replica_count": 2, "storage_account_type": "Standard_ZRS"},
            {"region": "eastus"},
        ])
        [dist] = render.render_distribution(flavour(), s.azure, "IMAGE-ID")
        assert dist["type"] == "SharedImage" and dist["galleryImageId"] == "IMAGE-ID"
        assert dist["targetRegions"] == [
            {"name": "westeurope", "replicaCount": 2, "storageAccountType": "Standard_ZRS"},
            {"name": "eastus", "replicaCount": 1, "storageAccountType": "Standard_LRS"},
        ]
        assert dist["versioning"] == {"scheme": "Latest", "major": 3}
        assert dist["artifactTags"]["golden-images:version"] == "3.2.1"
        assert "replicationRegions" not in dist
        assert NAME.match(dist["runOutputName"])

    def test_distribution_defaults_to_the_location(self):
        [dist] = render.render_distribution(flavour(), settings().azure, "IMAGE-ID")
        assert [r["name"] for r in dist["targetRegions"]] == ["westeurope"]

    def test_vm_profile_by_os_with_flavour_override(self):
        s = settings()
        assert render.render_vm_profile(flavour("linux"), s.azure) == {"vmSize": "Standard_D2s_v5", "osDiskSizeGB": 30}
        assert render.render_vm_profile(flavour("windows"), s.azure) == {"vmSize": "Standard_D4s_v5", "osDiskSizeGB": 128}
        custom = flavour("windows", build={"azure_vm_size": "Standard_D8s_v5", "disk_size_gb": 256})
        assert render.render_vm_profile(custom, s.azure) == {"vmSize": "Standard_D8s_v5", "osDiskSizeGB": 256}

    def test_network_injection(self):
        subnet = "/subscriptions/8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/"
        s = settings(subnet_id=subnet + "build", container_instance_subnet_id=subnet + "aci")
        assert render.render_vm_profile(flavour(), s.azure)["vnetConfig"] == {
            "subnetId": subnet + "build",
            "containerInstanceSubnetId": subnet + "aci",
        }
        assert render.vnet_ids(s.azure) == [subnet[: -len("/subnets/")]]
        assert render.vnet_group_ids(s.azure) == ["/subscriptions/8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48/resourceGroups/net"]
        assert set(render.NETWORK_ACTIONS) <= set(render.builder_actions(s.azure))
        assert not set(render.NETWORK_ACTIONS) & set(render.builder_actions(settings().azure))

    def test_error_handling_follows_the_stack(self):
        assert render.render_error_handling(settings(keep_failed_vm=True).azure) == {
            "onCustomizerError": "abort", "onValidationError": "abort"}
        assert render.render_error_handling(settings().azure) == {
            "onCustomizerError": "cleanup", "onValidationError": "cleanup"}

    def test_whole_template(self):
        rendered = body(flavour(), settings())
        props = rendered["properties"]
        assert rendered["identity"]["type"] == "UserAssigned"
        assert len(rendered["identity"]["userAssignedIdentities"]) == 1
        assert props["optimize"] == {"vmBoot": {"state": "Enabled"}}
        assert props["buildTimeoutInMinutes"] == 240
        assert props["validate"]["continueDistributeOnFailure"] is False
        assert len(props["validate"]["inVMValidations"]) == 1
        assert rendered["tags"] == {
            "environment": "test",
            "team": "platform",
            "golden-images:flavour": "test-linux",
            "golden-images:version": "3.2.1",
        }



def test_gallery_image_versions_carry_lineage_without_the_commit():
    """artifactTags land on each gallery image version; the commit would rename the template on every deploy."""
    built = build_of(Flavour.model_validate({
        "name": "test-linux", "description": "d", "version": "3.2.1", "os": "linux",
        "base_image": {"azure": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}},
        "steps": ["os-updates"]}), settings(), CATALOGUE, source_commit="0123456789abcdef0123456789abcdef01234567")
    [dist] = render.render_distribution(built, settings().azure, "IMAGE-ID")
    tags = dist["artifactTags"]
    assert tags["golden-images:built-from"] == "Canonical:ubuntu-24_04-lts:server:latest"
    assert tags["golden-images:flavour"] == "test-linux" and tags["golden-images:version"] == "3.2.1"
    assert "golden-images:source-commit" not in tags
