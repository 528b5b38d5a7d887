"""EC2 Image Builder, EC2 and SSM calls of the day-two commands (boto3, standard configuration).

Clients come from a boto3 Session, so profiles, SSO, environment credentials and
`AWS_ENDPOINT_URL_*` (VPC endpoints) work as in the AWS CLI. botocore's standard
retry mode absorbs short throttling; what still comes through is raised as
Throttled and the follow loop backs off (bounded).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from ..model.lineage import read_lineage
from .status import CloudError, NotFound, Status, Throttled

THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "CallRateLimitExceededException", "ServiceUnavailableException",
    "RequestThrottledException", "SlowDown",
})
DONE = {"AVAILABLE": True, "FAILED": False, "CANCELLED": False, "DEPRECATED": True, "DISABLED": False,
        "DELETED": False}
RETRIES = {"mode": "standard", "max_attempts": 5}


class AwsClients:
    """One boto3 client per service and region, from the default (or a named) session."""

    def __init__(self, session: Any = None, factory: Optional[Callable[[str, str], Any]] = None):
        self._session = session
        self._factory = factory
        self._clients: dict = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            if self._factory is not None:
                self._clients[key] = self._factory(service, region)
            else:
                import boto3
                from botocore.config import Config

                session = self._session or boto3.Session()
                self._clients[key] = session.client(service, region_name=region,
                                                    config=Config(retries=dict(RETRIES)))
        return self._clients[key]


def _call(client: Any, operation: str, **kwargs) -> dict:
    """One API call; throttling and other service errors become the package's own errors."""
    from botocore.exceptions import ClientError

    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        message = err.response.get("Error", {}).get("Message", "") or str(err)
        if code in THROTTLING:
            raise Throttled(f"{operation}: {code}") from None
        raise CloudError(f"{operation}: {code}: {message}", code=code) from None


def find_pipeline(ib: Any, name: str, region: str) -> str:
    """The ARN of the pipeline the program named `name` (ListImagePipelines filtered by name)."""
    token = None
    while True:
        kwargs = {"filters": [{"name": "name", "values": [name]}]}
        if token:
            kwargs["nextToken"] = token
        page = _call(ib, "list_image_pipelines", **kwargs)
        for pipeline in page.get("imagePipelineList", []):
            if pipeline.get("name") == name:
                return pipeline["arn"]
        token = page.get("nextToken")
        if not token:
            raise NotFound(f"no EC2 Image Builder pipeline named {name} in {region}; has the stack been deployed?")


def _component(arn: str) -> str:
    parts = arn.split("/")
    return parts[1] if len(parts) > 1 else arn


def failure_lines(image: dict) -> list[str]:
    """Why an image failed: the failed component, workflow step and region, with messages."""
    state = image.get("state", {})
    lines = []
    if state.get("reason"):
        lines.append(state["reason"])
    context = state.get("failureContext", {})
    component = context.get("componentFailure")
    if component:
        where = ", ".join(f"{label} {component[key]}" for label, key in
                          (("phase", "phaseName"), ("step", "stepName"), ("action", "action")) if component.get(key))
        name = _component(component.get("componentArn", "")) or "component"
        lines.append(f"component {name} failed ({where}): {component.get('errorMessage', 'no message')}")
    if context.get("failedStep"):
        lines.append(f"workflow step {context['failedStep']} failed")
    distribution = context.get("distributionFailure")
    if distribution:
        if distribution.get("errorMessage"):
            lines.append(f"distribution: {distribution['errorMessage']}")
        for region in distribution.get("regionFailures", []):
            account = f" account {region['targetAccountId']}" if region.get("targetAccountId") else ""
            step = f" at {region['imageConfigurationStep']}" if region.get("imageConfigurationStep") else ""
            lines.append(f"region {region.get('region', '?')}{account}: {region.get('status', 'FAILED')}{step}: "
                         f"{region.get('errorMessage', 'no message')}")
    for ami in image.get("outputResources", {}).get("amis", []):
        ami_state = ami.get("state", {})
        if ami_state.get("status") == "FAILED" and not distribution:
            lines.append(f"region {ami.get('region')} account {ami.get('accountId', '?')}: "
                         f"{ami_state.get('reason', 'failed')}")
    return lines or ["failed without a reason from Image Builder"]


def produced_lines(image: dict) -> list[str]:
    amis = image.get("outputResources", {}).get("amis", [])
    return [f"{ami.get('image')} in {ami.get('region')} (account {ami.get('accountId', '?')})" for ami in amis
            if ami.get("state", {}).get("status", "AVAILABLE") == "AVAILABLE"]


def current_step(ib: Any, image_arn: str) -> Optional[str]:
    """The running workflow step, when the workflow APIs say (absent early in a build)."""
    try:
        runs = _call(ib, "list_workflow_executions", imageBuildVersionArn=image_arn).get("workflowExecutions", [])
        running = [run for run in runs if run.get("status") == "RUNNING"]
        if not running:
            return None
        run = running[-1]
        steps = _call(ib, "list_workflow_step_executions",
                      workflowExecutionId=run["workflowExecutionId"]).get("steps", [])
    except (CloudError, KeyError):
        return None
    active = [step for step in steps if step.get("status") == "RUNNING"]
    if not active:
        return run.get("type", "").lower() or None
    return f"{run.get('type', '').lower()}: {active[-1].get('name')}".strip(": ")


@dataclass
class AwsBuild:
    """One pipeline execution, started or followed."""

    flavour: str
    region: str
    pipeline_name: str
    clients: AwsClients
    image_arn: Optional[str] = None
    pipeline_arn: Optional[str] = None
    cloud: str = "aws"
    last: Optional[Status] = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"aws {self.flavour} ({self.region})"

    def start(self) -> str:
        ib = self.clients("imagebuilder", self.region)
        self.pipeline_arn = find_pipeline(ib, self.pipeline_name, self.region)
        response = _call(ib, "start_image_pipeline_execution", imagePipelineArn=self.pipeline_arn,
                         clientToken=str(uuid.uuid4()))
        self.image_arn = response["imageBuildVersionArn"]
        return self.image_arn

    def poll(self) -> Status:
        ib = self.clients("imagebuilder", self.region)
        image = _call(ib, "get_image", imageBuildVersionArn=self.image_arn)["image"]
        state = image.get("state", {}).get("status", "PENDING")
        if state in DONE:
            ok = DONE[state]
            status = Status(state=state, done=True, ok=ok,
                            produced=produced_lines(image) if ok else [],
                            failure=[] if ok else failure_lines(image))
        else:
            status = Status(state=state, step=current_step(ib, self.image_arn))
        self.last = status
        return status


# ----------------------------------------------------------------------------- images


def _when(value: Any) -> Optional[datetime]:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def newest_image(ib: Any, pipeline_arn: str) -> Optional[dict]:
    """The newest AVAILABLE image of a pipeline (ListImagePipelineImages, every page)."""
    summaries, token = [], None
    while True:
        kwargs = {"imagePipelineArn": pipeline_arn}
        if token:
            kwargs["nextToken"] = token
        page = _call(ib, "list_image_pipeline_images", **kwargs)
        summaries.extend(page.get("imageSummaryList", []))
        token = page.get("nextToken")
        if not token:
            break
    available = [s for s in summaries if s.get("state", {}).get("status") == "AVAILABLE"]
    if not available:
        return None
    return max(available, key=lambda s: _when(s.get("dateCreated")) or datetime.min.replace(tzinfo=timezone.utc))


def scan_counts(ib: Any, image_arn: str) -> Optional[dict]:
    """Inspector finding counts by severity of one image, as Image Builder aggregates them."""
    try:
        page = _call(ib, "list_image_scan_finding_aggregations",
                     filter={"name": "imageBuildVersionArn", "values": [image_arn]})
    except (CloudError, Throttled):
        return None
    for response in page.get("responses", []):
        counts = response.get("imageAggregation", {}).get("severityCounts")
        if counts:
            return {key: int(counts.get(key, 0)) for key in ("critical", "high", "medium", "all")}
    return None


def aws_images(target: Any, clients: AwsClients, now: datetime) -> list[dict]:
    """One row per distribution region and account of a flavour's newest image."""
    aws = target.aws
    ib = clients("imagebuilder", aws.region)
    pipeline_arn = find_pipeline(ib, aws.pipeline_name, aws.region)
    summary = newest_image(ib, pipeline_arn)
    if summary is None:
        return [{"flavour": target.flavour, "cloud": "aws", "region": region, "image": None,
                 "problem": "no available image yet"} for region in aws.regions]
    image_arn = summary["arn"]
    detail = _call(ib, "get_image", imageBuildVersionArn=image_arn).get("image", {})
    parent = detail.get("imageRecipe", {}).get("parentImage")
    findings = scan_counts(ib, image_arn)
    created = _when(summary.get("dateCreated"))
    parameters = dict(aws.ssm_parameters)
    rows = []
    for ami in summary.get("outputResources", {}).get("amis", []):
        region = ami.get("region")
        row = {
            "flavour": target.flavour, "cloud": "aws", "region": region, "account": ami.get("accountId"),
            "image": ami.get("image"), "version": summary.get("version"), "build": image_arn,
            "created": created.isoformat() if created else None,
            "age_hours": round((now - created).total_seconds() / 3600, 1) if created else None,
            "findings": findings, "lineage": {"built-from": parent},
        }
        tags = _ami_tags(clients("ec2", region), ami.get("image"))
        if tags is not None:
            row["lineage"] = {**read_lineage(tags), "built-from": read_lineage(tags)["built-from"] or parent}
        if region in parameters and (not aws.target_account_ids or ami.get("accountId") not in aws.target_account_ids):
            row["pointer"] = _ssm_check(clients("ssm", region), parameters[region], ami.get("image"))
        rows.append(row)
    return rows


def _ami_tags(ec2: Any, ami: Optional[str]) -> Optional[dict]:
    if not ami:
        return None
    try:
        images = _call(ec2, "describe_images", ImageIds=[ami]).get("Images", [])
    except CloudError:
        return None  # an AMI in another account, or no ec2:DescribeImages
    if not images:
        return None
    return {tag["Key"]: tag["Value"] for tag in images[0].get("Tags", [])}


def _ssm_check(ssm: Any, name: str, ami: Optional[str]) -> dict:
    try:
        value = _call(ssm, "get_parameter", Name=name)["Parameter"].get("Value")
    except CloudError as err:
        return {"name": name, "ok": False, "value": None, "problem": str(err)}
    return {"name": name, "ok": value == ami, "value": value}
