"""The Linux secret reader (components/steps/lib/secrets.sh), run as a script step renders it,
against stand-in `aws` and `curl` commands.

What the clouds answer (their documentation): `aws secretsmanager get-secret-value --query
SecretString --output text` prints the secret's string; `aws ssm get-parameter
--with-decryption --query Parameter.Value --output text` the parameter's value; IMDSv2 gives a
session token for `PUT /latest/api/token` and the region at
`/latest/meta-data/placement/region`; Azure's IMDS answers
`/metadata/identity/oauth2/token?...&resource=https%3A%2F%2Fvault.azure.net` with JSON holding
`access_token`, and Key Vault's `GET <secret uri>?api-version=7.4` with JSON holding `value`.
"""
from __future__ import annotations

import json

import pytest

from components.model.flavour import StepUse
from components.model.prepared import prepare_step
from tests.steps.path_standins import CATALOGUE, Machine, tools_folder

# Quotes, command substitution, backticks, a newline: all stay text.
HOSTILE = "it's \"$(touch /tmp/gi-pwned)\" `id` $HOME\nsecond line"
KEY_VAULT = "https://contoso-kv.vault.azure.net/secrets/feed-token"
AZURE_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.standin"

# IMDSv2 and Key Vault as curl would reach them.
CURL = r"""
url="${@: -1}"
case "$url" in
  *latest/api/token) printf 'imds-session' ;;
  *placement/region) printf 'eu-west-1' ;;
  *metadata/identity/oauth2/token*)
    [ -n "${STANDIN_NO_IDENTITY:-}" ] && { echo "curl: (22) The requested URL returned error: 400" >&2; exit 22; }
    printf '{"access_token":"%s","token_type":"Bearer"}' "$AZURE_TOKEN" ;;
  *.vault.azure.net/secrets/*)
    headers=$(cat)
    [ "$headers" = "Authorization: Bearer $AZURE_TOKEN" ] || { echo "curl: (22) 401" >&2; exit 22; }
    printf '%s' "$KV_ANSWER" ;;
  *) echo "unexpected curl $*" >&2; exit 2 ;;
esac
"""
AWS = r"""
if [ -n "${STANDIN_AWS_ERROR:-}" ]; then echo "$STANDIN_AWS_ERROR" >&2; exit 254; fi
printf '%s\n' "$STANDIN_VALUE"
"""


@pytest.fixture
def machine(tmp_path):
    tools = tools_folder(tmp_path / "tools", hidden=("aws", "curl"))
    machine = Machine(tmp_path / "machine", tools)
    machine.stand_in("curl", CURL)
    return machine


def _script(cloud: str, reference: str, body: str = 'printf "%s" "$FEED_TOKEN" > "$STATE/seen"\n') -> str:
    use = StepUse(name="script", params={"inline": body, "secrets": {"FEED_TOKEN": {"secret": {cloud: reference}}}})
    prepared = prepare_step(use, CATALOGUE.steps["script"], "linux", CATALOGUE, cloud)
    assert prepared.script is not None
    return prepared.script


def test_a_secrets_manager_secret_is_read_into_the_variable_and_stays_inert(machine):
    machine.stand_in("aws", AWS)
    result = machine.run(_script("aws", "secretsmanager:golden-images/feed-token"), env={"STANDIN_VALUE": HOSTILE})
    assert result.returncode == 0, result.stderr
    # $(...) strips the CLI's final newline only; everything else arrives as text.
    assert (machine.state / "seen").read_text() == HOSTILE
    assert not (machine.base / "tmp" / "gi-pwned").exists()
    assert "aws secretsmanager get-secret-value --region eu-west-1 --secret-id golden-images/feed-token " \
           "--query SecretString --output text" in machine.calls()
    assert "second line" not in result.stdout + result.stderr


def test_a_parameter_arn_is_read_with_decryption_in_its_own_region(machine):
    machine.stand_in("aws", AWS)
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/agents/datadog/api-key"
    result = machine.run(_script("aws", arn), env={"STANDIN_VALUE": "0123abcd"})
    assert result.returncode == 0, result.stderr
    assert (machine.state / "seen").read_text() == "0123abcd"
    assert f"aws ssm get-parameter --region us-east-1 --name {arn} --with-decryption --query Parameter.Value " \
           "--output text" in machine.calls()
    assert not [c for c in machine.calls() if "169.254.169.254" in c]  # the ARN names the region


def test_a_denied_read_stops_the_step_before_the_script_with_the_reference_named(machine):
    machine.stand_in("aws", AWS)
    result = machine.run(_script("aws", "secretsmanager:golden-images/feed-token"), env={
        "STANDIN_AWS_ERROR": "An error occurred (AccessDeniedException) when calling the GetSecretValue operation",
        "STANDIN_VALUE": "unused"})
    assert result.returncode == 1
    assert "AccessDeniedException" in result.stderr
    assert "secret reader: could not read secretsmanager:golden-images/feed-token for FEED_TOKEN with this machine's " \
           "identity" in result.stderr
    assert not (machine.state / "seen").exists()  # the team's script never ran


def test_an_image_without_the_aws_cli_is_told_which_step_to_add(machine):
    result = machine.run(_script("aws", "ssm:/agents/datadog/api-key"))
    assert result.returncode == 1
    assert "add '- aws-managed-component: {name: aws-cli-version-2-linux}' before this step" in result.stderr


def test_an_xtrace_of_the_caller_does_not_print_the_value(machine):
    machine.stand_in("aws", AWS)
    # The team's own lines would trace the value they use; this one stops tracing first.
    body = 'set +x\nprintf "%s" "$FEED_TOKEN" > "$STATE/seen"\n'
    script = _script("aws", "secretsmanager:golden-images/feed-token", body).replace(
        "gi_read_secret FEED_TOKEN", "set -x\ngi_read_secret FEED_TOKEN", 1)
    result = machine.run(script, env={"STANDIN_VALUE": "s3cr3t-value-xyz", "AWS_REGION": "eu-west-1"})
    assert result.returncode == 0, result.stderr
    assert "s3cr3t-value-xyz" not in result.stdout + result.stderr
    assert "+ export FEED_TOKEN" in result.stderr  # the trace resumed after the read
    assert (machine.state / "seen").read_text() == "s3cr3t-value-xyz"


def test_a_key_vault_secret_is_read_with_the_imds_token_sent_on_stdin(machine):
    answer = json.dumps({"value": HOSTILE, "id": KEY_VAULT + "/0123456789abcdef0123456789abcdef"})
    result = machine.run(_script("azure", KEY_VAULT), env={"KV_ANSWER": answer, "AZURE_TOKEN": AZURE_TOKEN})
    assert result.returncode == 0, result.stderr
    assert (machine.state / "seen").read_text() == HOSTILE  # JSON escapes decoded, nothing expanded
    calls = machine.calls()
    assert any("metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net" in c
               and "Metadata: true" in c for c in calls), calls
    assert any(c.endswith(f"{KEY_VAULT}?api-version=7.4") for c in calls), calls
    # The bearer token never is an argument another process could read.
    assert not [c for c in calls if AZURE_TOKEN in c]


def test_a_build_vm_without_an_identity_fails_clearly(machine):
    result = machine.run(_script("azure", KEY_VAULT), env={"STANDIN_NO_IDENTITY": "1", "AZURE_TOKEN": AZURE_TOKEN})
    assert result.returncode == 1
    assert "no token from the instance metadata service (has the build VM an identity?)" in result.stderr
    assert f"secret reader: could not read {KEY_VAULT} for FEED_TOKEN" in result.stderr
    assert not (machine.state / "seen").exists()


def test_an_answer_without_a_value_is_refused(machine):
    result = machine.run(_script("azure", KEY_VAULT), env={"KV_ANSWER": '{"error": {"code": "Forbidden"}}',
                                                           "AZURE_TOKEN": AZURE_TOKEN})
    assert result.returncode == 1
    assert "secret reader: the answer has no value" in result.stderr
