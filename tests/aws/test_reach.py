"""AWS rendering of flavour-level reach: volumes, parents, per-flavour distribution, schedule and tests."""
from __future__ import annotations

import pytest

from components.aws import render
from components.model.errors import RenderError
from tests.aws.samples import KEY, PREFIX, SHAPES, make_flavour, make_settings, plan_of

AL2 = "ssm:/aws/service/ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-x86_64-gp2"


def recipe(build, **kwargs) -> dict:
    entries = render.recipe_entries(build.steps_on("aws"), prefix=PREFIX, region="eu-west-1", key=KEY)
    plan = plan_of(build, entries)
    return render.recipe_args(build, plan, ["arn"] * len(entries), region="eu-west-1", key=KEY, tags={}, **kwargs)


def test_root_volume_type_iops_throughput_and_a_volume_from_a_snapshot():
    build = make_flavour(base_image={"aws": AL2}, build={"disk_size_gb": 10, "aws": {
        "root_volume": {"type": "gp3", "iops": 4000, "throughput": 250},
        "volumes": [{"device_name": "/dev/sdf", "snapshot_id": "snap-0123456789abcdef0", "type": "gp3",
                     "delete_on_termination": True}]}})
    root, media = recipe(build)["block_device_mappings"]
    # Amazon Linux boots from /dev/xvda: mapping another name adds an empty volume instead.
    assert root["device_name"] == "/dev/xvda"
    assert root["ebs"] | {"kms_key_id": None} == {
        "encrypted": "true", "delete_on_termination": "true", "volume_type": "gp3", "volume_size": 10,
        "iops": 4000, "throughput": 250, "kms_key_id": None}
    # A volume restored from a snapshot takes the snapshot's size when none is given.
    assert media == {"device_name": "/dev/sdf", "ebs": {
        "encrypted": "true", "delete_on_termination": "true", "volume_type": "gp3",
        "kms_key_id": KEY.arn("eu-west-1"), "snapshot_id": "snap-0123456789abcdef0"}}
    # Within Image Builder's API model (botocore): throughput 125-1000, IOPS 100-64000.
    ebs = SHAPES["EbsInstanceBlockDeviceSpecification"]["members"]
    assert {"snapshotId", "iops", "throughput", "volumeType", "volumeSize"} <= set(ebs)
    assert SHAPES["EbsVolumeThroughput"]["min"] <= root["ebs"]["throughput"] <= SHAPES["EbsVolumeThroughput"]["max"]


def test_io2_root_and_a_flavour_named_device():
    build = make_flavour(build={"aws": {"root_volume": {"type": "io2", "iops": 8000, "device_name": "/dev/xvda"}}})
    (root,) = recipe(build)["block_device_mappings"]
    assert root["device_name"] == "/dev/xvda"
    assert root["ebs"]["volume_type"] == "io2" and root["ebs"]["iops"] == 8000 and "throughput" not in root["ebs"]


def test_an_ami_id_parent_maps_the_root_device_looked_up_at_deploy_time():
    build = make_flavour(base_image={"aws": "ami-0123456789abcdef0"})
    assert render.root_device_name(build, "eu-west-1") is None
    assert render.ami_lookup_args(build, "eu-west-1") == {
        "filters": [{"name": "image-id", "values": ["ami-0123456789abcdef0"]}], "region": "eu-west-1"}
    (root,) = recipe(build, root_device="/dev/xvda")["block_device_mappings"]
    assert root["device_name"] == "/dev/xvda"
    with pytest.raises(RenderError, match="set build.aws.root_volume.device_name"):
        recipe(build)


def test_an_ami_filter_is_looked_up_and_hashed_by_the_filter():
    amazon = {"owners": ["amazon"], "name": "amazon-eks-node-1.31-v*"}
    build = make_flavour(base_image={"aws": amazon})
    assert render.ami_lookup_args(build, "eu-west-1") == {
        "owners": ["amazon"], "filters": [{"name": "name", "values": ["amazon-eks-node-1.31-v*"]}],
        "most_recent": True, "region": "eu-west-1"}
    args = recipe(build, parent_value="ami-0fedcba9876543210")
    assert args["parent_image"] == "ami-0fedcba9876543210"
    assert args["block_device_mappings"][0]["device_name"] == "/dev/xvda"
    # The name hashes the filter: the same filter names the same recipe whatever AMI it finds today.
    other = make_flavour(base_image={"aws": {**amazon, "name": "amazon-eks-node-1.32-v*"}})
    assert plan_of(build, []).name != plan_of(other, []).name
    assert plan_of(build, []).parent.identity == "ami-filter:owners=amazon;name=amazon-eks-node-1.31-v*"


def test_a_parent_arn_of_another_region_is_refused_with_the_field():
    arn = "arn:aws:imagebuilder:us-east-1:111122223333:image/team-windows-base/x.x.x"
    build = make_flavour(base_image={"aws": arn})
    plan, problems = render.plan_aws([build], make_settings().aws, stack="dev", settings_source="Pulumi.dev.yaml")
    assert [(p.path, p.message.split(";")[0]) for p in problems] == [(
        "base_image.aws", f"'{arn}' is an Image Builder image of us-east-1, but this stack builds in eu-west-1, "
        "where a recipe can only take that region's images")]


def test_a_parent_per_region_picks_the_build_region():
    regional = {"regions": {"us-east-1": "arn:aws:imagebuilder:us-east-1:111122223333:image/base/x.x.x",
                            "eu-west-1": "arn:aws:imagebuilder:eu-west-1:111122223333:image/base/x.x.x"}}
    build = make_flavour(base_image={"aws": regional})
    assert recipe(build)["parent_image"] == "arn:aws:imagebuilder:eu-west-1:111122223333:image/base/x.x.x"


def test_flavour_distribution_overrides_the_stack():
    settings = make_settings(distribution_regions=["eu-west-1", "us-east-1"], target_account_ids=["111122223333"],
                             launch_permissions={"account_ids": ["111122223333", "444455556666"]})
    build = make_flavour(settings=settings, distribution={"aws": {
        "regions": ["eu-central-1"], "target_accounts": [],
        "launch_permissions": {"accounts": ["444455556666"]}}})
    args = render.distribution_args(build, settings.aws, prefix=PREFIX, key=render.KmsKey(
        identity="k", arns={"eu-central-1": "arn:aws:kms:eu-central-1:123456789012:key/x"}), account_id="1", tags={})
    (entry,) = args["distributions"]
    assert entry["region"] == "eu-central-1"
    ami = entry["ami_distribution_configuration"]
    assert ami["launch_permission"] == {"user_ids": ["444455556666"]}
    assert "target_account_ids" not in ami


def test_no_schedule_and_tests_off_reach_the_pipeline():
    build = make_flavour(schedule={"enabled": False, "reason": "built before each EKS upgrade"},
                         tests={"enabled": False, "reason": "tested by the cluster conformance suite"})
    args = render.pipeline_args(build, make_settings().aws, prefix=PREFIX, recipe_arn="r", infrastructure_arn="i",
                                distribution_arn="d", tags={})
    # CreateImagePipeline's schedule is optional: without it the pipeline runs only when started.
    assert "schedule" not in args and "schedule" not in SHAPES["CreateImagePipelineRequest"].get("required", [])
    assert args["image_tests_configuration"] == {"image_tests_enabled": False}
    assert args["description"] == "ubuntu-2404: no schedule (built before each EKS upgrade)"


def test_a_flavour_cadence_and_instance_types():
    build = make_flavour(schedule={"every": "day", "at": "04:30", "timezone": "UTC"},
                         build={"aws": {"instance_types": ["c6i.xlarge", "c7i.xlarge"]}})
    args = render.pipeline_args(build, make_settings().aws, prefix=PREFIX, recipe_arn="r", infrastructure_arn="i",
                                distribution_arn="d", tags={})
    assert args["schedule"]["schedule_expression"] == "cron(30 4 * * ? *)"
    assert args["schedule"]["timezone"] == "UTC"
    assert render.instance_types(build, make_settings().aws) == ["c6i.xlarge", "c7i.xlarge"]


def test_a_script_holding_double_braces_travels_encoded(catalogue_with_packages=None):
    import base64

    import yaml

    from components.model.flavour import StepUse
    from components.model.prepared import prepare_step
    from components.model.steps import load_catalogue

    full = load_catalogue()
    for os_, name in (("linux", "linux-packages"), ("windows", "windows-feature")):
        params = {"packages": ["jq"]} if os_ == "linux" else {"features": ["Web-Server"]}
        step = prepare_step(StepUse(name=name, params=params), full.steps[name], os_, full)
        # A parameter value with a template, as Ansible's Jinja would be.
        step = step.__class__(**{**step.__dict__, "script": step.script + "\n# motd: {{ ansible_hostname }}\n"})
        (spec,) = render.component_specs(step, prefix=PREFIX, key=KEY)
        # AWSTOE replaces every {{ ... }} in a document and has no escape: none may remain.
        assert "{{" not in spec.data
        build = yaml.safe_load(spec.data)["phases"][0]["steps"]
        write, decode = build[0], build[1]
        assert write["action"] == "CreateFile" and write["inputs"][0]["path"].endswith(".b64")
        text = base64.b64decode(write["inputs"][0]["content"]).decode("utf-8-sig")
        assert text == step.script
        assert decode["action"] == ("ExecutePowerShell" if os_ == "windows" else "ExecuteBash")


def test_an_encoded_powershell_script_starts_with_exactly_one_byte_order_mark():
    import base64

    import yaml

    from components.model.flavour import StepUse
    from components.model.prepared import prepare_step
    from components.model.steps import load_catalogue

    full = load_catalogue()
    step = prepare_step(StepUse(name="windows-feature", params={"features": ["Web-Server"]}),
                        full.steps["windows-feature"], "windows", full)
    # A script that already starts with a BOM (saved so by an editor) and holds a template.
    step = step.__class__(**{**step.__dict__, "script": "\ufeff" + step.script + "\n# {{ ansible_hostname }}\n"})
    (spec,) = render.component_specs(step, prefix=PREFIX, key=KEY)
    write = yaml.safe_load(spec.data)["phases"][0]["steps"][0]
    assert write["inputs"][0]["path"].endswith(".ps1.b64")
    data = base64.b64decode(write["inputs"][0]["content"])
    # Windows PowerShell 5.1 reads a .ps1 as UTF-8 only after a BOM; a second one would be a stray
    # U+FEFF before the first statement.
    bom = b"\xef\xbb\xbf"
    assert data.startswith(bom) and not data[len(bom):].startswith(bom)
    assert data[len(bom):].decode("utf-8") == step.script[1:]
