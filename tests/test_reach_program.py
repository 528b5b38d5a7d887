"""The real program under the mock engine with a team's EKS node flavour: an AMI filter looked up at
deploy time, a 10 GB gp3 root on Amazon Linux's device, no schedule and no image tests on purpose."""
from __future__ import annotations

from components.plan import main, summary

EKS_NODE = """\
name: eks-node
description: CIS-hardened Amazon Linux 2 EKS worker node, rebuilt before each cluster upgrade.
version: 1.0.0
os: linux
clouds: [aws]
base_image:
  aws:
    owners: [amazon]
    name: amazon-eks-node-1.31-v*
build:
  aws:
    instance_types: [m6i.large]
    root_volume: {size_gb: 20, type: gp3, iops: 3000, throughput: 125}
    volumes:
      - {device_name: /dev/sdf, snapshot_id: snap-0123456789abcdef0, delete_on_termination: true}
schedule:
  enabled: false
  reason: built before each EKS upgrade by the platform team
tests:
  enabled: false
  reason: tested by the cluster conformance suite after rollout
steps:
  - os-updates
  - linux-baseline
  - cleanup
"""


def test_an_eks_node_plans_with_a_filtered_parent_and_no_schedule(project, tmp_path, capsys):
    project.write_flavour("eks-node.yaml", EKS_NODE)
    plan = project.plan("dev")
    (recipe,) = [r for r in plan.of_type("aws:imagebuilder/imageRecipe:ImageRecipe") if "eks-node" in r.name]
    # The newest AMI the filter finds at deploy time (a stable stand-in under the mocks) is the parent.
    assert recipe.inputs["parentImage"].startswith("ami-")
    root, media = recipe.inputs["blockDeviceMappings"]
    assert root["deviceName"] == "/dev/xvda"
    assert root["ebs"]["volumeSize"] == 20 and root["ebs"]["volumeType"] == "gp3" and root["ebs"]["iops"] == 3000
    assert media["deviceName"] == "/dev/sdf" and media["ebs"]["snapshotId"] == "snap-0123456789abcdef0"
    (pipeline,) = [r for r in plan.of_type("aws:imagebuilder/imagePipeline:ImagePipeline") if "eks-node" in r.name]
    assert "schedule" not in pipeline.inputs
    assert pipeline.inputs["imageTestsConfiguration"] == {"imageTestsEnabled": False}
    text = summary(plan)
    assert "schedule: none: no scheduled rebuilds (built before each EKS upgrade by the platform team)" in text
    assert "parent_lookup: newest AMI matching the filter at deploy time: the recipe is replaced when a newer AMI " \
           "is published" in text
    # make plan passes: the recorded decisions are guardrail warnings, not errors.
    code = main(["--stack", "dev", "--root", str(project.root), "--out", str(tmp_path / "dev.json"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning: GI-PIPE-003 eks-node-pipeline: no scheduled rebuilds (built before each EKS upgrade" in err
    assert "warning: GI-PIPE-004 eks-node-pipeline: image tests are off (tested by the cluster conformance" in err


def test_the_windows_11_avd_example_plans_as_a_gen2_trusted_launch_image(project):
    import shutil
    from pathlib import Path

    examples = Path(__file__).resolve().parent.parent / "docs" / "examples"
    shutil.copy(examples / "win11-avd.yaml", project.flavours / "win11-avd.yaml")
    shutil.copy(examples / "tests" / "win11-avd.Tests.ps1", project.flavours / "tests" / "win11-avd.Tests.ps1")
    plan = project.plan("dev")
    (image,) = [r for r in plan.of_type("azure-native:compute:GalleryImage") if r.name == "win11-avd-image"]
    # Windows 11 is Gen2-only; a V1 definition could not take the Gen2 build (the bug this fixes).
    assert image.inputs["hyperVGeneration"] == "V2"
    assert image.inputs["features"][0] == {"name": "SecurityType", "value": "TrustedLaunch"}
    (template,) = [r for r in plan.of_type("azure-native:virtualmachineimages:VirtualMachineImageTemplate")
                   if r.name == "win11-avd-template"]
    assert template.inputs["vmProfile"]["vmSize"] == "Standard_D8s_v5"
    assert template.inputs["vmProfile"]["osDiskSizeGB"] == 128
    update = next(c for c in template.inputs["customize"] if c["type"] == "WindowsUpdate")
    assert any("KB5005463" in f for f in update["filters"])
    # Azure only: no AWS pipeline for it.
    assert not [r for r in plan.of_type("aws:imagebuilder/imagePipeline:ImagePipeline") if "win11" in r.name]
