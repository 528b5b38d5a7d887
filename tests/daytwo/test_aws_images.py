"""make images on AWS (Stubber) and clean exits without credentials."""
import json
from datetime import datetime, timedelta, timezone

from components.daytwo.__main__ import main

from .doubles import ACCOUNT, ROOT, StubbedAws, captured, respond, text

REGION = "eu-west-1"
NOW = datetime(2026, 12, 20, 12, 0, tzinfo=timezone.utc)
NAME = "golden-images-dev-ubuntu-2404"
PIPELINE = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/{NAME}"


def image_arn(build):
    return f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/{NAME}-0123456789/1.0.0/{build}"


def summary(build, days_old, ami, status="AVAILABLE"):
    return {"arn": image_arn(build), "name": f"{NAME}-0123456789", "version": f"1.0.0/{build}",
            "state": {"status": status}, "owner": ACCOUNT, "platform": "Linux",
            "dateCreated": (NOW - timedelta(days=days_old)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "outputResources": {"amis": [{"region": REGION, "image": ami, "accountId": ACCOUNT}]}}


def stub_ubuntu(aws, days_old, ssm_value, tags):
    ib = aws.stub("imagebuilder", REGION)
    # Flavours are looked up in name order; rhel-9-stig has built nothing yet.
    respond(ib, "list_image_pipelines", {"imagePipelineList": []},
            {"filters": [{"name": "name", "values": ["golden-images-dev-rhel-9-stig"]}]})
    respond(ib, "list_image_pipelines", {"imagePipelineList": [{"arn": PIPELINE, "name": NAME}]},
            {"filters": [{"name": "name", "values": [NAME]}]})
    respond(ib, "list_image_pipeline_images", {"imageSummaryList": [
        summary(2, days_old + 7, "ami-0000000000000000a"), summary(3, days_old, "ami-0000000000000000b"),
        summary(4, 0.1, "ami-0000000000000000c", "FAILED")]}, {"imagePipelineArn": PIPELINE})
    respond(ib, "get_image", {"image": {"arn": image_arn(3), "imageRecipe": {
        "parentImage": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"}}},
        {"imageBuildVersionArn": image_arn(3)})
    respond(ib, "list_image_scan_finding_aggregations", {"aggregationType": "imageBuildVersionArn", "responses": [
        {"imageAggregation": {"imageBuildVersionArn": image_arn(3), "severityCounts": {
            "all": 14, "critical": 0, "high": 2, "medium": 12}}}]},
        {"filter": {"name": "imageBuildVersionArn", "values": [image_arn(3)]}})
    respond(aws.stub("ec2", REGION), "describe_images", {"Images": [{
        "ImageId": "ami-0000000000000000b", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]},
        {"ImageIds": ["ami-0000000000000000b"]})
    respond(aws.stub("ssm", REGION), "get_parameter", {"Parameter": {
        "Name": "/golden-images/ubuntu-2404/latest", "Type": "String", "Value": ssm_value, "DataType": "aws:ec2:image",
        "Version": 3}}, {"Name": "/golden-images/ubuntu-2404/latest"})
    for other in ("windows-2022-core-dotnet", "windows-2022-app-server", "windows-2022-core-dotnet-iis"):
        respond(ib, "list_image_pipelines", {"imagePipelineList": []},
                {"filters": [{"name": "name", "values": [f"golden-images-dev-{other}"]}]})


def images(aws, *extra):
    console = captured(width=250)
    code = main(["images", "--cloud", "aws", *extra], root=ROOT, console=console, aws_clients=lambda: aws, now=NOW)
    return code, text(console)


def test_newest_available_image_with_lineage_findings_and_parameter():
    aws = StubbedAws()
    stub_ubuntu(aws, 3, "ami-0000000000000000b", {
        "golden-images:flavour": "ubuntu-2404", "golden-images:version": "1.0.0",
        "golden-images:source-commit": "0123456789abcdef0123456789abcdef01234567",
        "golden-images:built-from": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"})
    code, out = images(aws, "--json")
    rows = json.loads(out)
    (ubuntu,) = [r for r in rows if r["flavour"] == "ubuntu-2404"]
    assert ubuntu["image"] == "ami-0000000000000000b" and ubuntu["version"] == "1.0.0/3"
    assert ubuntu["age_hours"] == 72.0 and ubuntu["stale"] is False  # weekly schedule + 24 h grace
    assert ubuntu["findings"] == {"critical": 0, "high": 2, "medium": 12, "all": 14}
    assert ubuntu["lineage"]["source-commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert ubuntu["pointer"] == {"name": "/golden-images/ubuntu-2404/latest", "ok": True,
                                 "value": "ami-0000000000000000b"}
    problems = {r["flavour"]: r.get("problem", "") for r in rows}
    assert "no EC2 Image Builder pipeline named golden-images-dev-rhel-9-stig" in problems["rhel-9-stig"]
    assert ("no EC2 Image Builder pipeline named golden-images-dev-windows-2022-core-dotnet"
            in problems["windows-2022-core-dotnet"])
    assert code == 1
    aws.assert_done()


def test_a_stale_image_and_a_parameter_pointing_elsewhere_are_flagged():
    aws = StubbedAws()
    stub_ubuntu(aws, 9, "ami-0000000000000000a", {})
    code, out = images(aws)
    assert code == 1
    line = next(line for line in out.splitlines() if "ubuntu-2404" in line)
    assert "9.0d STALE" in line and "-> ami-0000000000000000a" in line and "C0 H2 M12" in line
    assert "ssm:/aws/service/canonical" in line  # untagged: the recipe's parent


def test_no_aws_credentials_is_one_line_and_exit_2(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    console = captured()
    code = main(["images", "--cloud", "aws"], root=ROOT, console=console)  # real boto3 clients
    assert code == 2
    assert text(console) == "error: no usable cloud credentials: Unable to locate credentials\n"


def test_a_stack_that_does_not_exist_is_one_line_and_exit_2():
    console = captured()
    assert main(["images", "--stack", "staging"], root=ROOT, console=console) == 2
    assert text(console).startswith("Pulumi.staging.yaml: no such stack file")
