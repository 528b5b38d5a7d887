"""Validator wording a user sees, said in words: what the field takes, not a regex or a raw bound."""
from __future__ import annotations

from tests.flavour_folders import UBUNTU, refused
from tests.samples import stack_config


def test_a_bad_artefact_bucket_name_says_what_an_s3_bucket_name_is(tmp_path):
    # S3 bucket naming rules (Amazon S3 user guide): 3-63 characters, lowercase letters, digits,
    # dots and hyphens, beginning and ending with a letter or digit.
    config = stack_config(aws={"region": "eu-west-1", "artefacts": {"bucket": "Team_Artefacts"}})
    problems = refused(tmp_path, {"web.yaml": UBUNTU}, config)
    assert ("Pulumi.dev.yaml: golden-images:aws.artefacts.bucket: 'Team_Artefacts' is not an S3 bucket name: "
            "3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter "
            "or digit (e.g. example-platform-artefacts)") in problems, problems
    assert not any("String should match pattern" in p for p in problems)


def test_a_replica_count_below_one_says_at_least_one(tmp_path):
    # AIB SharedImage targetRegions: replicaCount >= 1 (REFERENCE: Distributors).
    config = stack_config(azure={"location": "westeurope",
                                 "replication": [{"region": "westeurope", "replica_count": 0}]})
    problems = refused(tmp_path, {"web.yaml": UBUNTU}, config)
    assert "Pulumi.dev.yaml: golden-images:azure.replication[0].replica_count: must be at least 1, got 0" in problems, problems


def test_bake_key_false_says_it_can_only_be_true(tmp_path):
    step = ("  - datadog-agent:\n      bake_key: false\n"
            "      api_key: {secret: {aws: 'secretsmanager:datadog/api-key'}}\n")
    problems = refused(tmp_path, {"web.yaml": UBUNTU + step})
    found = [p for p in problems if "bake_key" in p]
    assert found and found[0].startswith(
        "image_flavours/web.yaml: steps[1].datadog-agent.bake_key: can only be true (got false): true: the team asks"), problems
    assert not any("is not one of [True]" in p for p in problems)
