"""A flavour's own Azure replication: target regions, replica counts and storage of its gallery
image versions, instead of the stack's golden-images:azure.replication."""
from __future__ import annotations

from pathlib import Path

from components.azure.render.checks import plan_azure
from components.azure.render.template import render_distribution
from components.model.loader import load_inputs
from tests.builds import builds_of
from tests.flavour_folders import folder_with, refused
from tests.samples import stack_config, ubuntu_flavour

OWN = ubuntu_flavour("vdi") + """\
  - os-updates
  - linux-baseline
distribution:
  azure:
    replication:
      - region: westeurope
        replica_count: 3
        storage_account_type: Standard_ZRS
      - region: northeurope
"""

STACK_REPLICATION = [{"region": "westeurope", "replica_count": 2, "storage_account_type": "Standard_LRS"}]


def _builds(tmp_path: Path, files: dict) -> tuple:
    folder = folder_with(tmp_path, files)
    config = stack_config(azure={"location": "westeurope", "replication": STACK_REPLICATION})
    inputs = load_inputs(config, "Pulumi.dev.yaml", folder, tmp_path)
    return builds_of(inputs), inputs.settings.azure


def test_the_flavours_replication_is_the_distributors_target_regions(tmp_path):
    other = ubuntu_flavour("plain") + "  - os-updates\n  - linux-baseline\n"
    builds, azure = _builds(tmp_path, {"vdi.yaml": OWN, "plain.yaml": other})
    (distributor,) = render_distribution(builds["vdi"], azure, "/gallery/images/vdi")
    # AIB's SharedImage distributor: targetRegions [{name, replicaCount, storageAccountType}]
    # (azure-mgmt-imagebuilder TargetRegion; replicaCount defaults to 1, storage to Standard_LRS).
    assert distributor["type"] == "SharedImage"
    assert distributor["targetRegions"] == [
        {"name": "westeurope", "replicaCount": 3, "storageAccountType": "Standard_ZRS"},
        {"name": "northeurope", "replicaCount": 1, "storageAccountType": "Standard_LRS"},
    ]
    # A flavour that says nothing keeps the stack's replication.
    (plain,) = render_distribution(builds["plain"], azure, "/gallery/images/plain")
    assert plain["targetRegions"] == [{"name": "westeurope", "replicaCount": 2, "storageAccountType": "Standard_LRS"}]


def test_every_bad_replica_is_named_in_one_run(tmp_path):
    text = ubuntu_flavour("vdi") + """\
  - os-updates
  - linux-baseline
distribution:
  azure:
    replication:
      - region: westeurop
      - region: northeurope
        replica_count: 0
      - region: eastus
        replica_count: 101
        storage_account_type: Premium_ZRS
      - region: northeurope
"""
    problems = refused(tmp_path, {"vdi.yaml": text})
    at = "image_flavours/vdi.yaml: distribution.azure.replication"
    assert f"{at}[0].region: unknown Azure region 'westeurop' (did you mean 'westeurope'?); use the programmatic " \
           "name (e.g. westeurope)" in problems
    # The Image Builder API takes at least one replica (azure-mgmt-imagebuilder TargetRegion: minimum 1).
    assert f"{at}[1].replica_count: must be at least 1, got 0" in problems
    assert f"{at}[2].replica_count: must be at most 100, got 101" in problems
    # SharedImageStorageAccountType: Standard_LRS, Standard_ZRS, Premium_LRS (no Premium_ZRS for images).
    assert f"{at}[2].storage_account_type: Input should be 'Standard_LRS', 'Standard_ZRS' or 'Premium_LRS'" in problems


def test_a_region_listed_twice_is_named_at_its_second_entry(tmp_path):
    text = ubuntu_flavour("vdi") + """\
  - os-updates
  - linux-baseline
distribution:
  azure:
    replication: [{region: westeurope}, {region: northeurope}, {region: westeurope, replica_count: 2}]
"""
    assert refused(tmp_path, {"vdi.yaml": text}) == [
        "image_flavours/vdi.yaml: distribution.azure.replication[2].region: 'westeurope' is listed twice (also [0])"]


def test_the_replication_must_include_the_stacks_location(tmp_path):
    text = ubuntu_flavour("vdi") + """\
  - os-updates
  - linux-baseline
distribution:
  azure:
    replication: [{region: northeurope, replica_count: 2}]
"""
    builds, azure = _builds(tmp_path, {"vdi.yaml": text})
    _, problems = plan_azure(list(builds.values()), azure, builds["vdi"].schedule, stack="dev",
                             settings_source="Pulumi.dev.yaml")
    assert [str(p) for p in problems] == [
        "image_flavours/vdi.yaml: distribution.azure.replication: must include the stack's location 'westeurope', "
        "where the gallery and the build are (given: northeurope): the gallery keeps a replica of each version there"]
