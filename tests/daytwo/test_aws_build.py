"""make build on AWS against botocore Stubber: success, step failure, region failure, throttling, timeout."""
from botocore.stub import ANY

from components.daytwo.__main__ import main

from .doubles import ACCOUNT, ROOT, Clock, StubbedAws, captured, respond, text

REGION = "eu-west-1"
PIPELINE = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/golden-images-dev-ubuntu-2404"
IMAGE = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/golden-images-dev-ubuntu-2404-0123456789/1.0.0/3"
WORKFLOW = "wf-11111111-2222-3333-4444-555555555555"


def pipeline_found(ib, name="golden-images-dev-ubuntu-2404", arn=PIPELINE):
    respond(ib, "list_image_pipelines",
            {"imagePipelineList": [{"arn": arn, "name": name, "status": "ENABLED", "platform": "Linux"}]},
            {"filters": [{"name": "name", "values": [name]}]})


def started(ib, image=IMAGE, pipeline=PIPELINE):
    respond(ib, "start_image_pipeline_execution",
            {"requestId": "r-1", "clientToken": "t", "imageBuildVersionArn": image},
            {"imagePipelineArn": pipeline, "clientToken": ANY})


def image(ib, status, **extra):
    body = {"arn": IMAGE, "name": "golden-images-dev-ubuntu-2404-0123456789", "version": "1.0.0/3",
            "state": {"status": status, **extra.pop("state", {})}, **extra}
    respond(ib, "get_image", {"requestId": "r", "image": body}, {"imageBuildVersionArn": IMAGE})


def building_step(ib, step="ApplyBuildComponents"):
    respond(ib, "list_workflow_executions", {"workflowExecutions": [{
        "workflowBuildVersionArn": f"arn:aws:imagebuilder:{REGION}:aws:workflow/build/build-image/1.0.2/1",
        "workflowExecutionId": WORKFLOW, "type": "BUILD", "status": "RUNNING",
        "startTime": "2026-12-06T02:00:05.000Z"}], "imageBuildVersionArn": IMAGE},
        {"imageBuildVersionArn": IMAGE})
    respond(ib, "list_workflow_step_executions", {"steps": [
        {"stepExecutionId": "step-11111111-2222-3333-4444-555555555551", "name": "LaunchBuildInstance",
         "action": "LaunchInstance", "status": "COMPLETED"},
        {"stepExecutionId": "step-11111111-2222-3333-4444-555555555552", "name": step,
         "action": "ExecuteComponents", "status": "RUNNING"}], "workflowExecutionId": WORKFLOW},
        {"workflowExecutionId": WORKFLOW})


def run(args, aws, clock=None, terminal=False):
    console = captured(terminal)
    clock = clock or Clock()
    code = main(args, root=ROOT, console=console, aws_clients=lambda: aws, clock=clock, sleep=clock.sleep)
    return code, text(console), clock


def test_a_build_that_succeeds_reports_each_ami():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    pipeline_found(ib)
    started(ib)
    image(ib, "BUILDING")
    building_step(ib)
    image(ib, "AVAILABLE", outputResources={"amis": [
        {"region": REGION, "image": "ami-0123456789abcdef0", "accountId": ACCOUNT,
         "state": {"status": "AVAILABLE"}}]})
    code, out, clock = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws"], aws)
    assert code == 0, out
    assert "aws ubuntu-2404 (eu-west-1): BUILDING - build: ApplyBuildComponents [00:00]" in out
    assert f"produced ami-0123456789abcdef0 in {REGION} (account {ACCOUNT})" in out
    assert clock.sleeps == [30.0]
    aws.assert_done()


def test_a_failed_component_step_names_component_phase_step_and_message():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    pipeline_found(ib)
    started(ib)
    image(ib, "FAILED", state={
        "reason": "Image build failed: Workflow Step ApplyBuildComponents failed",
        "failureContext": {
            "imageStatus": "BUILDING", "workflowExecutionId": WORKFLOW, "failedStep": "ApplyBuildComponents",
            "componentFailure": {
                "componentArn": f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:component/golden-images-dev-baseline-0123456789/1.0.0/1",
                "phaseName": "build", "stepName": "RunScript", "action": "ExecuteBash",
                "errorMessage": "exit status 100: E: Unable to locate package nginx-full"}}})
    code, out, _ = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws"], aws)
    assert code == 1
    assert "FAILED (FAILED)" in out
    assert ("component golden-images-dev-baseline-0123456789 failed (phase build, step RunScript, action ExecuteBash): "
            "exit status 100: E: Unable to locate package nginx-full") in out
    assert "workflow step ApplyBuildComponents failed" in out


def test_a_distribution_failing_in_one_region_names_region_and_account():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    name = "golden-images-prod-ubuntu-2404"
    pipeline = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/{name}"
    pipeline_found(ib, name, pipeline)
    started(ib, pipeline=pipeline)
    image(ib, "FAILED", state={"reason": "Distribution failed in 1 region", "failureContext": {
        "imageStatus": "DISTRIBUTING",
        "distributionFailure": {"errorMessage": "Copy of the AMI failed in 1 of 3 regions", "regionFailures": [
            {"region": "us-east-1", "status": "FAILED", "targetAccountId": "210987654321",
             "errorMessage": "KMS key not usable by the target account"}]}}},
        outputResources={"amis": [
            {"region": "eu-west-1", "image": "ami-0aaaaaaaaaaaaaaa1", "accountId": ACCOUNT,
             "state": {"status": "AVAILABLE"}},
            {"region": "eu-central-1", "image": "ami-0aaaaaaaaaaaaaaa2", "accountId": ACCOUNT,
             "state": {"status": "AVAILABLE"}}]})
    code, out, _ = run(["build", "--flavour", "ubuntu-2404", "--stack", "prod", "--cloud", "aws"], aws)
    assert code == 1
    assert "region us-east-1 account 210987654321: FAILED: KMS key not usable by the target account" in out
    assert "distribution: Copy of the AMI failed in 1 of 3 regions" in out


def test_throttling_backs_off_and_recovers():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    pipeline_found(ib)
    started(ib)
    ib.add_client_error("get_image", service_error_code="ThrottlingException", service_message="Rate exceeded",
                        http_status_code=400)
    ib.add_client_error("get_image", service_error_code="TooManyRequestsException", http_status_code=429)
    image(ib, "AVAILABLE", outputResources={"amis": [
        {"region": REGION, "image": "ami-0123456789abcdef0", "accountId": ACCOUNT}]})
    code, out, clock = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws"], aws)
    assert code == 0, out
    assert clock.sleeps == [60.0, 120.0]  # interval doubled per consecutive throttle
    aws.assert_done()


def test_endless_throttling_is_bounded():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    pipeline_found(ib)
    started(ib)
    for _ in range(6):
        ib.add_client_error("get_image", service_error_code="ThrottlingException", http_status_code=400)
    code, out, clock = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws"], aws)
    assert code == 1
    assert "throttled 6 times in a row" in out
    assert max(clock.sleeps) <= 300


def test_a_build_still_running_at_the_timeout_is_given_up_on():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    pipeline_found(ib)
    started(ib)
    for _ in range(4):
        image(ib, "TESTING")
        ib.add_client_error("list_workflow_executions", service_error_code="AccessDeniedException",
                            http_status_code=403)
    code, out, clock = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws", "--timeout", "1.5",
                            "--interval", "30"], aws)
    assert code == 1
    assert "still TESTING after 90 s (--timeout); stopped following" in out
    assert clock.now <= 90


def test_no_wait_starts_and_prints_the_id():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    pipeline_found(ib)
    started(ib)
    code, out, clock = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws", "--no-wait"], aws)
    assert code == 0
    assert f"started {IMAGE}" in out
    assert clock.sleeps == []


def test_a_pipeline_not_deployed_is_one_clear_line():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    respond(ib, "list_image_pipelines", {"imagePipelineList": []})
    code, out, _ = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws"], aws)
    assert code == 1
    assert "no EC2 Image Builder pipeline named golden-images-dev-ubuntu-2404 in eu-west-1" in out


def test_with_layers_builds_the_layer_after_its_base():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    base, layer = "golden-images-dev-windows-2022-core-dotnet", "golden-images-dev-windows-2022-core-dotnet-iis"
    for name in (base, "golden-images-dev-windows-2022-app-server", layer):
        arn = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/{name}"
        pipeline_found(ib, name, arn)
        started(ib, pipeline=arn)
        image(ib, "AVAILABLE", outputResources={"amis": [
            {"region": REGION, "image": "ami-0123456789abcdef0", "accountId": ACCOUNT}]})
    code, out, _ = run(["build", "--flavour", "windows-2022-core-dotnet", "--cloud", "aws", "--with-layers"], aws)
    assert code == 0, out
    assert out.index("aws windows-2022-core-dotnet (eu-west-1): succeeded") < \
        out.index("aws windows-2022-core-dotnet-iis (eu-west-1): started")
    assert out.index("aws windows-2022-core-dotnet (eu-west-1): succeeded") < \
        out.index("aws windows-2022-app-server (eu-west-1): started")
    aws.assert_done()


def test_the_live_display_on_a_terminal_shows_state_step_and_elapsed():
    aws = StubbedAws()
    ib = aws.stub("imagebuilder", REGION)
    pipeline_found(ib)
    started(ib)
    image(ib, "BUILDING")
    building_step(ib, "ApplyBuildComponents")
    image(ib, "AVAILABLE", outputResources={"amis": [
        {"region": REGION, "image": "ami-0123456789abcdef0", "accountId": ACCOUNT}]})
    code, out, _ = run(["build", "--flavour", "ubuntu-2404", "--cloud", "aws"], aws, terminal=True)
    assert code == 0
    for column in ("build", "state", "step", "elapsed", "BUILDING", "build: ApplyBuildComponents", "00:30",
                   "AVAILABLE"):
        assert column in out


def test_an_unknown_flavour_is_a_user_error_with_a_hint():
    from components.daytwo.__main__ import main

    console = captured()
    code = main(["build", "--flavour", "ubuntu-2044", "--cloud", "aws"], root=ROOT, console=console,
                aws_clients=lambda *args: None)
    assert code == 2
    out = text(console)
    assert "no flavour 'ubuntu-2044' (did you mean 'ubuntu-2404'?)" in out and "Traceback" not in out
