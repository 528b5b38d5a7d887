"""Secret references in flavours: what the loader accepts, what it refuses (file and field),
and what the secret scan tells a team that pasted a secret.

Facts: a complete Secrets Manager ARN ends in a hyphen and six random characters that
Secrets Manager appends to the name (Secrets Manager API reference, SecretId); a Key Vault
secret URI is https://<vault>.vault.azure.net/secrets/<name>[/<version>], vault names 3-24
letters, digits and hyphens, secret names letters, digits and hyphens (Key Vault naming rules).
"""
from __future__ import annotations

import pytest

from components.model.loader import load_inputs
from tests.builds import builds_of
from tests.flavour_folders import UBUNTU, WINDOWS, folder_with, refused
from tests.samples import stack_config

AWS_REF = "secretsmanager:golden-images/feed-token"
AZURE_REF = "https://contoso-kv.vault.azure.net/secrets/feed-token"
VAULT_ID = ("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/security/providers/"
            "Microsoft.KeyVault/vaults/contoso-kv")


def _script(secrets: str, options: str = "") -> str:
    return UBUNTU + f"  - script:\n      inline: echo building\n      secrets:\n{secrets}{options}"


def _one(aws: str = AWS_REF, azure: str = AZURE_REF) -> str:
    lines = "        FEED_TOKEN:\n          secret:\n"
    if aws:
        lines += f"            aws: '{aws}'\n"
    if azure:
        lines += f"            azure: '{azure}'\n"
    return lines


def _config():
    return stack_config(azure={"location": "westeurope", "key_vaults": {"contoso-kv": VAULT_ID}})


def test_a_script_reads_references_of_both_clouds(tmp_path):
    folder = folder_with(tmp_path, {"web.yaml": _script(_one())})
    inputs = load_inputs(_config(), "Pulumi.dev.yaml", folder, tmp_path)
    build = builds_of(inputs)["web"]
    [aws_step] = [s for s in build.steps_on("aws") if s.name == "script"]
    [azure_step] = [s for s in build.steps_on("azure") if s.name == "script"]
    assert [(name, ref.reference) for name, ref in aws_step.secrets] == [("FEED_TOKEN", AWS_REF)]
    assert [(name, ref.reference) for name, ref in azure_step.secrets] == [("FEED_TOKEN", AZURE_REF)]
    # Each cloud's script reads its own reference, and only that one.
    assert f"gi_read_secret FEED_TOKEN '{AWS_REF}'\n" in aws_step.script
    assert AZURE_REF not in aws_step.script
    assert f"gi_read_secret FEED_TOKEN '{AZURE_REF}'\n" in azure_step.script
    # The check never reads secrets.
    assert "gi_read_secret" not in (aws_step.check or "")


@pytest.mark.parametrize("aws", [
    "ssm:/golden-images/feed-token",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:golden-images/feed-token-AbC123",
    "arn:aws:ssm:eu-west-1:123456789012:parameter/golden-images/feed-token",
])
def test_every_aws_form_is_accepted(tmp_path, aws):
    folder = folder_with(tmp_path, {"web.yaml": _script(_one(aws=aws))})
    load_inputs(_config(), "Pulumi.dev.yaml", folder, tmp_path)


@pytest.mark.parametrize("aws, expected", [
    # A partial ARN (no six-character suffix) is ambiguous: Secrets Manager may match another secret.
    ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:golden-images/feed-token", "is not an AWS secret reference"),
    ("arn:aws:s3:::bucket/token", "is not an AWS secret reference"),
    ("ssm:/aws/service/global-infrastructure/regions", "AWS's public namespace"),
    ("secretsmanager:", "is not an AWS secret reference"),
])
def test_a_bad_aws_reference_is_refused_with_its_field(tmp_path, aws, expected):
    [problem] = refused(tmp_path, {"web.yaml": _script(_one(aws=aws))}, _config())
    assert problem.startswith("web.yaml: steps[1].script.secrets.FEED_TOKEN.secret.aws: ") or \
        problem.startswith("image_flavours/web.yaml: steps[1].script.secrets.FEED_TOKEN.secret.aws: "), problem
    assert expected in problem


@pytest.mark.parametrize("azure", [
    "https://contoso-kv.vault.azure.net/keys/feed-token",          # a key, not a secret
    "http://contoso-kv.vault.azure.net/secrets/feed-token",        # not https
    "https://contoso-kv.vault.azure.net/secrets/feed_token",       # underscore: not a secret name
    "https://kv.vault.azure.net/secrets/feed-token",               # vault name too short
    "https://contoso-kv.vault.azure.net/secrets/feed-token/v1",    # a version is 32 hex digits
    "https://contoso-kv.vault.azure.net/secrets/feed-token?api-version=7.4",
])
def test_a_key_vault_uri_of_another_shape_is_refused(tmp_path, azure):
    [problem] = refused(tmp_path, {"web.yaml": _script(_one(azure=azure))}, _config())
    assert "steps[1].script.secrets.FEED_TOKEN.secret.azure: " in problem
    assert "is not a Key Vault secret URI: write https://<vault>.vault.azure.net/secrets/<name>" in problem


def test_a_flavour_on_both_clouds_needs_a_reference_for_each(tmp_path):
    [problem] = refused(tmp_path, {"web.yaml": _script(_one(azure=""))}, _config())
    assert "steps[1].script.secrets.FEED_TOKEN.secret: no reference for azure, where this step runs" in problem
    assert "options.only_on: aws" in problem


def test_a_step_only_on_aws_needs_only_the_aws_reference_and_refuses_an_azure_one(tmp_path):
    only_aws = "    options:\n      only_on: aws\n"
    folder = folder_with(tmp_path, {"web.yaml": _script(_one(azure=""), only_aws)})
    build = builds_of(load_inputs(_config(), "Pulumi.dev.yaml", folder, tmp_path))["web"]
    assert not [s for s in build.steps_on("azure") if s.name == "script"]
    [problem] = refused(tmp_path / "2", {"web.yaml": _script(_one(), only_aws)}, _config())
    assert "steps[1].script.secrets.FEED_TOKEN.secret.azure: this step does not run on azure" in problem


def test_a_literal_where_a_reference_is_required_is_refused_without_echoing_it(tmp_path):
    literal = "        FEED_TOKEN: hunter2-not-a-reference\n"
    [problem] = refused(tmp_path, {"web.yaml": _script(literal)}, _config())
    assert "steps[1].script.secrets.FEED_TOKEN: takes a secret reference, not a value" in problem
    assert ('write FEED_TOKEN: {secret: {aws: "secretsmanager:<name>", '
            'azure: "https://<vault>.vault.azure.net/secrets/<name>"}}') in problem
    assert "hunter2" not in problem


def test_datadog_takes_its_key_only_when_the_team_asks_for_it_in_the_image(tmp_path):
    key = ("  - datadog-agent:\n      api_key:\n        secret:\n"
           f"          aws: {AWS_REF}\n          azure: {AZURE_REF}\n")
    [problem] = refused(tmp_path, {"web.yaml": UBUNTU + key}, _config())
    assert "steps[1].datadog-agent.bake_key: required together with api_key" in problem
    problems = refused(tmp_path / "2", {"web.yaml": UBUNTU + key + "      bake_key: false\n"}, _config())
    assert any("steps[1].datadog-agent.bake_key: can only be true (got false)" in p for p in problems), problems
    literal = "  - datadog-agent:\n      bake_key: true\n      api_key: 0123456789abcdef0123456789abcdef\n"
    [problem] = refused(tmp_path / "3", {"web.yaml": UBUNTU + literal}, _config())
    assert "steps[1].datadog-agent.api_key: takes a secret reference, not a value" in problem
    assert "0123456789abcdef" not in problem


def test_a_key_vault_the_stack_does_not_map_is_refused_naming_the_setting(tmp_path):
    from components.builds import resolve_stack
    from components.model.errors import ValidationFailed

    folder_with(tmp_path, {"web.yaml": _script(_one())})
    config = stack_config(azure={"location": "westeurope"})
    with pytest.raises(ValidationFailed) as caught:
        resolve_stack(config, "Pulumi.dev.yaml", "dev", tmp_path, None)
    [problem] = [str(p) for p in caught.value.problems]
    assert "steps[1].script: FEED_TOKEN reads " + AZURE_REF in problem
    assert "add it to golden-images:azure.key_vaults as contoso-kv: /subscriptions/<subscription id>/" in problem


def test_a_key_vault_setting_must_be_that_vault_s_resource_id(tmp_path):
    wrong = VAULT_ID.replace("vaults/contoso-kv", "vaults/other-kv")
    problems = refused(tmp_path, {"web.yaml": UBUNTU}, stack_config(
        azure={"location": "westeurope", "key_vaults": {"contoso-kv": wrong}}))
    assert any("golden-images:azure.key_vaults" in p and "names the vault 'other-kv', not 'contoso-kv'" in p
               for p in problems), problems


def test_a_secret_pasted_into_a_script_environment_points_at_the_secrets_form(tmp_path):
    pasted = UBUNTU + ("  - script:\n      inline: echo building\n      environment:\n"
                       "        FEED_TOKEN: ghp_4f9Qz1XbLk7TtR2pWm8sVn3cYh6dJe0aUiKo\n")
    [problem] = refused(tmp_path, {"web.yaml": pasted}, _config())
    assert "steps[1].script.environment.FEED_TOKEN: value looks like a secret" in problem
    assert ('move it from environment to secrets, which the build machine fills from a secret store with its own '
            'identity: secrets: {FEED_TOKEN: {secret: {aws: "secretsmanager:<name>", '
            'azure: "https://<vault>.vault.azure.net/secrets/<name>"}}}') in problem
    assert "ghp_4f9Qz1" not in problem


def test_a_secret_pasted_on_a_windows_step_without_secret_parameters_says_so(tmp_path):
    pasted = WINDOWS + ("  - windows-packages:\n      manager: chocolatey\n"
                        "      source: https://feed.example.com/nuget?token=ghp_4f9Qz1XbLk7TtR2pWm8sVn3cYh6dJe0aUiKo\n"
                        "      packages: [git]\n")
    problems = refused(tmp_path, {"win.yaml": pasted}, _config())
    hinted = [p for p in problems if "value looks like a secret" in p]
    assert hinted, problems
    assert "step 'windows-packages' takes no secret; configure it at boot, or read it in a script step: " \
           "secrets: {NAME: {secret:" in hinted[0]


def test_a_windows_script_reads_its_secret_before_the_team_s_first_line(tmp_path):
    text = WINDOWS + ("  - script:\n      inline: Write-Output 'building'\n      secrets:\n" + _one())
    folder = folder_with(tmp_path, {"win.yaml": text})
    build = builds_of(load_inputs(_config(), "Pulumi.dev.yaml", folder, tmp_path))["win"]
    [step] = [s for s in build.steps_on("azure") if s.name == "script"]
    script = step.script
    read = f"Read-GiSecret -Variable 'FEED_TOKEN' -Reference '{AZURE_REF}'\n"
    assert "function Read-GiSecret([string]$Variable, [string]$Reference)" in script
    assert script.index(read) < script.index("Write-Output 'building'")
    assert AWS_REF not in script
