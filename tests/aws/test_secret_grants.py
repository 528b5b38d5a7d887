"""Secret references on AWS, as the program registers them: the document carries only the
reference and the read, and the build instance role reads exactly the secrets referenced.

Facts (AWS documentation): Secrets Manager appends a hyphen and six random characters to a
secret's ARN, and its IAM guide matches a secret named in a policy with `<name>-??????`;
GetSecretValue needs `secretsmanager:GetSecretValue` on the secret; GetParameter needs
`ssm:GetParameter` on `arn:aws:ssm:<region>:<account>:parameter/<name without leading />`;
an explicit Deny wins over an Allow (IAM policy evaluation logic).
"""
from __future__ import annotations

import json

import pytest
import yaml

from components.aws.render import secret_arns
from components.mocks import ACCOUNT_ID
from components.model.secret_refs import parse
from tests.conftest import ProjectCopy
from tests.samples import SECRET_TEAM_FLAVOUR, SECRET_VAULT_ID

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    project = ProjectCopy(tmp_path_factory.mktemp("secrets"))
    project.write_flavour("feed-consumer.yaml", SECRET_TEAM_FLAVOUR)
    config = project.config("dev")
    config["golden-images:azure"] = {**config["golden-images:azure"], "key_vaults": {"contoso-kv": SECRET_VAULT_ID}}
    return project.plan("dev", config=config)


def _policy(resource):
    value = resource.inputs["policy"]
    return json.loads(value) if isinstance(value, str) else value


def test_the_build_role_reads_exactly_the_referenced_secret_and_parameter(plan):
    [role_policy] = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("instance-secrets")]
    statements = {s["Sid"]: s for s in _policy(role_policy)["Statement"]}
    assert statements == {
        "ReadReferencedSecrets": {
            "Sid": "ReadReferencedSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": [f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:golden-images/feed-token-??????"]},
        "ReadReferencedParameters": {
            "Sid": "ReadReferencedParameters", "Effect": "Allow", "Action": "ssm:GetParameter",
            "Resource": [f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/agents/datadog/api-key"]},
    }


def test_the_parameter_guard_lets_the_referenced_parameter_through(plan):
    # AmazonSSMManagedInstanceCore allows ssm:GetParameter on *; the guard denies every
    # parameter but the product's, AWS's public ones and those referenced.
    [guard] = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("instance-parameters")]
    [deny] = _policy(guard)["Statement"]
    assert deny["Effect"] == "Deny"
    assert "arn:aws:ssm:*:*:parameter/agents/datadog/api-key" in deny["NotResource"]


def test_a_stack_without_secret_references_grants_no_secret_read(plans):
    for stack_plan in plans.values():
        names = [r.name for r in stack_plan.of_type("aws:iam/rolePolicy:RolePolicy")]
        assert not [n for n in names if n.endswith("instance-secrets")], names


def test_the_document_reads_the_reference_and_holds_no_value(plan):
    documents = [yaml.safe_load(c.inputs["data"]) for c in plan.of_type("aws:imagebuilder/component:Component")]
    script = [d for d in documents if d["name"] == "script"]
    texts = [json.dumps(d) for d in script]
    [reader] = [t for t in texts if "FEED_TOKEN" in t]
    assert "gi_read_secret FEED_TOKEN 'secretsmanager:golden-images/feed-token'" in reader
    assert "aws secretsmanager get-secret-value" in reader  # the helper is in the script
    assert "contoso-kv" not in reader  # only this cloud's reference
    datadog = [json.dumps(d) for d in documents if d["name"] == "datadog-agent"]
    baked = [t for t in datadog if "agents/datadog/api-key" in t]
    assert baked and all("GI_PARAM_API_KEY='ssm:/agents/datadog/api-key'" in t for t in baked)


def test_the_shipped_datadog_use_gets_no_reading_helper(plans):
    """Without api_key the install script carries no secret reader (the helpers are inserted only
    into uses that read a secret), so nothing of a key can be read."""
    for stack_plan in plans.values():
        for component in stack_plan.of_type("aws:imagebuilder/component:Component"):
            document = yaml.safe_load(component.inputs["data"])
            if document["name"] == "datadog-agent":
                assert "gi_read_secret() {" not in component.inputs["data"]
                assert "function Read-GiSecret" not in component.inputs["data"]


@pytest.mark.parametrize("reference, action, arn", [
    ("secretsmanager:app/db", "secretsmanager:GetSecretValue",
     f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app/db-??????"),
    ("arn:aws:secretsmanager:us-east-1:210987654321:secret:shared/token-AbC123", "secretsmanager:GetSecretValue",
     "arn:aws:secretsmanager:us-east-1:210987654321:secret:shared/token-AbC123"),
    ("ssm:/a/b", "ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/a/b"),
])
def test_each_form_is_granted_on_exactly_its_arn(reference, action, arn):
    assert secret_arns([parse("aws", reference)], REGION, ACCOUNT_ID) == {action: [arn]}


def test_a_china_region_name_gets_the_china_partition():
    assert secret_arns([parse("aws", "secretsmanager:app/db")], "cn-north-1", ACCOUNT_ID) == {
        "secretsmanager:GetSecretValue": [f"arn:aws-cn:secretsmanager:cn-north-1:{ACCOUNT_ID}:secret:app/db-??????"]}
