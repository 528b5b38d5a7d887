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
    assert "parent_lookup: newest AMI matching the filter at deploy time: a newer AMI creates a new recipe, " \
           "then the pipeline switches to it" in text
    # make plan passes: the recorded decisions are guardrail warnings, not errors.
    code = main(["--stack", "dev", "--root", str(project.root), "--out", str(tmp_path / "dev.json"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning: GI-PIPE-003 eks-node-pipeline: no scheduled rebuilds (built before each EKS upgrade" in err
    assert "warning: GI-PIPE-004 eks-node-pipeline: image tests are off (tested by the cluster conformance" in err


def test_the_windows_11_avd_example_plans_as_a_gen2_trusted_launch_image(project):
    # Shipped as image_flavours/win11-avd.yaml (it was an example under docs/examples/).
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


EKS_NODE_GPU = """\
name: eks-node-gpu
description: The EKS worker node with the NVIDIA tooling, built on the newest eks-node image.
version: 1.0.0
os: linux
clouds: [aws]
base_image:
  flavour: eks-node
schedule:
  enabled: false
  reason: built after each eks-node build by the platform team
tests:
  enabled: false
  reason: tested by the cluster conformance suite after rollout
steps:
  - cleanup
"""


def _plan_with_newest_ami(project, monkeypatch, image_id: str):
    """A plan whose AMI filter lookups find `image_id`, as the real lookup does once AWS publishes it."""
    from components.mocks import PlanMocks

    answer = PlanMocks.call

    def call(self, args):
        result, failures = answer(self, args)
        if args.token == "aws:ec2/getAmi:getAmi" and args.args.get("mostRecent"):
            result = {**result, "id": image_id, "imageId": image_id}
        return result, failures

    monkeypatch.setattr(PlanMocks, "call", call)
    plan = project.plan("dev")
    recipes = {r.name: r.inputs for r in plan.of_type("aws:imagebuilder/imageRecipe:ImageRecipe")}
    pipelines = {r.name: r.inputs for r in plan.of_type("aws:imagebuilder/imagePipeline:ImagePipeline")}
    # The lifecycle policy selects its images by recipe name: it keeps watching the current recipe.
    for res in plan.of_type("aws:imagebuilder/lifecyclePolicy:LifecyclePolicy"):
        flavour = res.name.removesuffix("-lifecycle")
        pipelines[f"{flavour}-pipeline"]["lifecycle recipes"] = [
            r["name"] for r in res.inputs["resourceSelection"]["recipes"]]
    return recipes, pipelines


def test_a_newer_ami_found_by_the_filter_names_a_new_recipe_and_the_pipeline_follows(project, monkeypatch):
    project.write_flavour("eks-node.yaml", EKS_NODE)
    project.write_flavour("eks-node-gpu.yaml", EKS_NODE_GPU)
    old_recipes, old_pipelines = _plan_with_newest_ami(project, monkeypatch, "ami-0aaaaaaaaaaaaaaa1")
    new_recipes, new_pipelines = _plan_with_newest_ami(project, monkeypatch, "ami-0bbbbbbbbbbbbbbb2")
    again, _ = _plan_with_newest_ami(project, monkeypatch, "ami-0aaaaaaaaaaaaaaa1")
    old, new = old_recipes["eks-node-recipe"], new_recipes["eks-node-recipe"]
    assert old["parentImage"] == "ami-0aaaaaaaaaaaaaaa1" and new["parentImage"] == "ami-0bbbbbbbbbbbbbbb2"
    # An image recipe cannot be updated, and its name and version identify it (CreateImageRecipe:
    # ResourceAlreadyExistsException for a taken name and version): another parent needs another name
    # at the same flavour version, so the new recipe is created next to the one the pipeline uses.
    assert old["version"] == new["version"] == "1.0.0"
    assert old["name"] != new["name"]
    assert old["name"].startswith("golden-images-dev-eks-node-") and new["name"].startswith("golden-images-dev-eks-node-")
    assert again["eks-node-recipe"]["name"] == old["name"]  # the same AMI names the same recipe
    # The pipeline references the recipe it builds (imageRecipeArn: .../image-recipe/<name>/<version>).
    for recipe, pipelines in ((old, old_pipelines), (new, new_pipelines)):
        assert pipelines["eks-node-pipeline"]["imageRecipeArn"].endswith(f":image-recipe/{recipe['name']}/1.0.0")
        assert pipelines["eks-node-pipeline"]["lifecycle recipes"] == [recipe["name"]]
    # A layer on it starts from the base's images under the base's current recipe name
    # (image ARN .../image/<recipe name>/x.x.x), so it is a new recipe too.
    for recipes, pipelines in ((old_recipes, old_pipelines), (new_recipes, new_pipelines)):
        layer = recipes["eks-node-gpu-recipe"]
        assert layer["parentImage"].endswith(f":image/{recipes['eks-node-recipe']['name']}/x.x.x")
        assert pipelines["eks-node-gpu-pipeline"]["imageRecipeArn"].endswith(f":image-recipe/{layer['name']}/1.0.0")
    assert old_recipes["eks-node-gpu-recipe"]["name"] != new_recipes["eks-node-gpu-recipe"]["name"]
    # Every other parent names its recipe from static content alone: the shipped flavours keep theirs.
    shipped = {name: inputs["name"] for name, inputs in old_recipes.items() if not name.startswith("eks-node")}
    assert shipped and shipped == {name: inputs["name"] for name, inputs in new_recipes.items()
                                   if not name.startswith("eks-node")}
