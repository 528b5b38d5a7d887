"""The EC2 Image Builder factory under the plan's mock engine: what the provider would receive."""
from __future__ import annotations

import base64
import json
import re
import shutil

import pytest
import yaml

from components.mocks import ACCOUNT_ID, autoname, kms_key_id
from components.model.assets import pack_directory, pack_file
from components.model.steps import STEPS_DIR, load_catalogue
from components.plan import ROOT

STACKS = ("dev", "prod")
IB = "aws:imagebuilder/"
COMPONENT = "aws:imagebuilder/component:Component"
RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe"
INFRASTRUCTURE = "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration"
DISTRIBUTION = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
PIPELINE = "aws:imagebuilder/imagePipeline:ImagePipeline"
LIFECYCLE = "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy"
KEY = "aws:kms/key:Key"
REPLICA = "aws:kms/replicaKey:ReplicaKey"
COMMAND = "command:local:Command"
BUILD_REGION = "eu-west-1"
ARN = f"arn:aws:imagebuilder:{BUILD_REGION}:{ACCOUNT_ID}"


def factories(plan) -> dict:
    """flavour -> its golden-images:aws:ImagePipeline component."""
    return {r.name: r for r in plan.of_type("golden-images:aws:ImagePipeline")}


def only(plan, parent, typ):
    found = [r for r in plan.children(parent.urn) if r.type == typ]
    assert len(found) == 1, f"{parent.name}: {len(found)} x {typ}"
    return found[0]


def shared(plan):
    (component,) = plan.of_type("golden-images:aws:SharedInfrastructure")
    return component


def single(plan, typ, suffix: str = ""):
    """The one shared resource of this type (whose logical name ends with `suffix`)."""
    (resource,) = [r for r in plan.children(shared(plan).urn) if r.type == typ and r.name.endswith(suffix)]
    return resource


def recipe_arn(recipe) -> str:
    return f"{ARN}:image-recipe/{recipe.inputs['name']}/{recipe.inputs['version']}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_flavour_on_aws_gets_one_complete_factory(plans, stack):
    plan = plans[stack]
    on_aws = {name for name, info in plan.outputs["flavours"].items() if "aws" in info["clouds"]}
    assert on_aws and set(factories(plan)) == on_aws
    for name, factory in factories(plan).items():
        types = sorted(r.type for r in plan.children(factory.urn))
        assert types == sorted([RECIPE, INFRASTRUCTURE, DISTRIBUTION, PIPELINE, LIFECYCLE]), name
        golden = next(r for r in plan.of_type("golden-images:index:GoldenImage") if r.name == name)
        assert factory.parent == golden.urn


@pytest.mark.parametrize("stack", STACKS)
def test_pipeline_uses_its_own_recipe_and_configurations(plans, stack):
    plan = plans[stack]
    for name, factory in factories(plan).items():
        recipe = only(plan, factory, RECIPE)
        infrastructure = only(plan, factory, INFRASTRUCTURE)
        distribution = only(plan, factory, DISTRIBUTION)
        pipeline = only(plan, factory, PIPELINE).inputs
        assert pipeline["imageRecipeArn"] == recipe_arn(recipe)
        assert pipeline["infrastructureConfigurationArn"] == (
            f"{ARN}:infrastructure-configuration/{infrastructure.inputs['name']}")
        assert pipeline["distributionConfigurationArn"] == f"{ARN}:distribution-configuration/{distribution.inputs['name']}"
        assert pipeline["name"] == f"golden-images-{stack}-{name}"
        assert pipeline["status"] == "ENABLED"
        assert pipeline["imageTestsConfiguration"]["imageTestsEnabled"] is True
        assert 60 <= pipeline["imageTestsConfiguration"]["timeoutMinutes"] <= 1440
        assert pipeline["imageScanningConfiguration"] == {"imageScanningEnabled": True}
        assert pipeline["enhancedImageMetadataEnabled"] is True


LAYERED = "windows-2022-core-dotnet-iis"  # a shipped layered flavour
LAYERS = {LAYERED, "windows-2022-app-server"}  # every shipped flavour layered on another
LAYER_BASE = "windows-2022-core-dotnet"


def test_schedules_follow_the_stack(plans):
    # Layers rebuild layer_delay_hours (default 4) after their base, on the same rule.
    expected = {"dev": ("cron(0 2 ? * SUN *)", "cron(0 6 ? * SUN *)"),
                "prod": ("cron(0 3 15 * ? *)", "cron(0 7 15 * ? *)")}
    for stack, (cron, layer_cron) in expected.items():
        for name, factory in factories(plans[stack]).items():
            schedule = only(plans[stack], factory, PIPELINE).inputs["schedule"]
            assert schedule == {"scheduleExpression": layer_cron if name in LAYERS else cron,
                                "timezone": "Europe/Amsterdam",
                                "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"}


@pytest.mark.parametrize("stack", STACKS)
def test_a_layered_recipe_starts_from_its_base_flavours_newest_image(plans, stack):
    plan = plans[stack]
    base = only(plan, factories(plan)[LAYER_BASE], RECIPE).inputs
    layer = only(plan, factories(plan)[LAYERED], RECIPE).inputs
    assert layer["parentImage"] == f"{ARN}:image/{base['name']}/x.x.x"
    # The parent is named, not referenced: the layer's recipe is ordered after its base's explicitly.
    base_recipe = only(plan, factories(plan)[LAYER_BASE], RECIPE)
    assert base_recipe.urn in only(plan, factories(plan)[LAYERED], RECIPE).options["dependsOn"]
    assert plan.outputs["flavours"][LAYERED]["aws"]["parent_image"] == layer["parentImage"]
    # Only the layer's own build runs: updates again, IIS, the Hosting Bundle repaired, tests, cleanup.
    assert plan.outputs["flavours"][LAYERED]["steps"] == [
        "os-updates", "windows-feature", "dotnet-runtime", "image-tests", "cleanup"]
    assert len(layer["components"]) < len(base["components"])
    assert layer["blockDeviceMappings"][0]["deviceName"] == base["blockDeviceMappings"][0]["deviceName"]


@pytest.mark.parametrize("stack", STACKS)
def test_components_are_created_once_and_shared(plans, stack):
    plan = plans[stack]
    components = plan.of_type(COMPONENT)
    assert components and all(c.parent == shared(plan).urn for c in components)
    names = [c.inputs["name"] for c in components]
    assert len(names) == len(set(names))
    ours = {f"{ARN}:component/{c.inputs['name']}/{c.inputs['version']}/1" for c in components}
    used = set()
    for factory in factories(plan).values():
        for entry in only(plan, factory, RECIPE).inputs["components"]:
            arn = entry["componentArn"]
            assert arn in ours or re.fullmatch(rf"arn:aws:imagebuilder:{BUILD_REGION}:aws:component/[a-z0-9-]+/x\.x\.x", arn)
            used.add(arn)
    assert ours <= used  # nothing created that no recipe uses


def test_flavours_using_the_same_step_share_its_component(plans):
    plan = plans["dev"]
    windows = [f for f in factories(plan).values() if only(plan, f, RECIPE).inputs["workingDirectory"].startswith("C:")]
    assert len(windows) >= 2
    component_lists = [{c["componentArn"] for c in only(plan, f, RECIPE).inputs["components"]} for f in windows]
    assert set.intersection(*component_lists) - {a for a in set.union(*component_lists) if ":aws:component/" in a}


def test_windows_updates_use_the_aws_managed_component_then_our_check(plans):
    plan = plans["dev"]
    recipe = only(plan, factories(plan)["windows-2022-core-dotnet"], RECIPE).inputs
    arns = [c["componentArn"] for c in recipe["components"]]
    managed = f"arn:aws:imagebuilder:{BUILD_REGION}:aws:component/update-windows/x.x.x"
    assert arns[0] == managed
    check = next(c for c in plan.of_type(COMPONENT) if arns[1].startswith(f"{ARN}:component/{c.inputs['name']}/"))
    assert check.inputs["platform"] == "Windows"
    assert "Microsoft.Update.Session" in check.inputs["data"]  # the os-updates check, run by our component


@pytest.mark.parametrize("stack", STACKS)
def test_recipes_take_the_flavour_image_and_an_encrypted_root_volume(plans, stack):
    plan = plans[stack]
    key_arn = aws_key_arns(plan)[BUILD_REGION]
    for name, factory in factories(plan).items():
        recipe = only(plan, factory, RECIPE).inputs
        version = plan.outputs["flavours"][name]["version"]
        assert recipe["version"] == version
        assert re.fullmatch(rf"golden-images-{stack}-{name}-[0-9a-f]{{10}}", recipe["name"])
        # A parent image is an SSM parameter, an AMI or an Image Builder image ARN (CreateImageRecipe
        # parentImage). A layer starts from its base's image in this account; rhel-9-stig from the
        # AWS-owned RHEL 9 image (Red Hat publishes no public SSM parameter for it).
        if name in LAYERS:
            assert recipe["parentImage"].startswith(f"{ARN}:image/")
        elif name == "rhel-9-stig":
            assert recipe["parentImage"] == (f"arn:aws:imagebuilder:{BUILD_REGION}:aws:image/"
                                             "red-hat-enterprise-linux-9-x86/x.x.x")
        else:
            assert recipe["parentImage"].startswith("ssm:/aws/service/")
        (device,) = recipe["blockDeviceMappings"]
        windows = plan.outputs["flavours"][name]["os"] == "windows"
        assert device["ebs"] == {"encrypted": "true", "deleteOnTermination": "true", "volumeType": "gp3",
                                 "volumeSize": 128 if windows else 30, "kmsKeyId": key_arn}


def aws_key_arns(plan) -> dict:
    """region -> ARN of the stack's key in that region (the primary or its replica)."""
    (primary,) = plan.of_type(KEY)
    key_id = kms_key_id(primary.name, primary.inputs["multiRegion"])
    regions = [primary.inputs["region"]] + [r.inputs["region"] for r in plan.of_type(REPLICA)]
    return {region: f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}" for region in regions}


def test_keys_cover_every_distribution_region(plans):
    dev, prod = plans["dev"], plans["prod"]
    (key,) = dev.of_type(KEY)
    assert key.inputs["multiRegion"] is True and key.inputs["enableKeyRotation"] is True
    assert not dev.of_type(REPLICA)
    replicas = prod.of_type(REPLICA)
    assert sorted(r.inputs["region"] for r in replicas) == ["eu-central-1", "us-east-1"]
    (primary,) = prod.of_type(KEY)
    assert {r.inputs["primaryKeyArn"] for r in replicas} == {aws_key_arns(prod)[BUILD_REGION]}
    assert all(r.inputs["policy"] == primary.inputs["policy"] for r in replicas)
    keys = aws_key_arns(prod)
    for factory in factories(prod).values():
        for entry in only(prod, factory, DISTRIBUTION).inputs["distributions"]:
            assert entry["amiDistributionConfiguration"]["kmsKeyId"] == keys[entry["region"]]


def test_key_policy_grants_what_cross_account_sharing_needs(plans):
    (key,) = plans["prod"].of_type(KEY)
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountAdministers"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert statements["SharedAccountsUseKey"]["Principal"]["AWS"] == [
        "arn:aws:iam::210987654321:root", "arn:aws:iam::345678901234:root"]
    assert statements["OrganizationalUnitsUseKey"]["Condition"] == {
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/*/ou-ab12-cdef3456/*"]},
        "StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"}}


@pytest.mark.parametrize("stack", STACKS)
def test_distribution_per_region_private_and_findable(plans, stack):
    plan = plans[stack]
    regions = {"dev": ["eu-west-1"], "prod": ["eu-west-1", "eu-central-1", "us-east-1"]}[stack]
    for name, factory in factories(plan).items():
        distributions = only(plan, factory, DISTRIBUTION).inputs["distributions"]
        assert [d["region"] for d in distributions] == regions
        windows = plan.outputs["flavours"][name]["os"] == "windows"
        for entry in distributions:
            ami = entry["amiDistributionConfiguration"]
            assert ami["name"].endswith("-{{ imagebuilder:buildDate }}")
            assert ami["amiTags"]["golden-images:flavour"] == name
            assert "userGroups" not in ami.get("launchPermission", {})
            assert entry["ssmParameterConfigurations"] == [
                {"parameterName": f"/golden-images/{name}/latest", "dataType": "aws:ec2:image"}]
            assert ("fastLaunchConfigurations" in entry) == (stack == "prod" and windows)
        if stack == "prod":
            ami = distributions[0]["amiDistributionConfiguration"]
            assert ami["targetAccountIds"] == ["210987654321"]
            assert ami["launchPermission"] == {
                "userIds": ["210987654321", "345678901234"],
                "organizationalUnitArns": ["arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdef3456"]}


def test_build_instances(plans):
    plan = plans["dev"]
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("imagebuilder-instance"))
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    role_name = autoname(role.name)
    attached = sorted(a.inputs["policyArn"] for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                      if a.inputs["role"] == role_name)
    assert attached == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                        "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder"]
    inline = {p.name.rsplit("-", 1)[-1]: p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy")
              if p.inputs["role"] == role_name}
    # artifacts: the app server's installer object (windows-2022-app-server.yaml)
    assert set(inline) == {"logs", "assets", "artifacts", "parameters"}
    # AmazonSSMManagedInstanceCore allows ssm:GetParameter(s) on "*" (AWS managed policy reference);
    # an explicit Deny overrides any Allow, so the instance reads only the product's parameters
    # (/golden-images in Pulumi.dev.yaml) and AWS's public /aws/service ones.
    assert json.loads(inline["parameters"].inputs["policy"])["Statement"] == [
        {"Sid": "OnlyThisProductsParameters", "Effect": "Deny",
         "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"],
         "NotResource": ["arn:aws:ssm:*:*:parameter/golden-images", "arn:aws:ssm:*:*:parameter/golden-images/*",
                         "arn:aws:ssm:*:*:parameter/aws/service/*"]}]
    bucket = single(plan, "aws:s3/bucket:Bucket", "-build-logs")
    bucket_name = autoname(bucket.name)
    assert json.loads(inline["logs"].inputs["policy"])["Statement"] == [
        {"Sid": "WriteBuildLogs", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket_name}/image-builder/*"}]
    # Build assets: read, under assets/ only.
    assets = autoname(single(plan, "aws:s3/bucket:Bucket", "-build-assets").name)
    assert json.loads(inline["assets"].inputs["policy"])["Statement"] == [
        {"Sid": "ReadBuildAssets", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{assets}/assets/*"}]
    profile = single(plan, "aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == role_name
    for factory in factories(plan).values():
        infrastructure = only(plan, factory, INFRASTRUCTURE).inputs
        assert infrastructure["instanceProfileName"] == autoname(profile.name)
        assert infrastructure["instanceMetadataOptions"] == {"httpTokens": "required"}
        assert infrastructure["terminateInstanceOnFailure"] is True
        assert infrastructure["logging"]["s3Logs"]["s3BucketName"] == bucket_name
        assert infrastructure["instanceTypes"] == ["m6i.large"]


def test_no_policy_grants_wildcard_actions(plans):
    for plan in plans.values():
        for resource in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
            for statement in json.loads(resource.inputs["policy"])["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not [a for a in actions if "*" in a], resource.name
        for attachment in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            assert "Administrator" not in attachment.inputs["policyArn"] and "FullAccess" not in attachment.inputs["policyArn"]


def assert_locked_down(plan, suffix: str, name: str) -> None:
    """Private, owner-enforced, SSE-S3, TLS only."""
    encryption = single(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", suffix)
    assert encryption.inputs == {"bucket": name, "region": BUILD_REGION,
                                 "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
    block = single(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", suffix).inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))
    ownership = single(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", suffix).inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    policy = json.loads(single(plan, "aws:s3/bucketPolicy:BucketPolicy", suffix).inputs["policy"])
    assert policy["Statement"][0]["Effect"] == "Deny" and policy["Statement"][0]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("stack", STACKS)
def test_build_assets_are_uploaded_once_and_fetched_by_the_component(plans, stack):
    plan = plans[stack]
    bucket = autoname(single(plan, "aws:s3/bucket:Bucket", "-build-assets").name)
    assert_locked_down(plan, "-build-assets", bucket)
    uploads = {u.inputs["key"]: u for u in plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    # One object per packed content: the playbook folder, rhel-9-stig's two placed files and the
    # ansible-playbook step's own folders (its locks and helpers), and ubuntu-2404's goss suite.
    assert len(uploads) == len(plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")) == 6
    step = ROOT / "components" / "steps" / "ansible-playbook"
    own = [pack_directory(step / name, f"ansible-playbook/{name}") for name in ("requirements", "lib")]
    for asset in own:
        assert (ROOT / "build" / "assets" / f"{asset.sha256}.tar.gz").read_bytes() == asset.data
        assert uploads[f"assets/{asset.sha256}.tar.gz"].inputs["bucket"] == bucket
    # The file the deployment uploads is the packed playbook folder, byte for byte.
    packed = pack_directory(ROOT / "image_flavours" / "ansible" / "ubuntu-2404", "ansible/ubuntu-2404")
    sha = packed.sha256
    upload = uploads[f"assets/{sha}.tar.gz"]
    assert upload.inputs["bucket"] == bucket
    assert upload.inputs["source"] == {"asset": {"path": f"build/assets/{sha}.tar.gz"}}
    assert (ROOT / "build" / "assets" / f"{sha}.tar.gz").read_bytes() == packed.data
    # The ansible-playbook component downloads it from the bucket the recipe names.
    recipe = only(plan, factories(plan)["ubuntu-2404"], RECIPE).inputs
    # So do the goss image-tests' components (its suite is an asset too; one per phase it runs in).
    with_bucket = [c for c in recipe["components"] if c.get("parameters")]
    assert [c["parameters"] for c in with_bucket] == [[{"name": "AssetBucket", "value": bucket}]] * 4
    component = next(c for c in plan.of_type(COMPONENT) for used in with_bucket
                     if used["componentArn"].startswith(f"{ARN}:component/{c.inputs['name']}/")
                     and "ansible-playbook" in c.inputs["name"])
    document = yaml.safe_load(component.inputs["data"])
    assert document["parameters"] == [{"AssetBucket": {
        "type": "string", "description": "The stack's build asset bucket (set by the recipe)"}}]
    build = next(p for p in document["phases"] if p["name"] == "build")["steps"]
    downloads = [s for s in build if s["action"] == "S3Download"]
    fetched = [i for d in downloads for i in d["inputs"]]
    assert {"source": f"s3://{{{{ AssetBucket }}}}/assets/{sha}.tar.gz",
            "destination": f"/var/tmp/golden-images/assets/{sha}.tar.gz", "overwrite": True} in fetched
    assert sorted(i["source"].rsplit("/", 1)[1] for i in fetched) == sorted(f"{a.sha256}.tar.gz" for a in [packed, *own])
    download = downloads[-1]
    script = next(s for s in build if s["action"] == "CreateFile")["inputs"][0]["content"]
    assert f"export GI_ASSET_DIRECTORY_SHA256='{sha}'" in script
    # Downloaded before the script that verifies and unpacks it is written and run.
    assert build.index(download) < build.index(next(s for s in build if s["action"] == "CreateFile"))


@pytest.mark.parametrize("stack", STACKS)
def test_log_bucket_is_locked_down_and_expires(plans, stack):
    plan = plans[stack]
    bucket = single(plan, "aws:s3/bucket:Bucket", "-build-logs")
    name = autoname(bucket.name)
    assert_locked_down(plan, "-build-logs", name)
    (rule,) = single(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rule["status"] == "Enabled" and rule["expiration"] == {"days": 90}
    protected = stack == "prod"
    assert bucket.options["protect"] is protected
    assert bucket.inputs["forceDestroy"] is (not protected)
    assert all(k.options["protect"] is protected for k in plan.of_type(KEY) + plan.of_type(REPLICA))


def test_build_results_topic(plans):
    plan = plans["prod"]
    topic = single(plan, "aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == aws_key_arns(plan)[BUILD_REGION]
    topic_arn = f"arn:aws:sns:{BUILD_REGION}:{ACCOUNT_ID}:{autoname(topic.name)}"
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == ["platform-team@example.com", "sre-oncall@example.com"]
    assert {(s.inputs["protocol"], s.inputs["topic"]) for s in subscriptions} == {("email", topic_arn)}
    for factory in factories(plan).values():
        assert only(plan, factory, INFRASTRUCTURE).inputs["snsTopicArn"] == topic_arn


def test_lifecycle_policies(plans):
    for stack, plan in plans.items():
        role = next(r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("imagebuilder-lifecycle"))
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "imagebuilder.amazonaws.com"}
        role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{autoname(role.name)}"
        for factory in factories(plan).values():
            policy = only(plan, factory, LIFECYCLE).inputs
            assert policy["executionRole"] == role_arn
            assert policy["resourceSelection"] == {"recipes": [
                {"name": only(plan, factory, RECIPE).inputs["name"], "semanticVersion": "x.x.x"}]}
            details = {d["action"]["type"]: d for d in policy["policyDetails"]}
            assert details["DELETE"]["action"]["includeResources"] == {"amis": True, "snapshots": True}
            if stack == "prod":
                assert details["DELETE"]["filter"] == {"type": "COUNT", "value": 12}
                assert details["DEPRECATE"]["filter"] == {"type": "AGE", "value": 90, "unit": "DAYS"}
            else:
                assert details["DELETE"]["filter"] == {"type": "COUNT", "value": 3}


@pytest.mark.parametrize("stack", STACKS)
def test_outputs(plans, stack):
    plan = plans[stack]
    regions = {"dev": ["eu-west-1"], "prod": ["eu-west-1", "eu-central-1", "us-east-1"]}[stack]
    for name, factory in factories(plan).items():
        summary = plan.outputs["flavours"][name]["aws"]
        pipeline_arn = f"{ARN}:image-pipeline/golden-images-{stack}-{name}"
        assert summary["pipeline_arn"] == pipeline_arn
        assert summary["recipe_arn"] == recipe_arn(only(plan, factory, RECIPE))
        assert summary["regions"] == regions
        assert summary["ssm_parameters"] == {r: f"/golden-images/{name}/latest" for r in regions}
        assert summary["start_build_command"] == (
            f"aws imagebuilder start-image-pipeline-execution --image-pipeline-arn {pipeline_arn} --region eu-west-1")
        assert summary["schedule"] == only(plan, factory, PIPELINE).inputs["schedule"]["scheduleExpression"]
        assert summary["build_on_deploy"] is False


def test_tags_on_every_flavour_resource(project):
    plan = project.plan("dev", env={"GOLDEN_IMAGES_SOURCE_COMMIT": "0123456789abcdef0123456789abcdef01234567"})
    for name, factory in factories(plan).items():
        for resource in plan.children(factory.urn):
            tags = resource.inputs["tags"]
            assert tags["environment"] == "dev" and tags["team"] == "platform"
            assert tags["golden-images:flavour"] == name and tags["golden-images:version"] == "1.0.0"
            assert tags["golden-images:source-commit"] == "0123456789abcdef0123456789abcdef01234567"
        distribution = only(plan, factory, DISTRIBUTION).inputs
        ami_tags = distribution["distributions"][0]["amiDistributionConfiguration"]["amiTags"]
        assert ami_tags["golden-images:source-commit"] == "0123456789abcdef0123456789abcdef01234567"


def test_build_on_deploy_starts_the_pipeline_when_the_recipe_changes(project):
    config = project.config("dev")
    config["golden-images:aws"] = {**config["golden-images:aws"], "build_on_deploy": True}
    plan = project.plan("dev", config=config)
    for name, factory in factories(plan).items():
        if name in LAYERS:
            # Its base's deploy-time build publishes an image only hours later: it waits for its schedule.
            assert not [r for r in plan.children(factory.urn) if r.type == COMMAND]
            assert plan.outputs["flavours"][name]["aws"]["build_on_deploy"] is False
            continue
        command = only(plan, factory, COMMAND)
        pipeline = only(plan, factory, PIPELINE)
        # The build assets are uploaded and readable before a deploy-time build starts.
        uploads = plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        (read,) = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-assets")]
        assert {*(u.urn for u in uploads), read.urn} <= set(command.options["dependsOn"])
        assert command.inputs["create"] == plan.outputs["flavours"][name]["aws"]["start_build_command"]
        assert command.inputs["triggers"] == [recipe_arn(only(plan, factory, RECIPE))]
        assert pipeline.urn in command.options["dependsOn"]
        assert plan.outputs["flavours"][name]["aws"]["build_on_deploy"] is True


def test_configured_key_replaces_the_stack_key(project):
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config = project.config("dev")
    config["golden-images:aws"] = {**config["golden-images:aws"], "kms_key_arn": key}
    plan = project.plan("dev", config=config)
    assert not plan.of_type(KEY) and not plan.of_type(REPLICA)
    assert {c.inputs["kmsKeyId"] for c in plan.of_type(COMPONENT)} == {key}
    assert single(plan, "aws:sns/topic:Topic").inputs["kmsMasterKeyId"] == key
    for factory in factories(plan).values():
        assert only(plan, factory, RECIPE).inputs["blockDeviceMappings"][0]["ebs"]["kmsKeyId"] == key
        assert only(plan, factory, DISTRIBUTION).inputs["distributions"][0]["amiDistributionConfiguration"][
            "kmsKeyId"] == key


def test_network_placement_from_stack_config(project):
    config = project.config("dev")
    config["golden-images:aws"] = {**config["golden-images:aws"], "subnet_id": "subnet-0123456789abcdef0",
                                   "security_group_ids": ["sg-0123456789abcdef0"]}
    plan = project.plan("dev", config=config)
    for factory in factories(plan).values():
        infrastructure = only(plan, factory, INFRASTRUCTURE).inputs
        assert infrastructure["subnetId"] == "subnet-0123456789abcdef0"
        assert infrastructure["securityGroupIds"] == ["sg-0123456789abcdef0"]


def test_changing_one_step_script_renames_exactly_its_component_and_the_recipes_using_it(project, monkeypatch,
                                                                                         tmp_path):
    before = project.plan("dev")
    steps = tmp_path / "steps"
    shutil.copytree(STEPS_DIR, steps)
    script = steps / "os-updates" / "install.sh"
    script.write_text(script.read_text() + "echo 'os-updates: done'\n")
    import components.model.loader as loader

    monkeypatch.setattr(loader, "load_catalogue", lambda: load_catalogue(steps))
    after = project.plan("dev")

    def names(plan) -> dict:
        return {(r.type, r.inputs.get("name")) for r in plan.resources if r.type.startswith(IB)}

    removed, added = names(before) - names(after), names(after) - names(before)
    old_component = next(c for c in before.of_type(COMPONENT)
                         if c.inputs["platform"] == "Linux" and "os-updates-install.sh" in c.inputs["data"])
    old_arn = f"{ARN}:component/{old_component.inputs['name']}/1.0.0/1"
    affected = [f for f in factories(before).values()
                if old_arn in [c["componentArn"] for c in only(before, f, RECIPE).inputs["components"]]]
    assert affected
    assert removed == {(COMPONENT, old_component.inputs["name"])} | {
        (RECIPE, only(before, f, RECIPE).inputs["name"]) for f in affected}
    assert sorted(t for t, _ in added) == sorted(t for t, _ in removed)
    new_component = next(c for c in after.of_type(COMPONENT) if (COMPONENT, c.inputs["name"]) in added)
    assert "echo 'os-updates: done'" in new_component.inputs["data"]
    for factory in affected:
        recipe = only(after, factories(after)[factory.name], RECIPE)
        # Same flavour version, new name: created beside the old recipe, which is deleted last.
        assert recipe.inputs["version"] == only(before, factory, RECIPE).inputs["version"]
        assert f"{ARN}:component/{new_component.inputs['name']}/1.0.0/1" in [
            c["componentArn"] for c in recipe.inputs["components"]]
        assert only(after, factories(after)[factory.name], PIPELINE).inputs["imageRecipeArn"] == recipe_arn(recipe)
        assert recipe.urn == only(before, factory, RECIPE).urn  # replaced in place of the old one


def test_a_changed_base_renames_its_layers_recipe_but_not_their_azure_template(project):
    before = project.plan("dev")
    text = project.flavour_text(f"{LAYER_BASE}.yaml")
    assert "  - octopus-tentacle\n" in text
    project.write_flavour(f"{LAYER_BASE}.yaml", text.replace("  - octopus-tentacle\n", "", 1))
    after = project.plan("dev")

    def recipe(plan, name):
        return only(plan, factories(plan)[name], RECIPE).inputs

    def template(plan, name):
        (found,) = [r for r in plan.of_type("azure-native:virtualmachineimages:VirtualMachineImageTemplate")
                    if r.name == f"{name}-template"]
        return found.inputs

    # AWS: the layer's parent names the base recipe, so a new base recipe means a new layer recipe,
    # created next to the old one like any recipe change.
    assert recipe(after, LAYER_BASE)["name"] != recipe(before, LAYER_BASE)["name"]
    assert recipe(after, LAYERED)["parentImage"] == f"{ARN}:image/{recipe(after, LAYER_BASE)['name']}/x.x.x"
    assert recipe(after, LAYERED)["name"] != recipe(before, LAYERED)["name"]
    assert recipe(after, LAYERED)["components"] == recipe(before, LAYERED)["components"]
    # Azure: the layer starts from the newest version of the base's gallery image, whatever built it.
    assert template(after, LAYERED) == template(before, LAYERED)
    assert template(after, LAYER_BASE)["imageTemplateName"] != template(before, LAYER_BASE)["imageTemplateName"]


@pytest.mark.parametrize("stack", STACKS)
def test_rhel_9_stig_runs_aws_stig_component_then_restarts_until_sshd_is_back(plans, stack):
    """The shipped STIG flavour: AWS's managed STIG component by ARN (x.x.x: newest at build time), the
    team's script after it and a restart last but one, which waits for its check (AWSTOE's Reboot action
    resumes the document after the restart)."""
    plan = plans[stack]
    recipe = only(plan, factories(plan)["rhel-9-stig"], RECIPE).inputs
    arns = [c["componentArn"] for c in recipe["components"]]
    stig = f"arn:aws:imagebuilder:{BUILD_REGION}:aws:component/stig-build-linux-medium/x.x.x"
    assert arns.count(stig) == 1
    ours = {c.inputs["name"]: c.inputs for c in plan.of_type(COMPONENT)}

    def document(arn):
        name = arn.removeprefix(f"{ARN}:component/").split("/")[0]
        return yaml.safe_load(ours[name]["data"]) if name in ours else None

    documents = [document(a) for a in arns]
    actions = [[s["action"] for p in d["phases"] for s in p["steps"]] if d else None for d in documents]
    reboot = next(i for i, a in enumerate(actions) if a and a[0] == "Reboot")
    assert arns.index(stig) < reboot
    assert actions[reboot] == ["Reboot", "ExecuteBash"]
    wait = documents[reboot]["phases"][0]["steps"][1]
    assert wait["timeoutSeconds"] == 15 * 60  # the flavour's timeout_minutes
    assert "systemctl is-active --quiet sshd" in base64.b64decode(
        re.search(r"printf '%s' '([A-Za-z0-9+/=]+)'", wait["inputs"]["commands"][0]).group(1)).decode()
    assert ours[arns[reboot].removeprefix(f"{ARN}:component/").split("/")[0]]["platform"] == "Linux"


@pytest.mark.parametrize("stack", STACKS)
def test_rhel_9_stig_places_chrony_conf_from_the_asset_bucket_verified(plans, stack):
    """The file step: S3Download from the stack's asset bucket (it verifies no checksum, REFERENCE),
    then the script that checks the archive's sha256 and places the file with its owner and mode."""
    plan = plans[stack]
    bucket = autoname(single(plan, "aws:s3/bucket:Bucket", "-build-assets").name)
    packed = pack_file(ROOT / "image_flavours" / "files" / "rhel-9-stig" / "chrony.conf",
                       "files/rhel-9-stig/chrony.conf")
    key = f"assets/{packed.sha256}.tar.gz"
    assert any(u.inputs["key"] == key for u in plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2"))
    assert (ROOT / "build" / "assets" / f"{packed.sha256}.tar.gz").read_bytes() == packed.data
    recipe = only(plan, factories(plan)["rhel-9-stig"], RECIPE).inputs
    ours = {c.inputs["name"]: c.inputs for c in plan.of_type(COMPONENT)}
    documents = {}
    for entry in recipe["components"]:
        name = entry["componentArn"].removeprefix(f"{ARN}:component/").split("/")[0]
        if name in ours and f"{packed.sha256}.tar.gz" in ours[name]["data"]:
            documents[name] = (entry, yaml.safe_load(ours[name]["data"]))
    ((entry, document),) = documents.values()
    assert entry["parameters"] == [{"name": "AssetBucket", "value": bucket}]
    build = next(p for p in document["phases"] if p["name"] == "build")["steps"]
    assert [s["action"] for s in build] == ["S3Download", "CreateFile", "ExecuteBash"]
    assert build[0]["inputs"] == [{"source": "s3://{{ AssetBucket }}/" + key,
                                   "destination": f"/var/tmp/golden-images/assets/{packed.sha256}.tar.gz",
                                   "overwrite": True}]
    script = build[1]["inputs"][0]["content"]
    for line in (f"export GI_ASSET_SOURCE_SHA256='{packed.sha256}'", "export GI_ASSET_SOURCE_KIND='file'",
                 "export GI_PARAM_DESTINATION='/etc/chrony.conf'", "export GI_PARAM_OWNER='root:chrony'",
                 "export GI_PARAM_MODE='0640'"):
        assert line in script
    assert 'sha256sum "${archive}"' in script
    assert [p["name"] for p in document["phases"]] == ["build", "validate", "test"]
