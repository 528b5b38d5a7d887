"""The rules as a pulumi-policy pack (policy/pack.py), driven with hand-built policy args.

policy/__main__.py is never imported here: constructing PolicyPack starts a server. The
last tests launch it the way the Pulumi CLI does, in a child process, and talk to it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components.plan import ROOT, stack_config
from policy import pack
from policy import rules as r
from policy.rules import RULES, Context

from .builders import ACCOUNT, KEY_ARN, PROD

INFRA_OK = {"instanceProfileName": "build", "instanceMetadataOptions": {"httpTokens": "required"},
            "terminateInstanceOnFailure": True}


def _opts(parent: str = "") -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent or None)


def _args(typ: str, props: dict, name: str = "res", config: dict | None = None) -> ResourceValidationArgs:
    urn = f"urn:pulumi:prod::golden-images::{typ}::{name}"
    return ResourceValidationArgs(typ, unknown_checking_proxy(props), urn, name, _opts(), None, config)


def _policy_resource(typ: str, props: dict, name: str, deps=(), links=None) -> PolicyResource:
    urn = f"urn:pulumi:prod::golden-images::{typ}::{name}"
    return PolicyResource(typ, unknown_checking_proxy(props), urn, name, _opts(), None, None, list(deps), dict(links or {}))


def _policies(context: Context = PROD) -> dict:
    return {p.name: p for p in pack.build_policies(lambda config, resources: context)}


def _run(policy, args) -> list:
    reported = []
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_one_policy_per_rule_named_by_id_with_its_enforcement():
    policies = pack.build_policies(lambda config, resources: PROD)
    assert [p.name for p in policies] == [rule.id for rule in RULES]
    for policy, rule in zip(policies, RULES):
        kind = StackValidationPolicy if rule.scope == "stack" else ResourceValidationPolicy
        assert isinstance(policy, kind), rule.id
        expected = EnforcementLevel.MANDATORY if rule.enforcement == "mandatory" else EnforcementLevel.ADVISORY
        assert policy.enforcement_level == expected
        assert policy.description.startswith(rule.title)


def test_resource_policy_reports_each_violation_of_its_rule():
    imds = _policies()["GI-BUILD-001"]
    bad = {**INFRA_OK, "instanceMetadataOptions": {"httpTokens": "optional"}}
    (reported,) = _run(imds, _args(r.INFRASTRUCTURE_CONFIGURATION, bad))
    assert reported[0].startswith("instanceMetadataOptions.httpTokens is 'optional'")
    assert _run(imds, _args(r.INFRASTRUCTURE_CONFIGURATION, INFRA_OK)) == []
    assert _run(imds, _args(r.TOPIC, {"name": "t"})) == []


def test_values_unknown_during_preview_are_not_judged_and_do_not_raise():
    props = {**INFRA_OK, "instanceMetadataOptions": {"httpTokens": UNKNOWN_STRING_VALUE}}
    assert _run(_policies()["GI-BUILD-001"], _args(r.INFRASTRUCTURE_CONFIGURATION, props)) == []
    recipe = {"blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "true", "kmsKeyId": UNKNOWN_STRING_VALUE}}]}
    assert _run(_policies()["GI-ENC-001"], _args(r.IMAGE_RECIPE, recipe)) == []


def test_plain_replaces_every_unknown_sentinel():
    props = unknown_checking_proxy({"a": UNKNOWN_STRING_VALUE, "b": [1.0, UNKNOWN_STRING_VALUE], "c": {"d": "x"}})
    assert pack.plain(props) == {"a": r.UNKNOWN, "b": [1.0, r.UNKNOWN], "c": {"d": "x"}}


def test_stack_policy_reports_against_the_offending_resource():
    bucket = _policy_resource(r.BUCKETS[0], {"bucket": "logs"}, "logs")
    block = _policy_resource(r.PUBLIC_ACCESS_BLOCK, {"bucket": UNKNOWN_STRING_VALUE, **{k: True for k in r.PUBLIC_ACCESS_SETTINGS}},
                             "logs-private", deps=[bucket], links={"bucket": [bucket]})
    private = _policies()["GI-LOG-001"]
    assert _run(private, StackValidationArgs([bucket, block])) == []
    ((message, urn),) = _run(private, StackValidationArgs([bucket]))
    assert urn == bucket.urn and message.startswith("logs: has no BucketPublicAccessBlock")


@pytest.fixture
def prod_stack(monkeypatch):
    """The runtime context sees the shipped prod stack's config, as the engine passes it."""
    config, _ = stack_config("prod")
    monkeypatch.setattr(pack, "_stack_name", lambda: "prod")
    monkeypatch.setattr(pack, "_stack_config", lambda: {k: json.dumps(v) if not isinstance(v, str) else v
                                                        for k, v in config.items() if k.startswith("golden-images:")})


def _sharing_distribution(user_ids, kms=KEY_ARN):
    ami = {"name": "x-{{ imagebuilder:buildDate }}", "launchPermission": {"userIds": user_ids}}
    if kms:
        ami["kmsKeyId"] = kms
    return {"distributions": [{"region": "eu-west-1", "amiDistributionConfiguration": ami}]}


def test_runtime_context_comes_from_the_stack_config(prod_stack):
    policies = {p.name: p for p in pack.build_policies()}
    allowed = _sharing_distribution(["210987654321", "345678901234"])
    assert _run(policies["GI-SHARE-002"], _args(r.DISTRIBUTION_CONFIGURATION, allowed)) == []
    ((message, _),) = _run(policies["GI-SHARE-002"], _args(r.DISTRIBUTION_CONFIGURATION, _sharing_distribution(["999999999999"])))
    assert "shares with 999999999999" in message
    # prod requires customer keys without any policy config
    assert _run(policies["GI-ENC-001"], _args(r.DISTRIBUTION_CONFIGURATION, _sharing_distribution([], kms=None)))


def test_policy_config_overrides_the_stack_config(prod_stack):
    policies = {p.name: p for p in pack.build_policies()}
    distribution = _args(r.DISTRIBUTION_CONFIGURATION, _sharing_distribution(["999999999999"], kms=None),
                         config={"launchAccountIds": ["999999999999"], "requireCustomerKey": False})
    assert _run(policies["GI-SHARE-002"], distribution) == []
    assert _run(policies["GI-ENC-001"], distribution) == []
    assert set(pack.CONFIG_SCHEMAS) <= {rule.id for rule in RULES}


def test_flavour_steps_come_from_the_golden_image_components(prod_stack):
    summary = {"version": "1.0.0", "os": "linux", "steps": ["os-updates"]}
    component = _policy_resource(r.GOLDEN_IMAGE, {"summary": summary}, "ubuntu-2404")
    policies = {p.name: p for p in pack.build_policies()}
    assert _run(policies["GI-FLAV-001"], StackValidationArgs([component])) == []
    ((message, urn),) = _run(policies["GI-FLAV-002"], StackValidationArgs([component]))
    assert urn == component.urn and message.startswith("ubuntu-2404: steps [os-updates] include no 'hardening' step")


def test_the_entry_point_is_not_imported_by_tests():
    assert "policy.__main__" not in sys.modules


# The pack as the Pulumi CLI runs it ---------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer():
    """policy/ started like the CLI's Python language host does, with the prod stack's config."""
    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

    config, _ = stack_config("prod")
    env = {
        **os.environ,
        "PULUMI_PROJECT": "golden-images",
        "PULUMI_STACK": "prod",
        "PULUMI_DRY_RUN": "true",
        "PULUMI_CONFIG": json.dumps({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:0", str(ROOT / "policy")],
        cwd=ROOT / "policy", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"the pack did not start: {process.stderr.read() if process.poll() is not None else port}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _struct(props: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def test_pack_describes_every_rule(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == pack.PACK_NAME
    assert [p.name for p in info.policies] == [rule.id for rule in RULES]


def test_pack_fails_a_violating_resource_with_the_stack_context(analyzer):
    from pulumi.runtime.proto import analyzer_pb2

    typ = r.DISTRIBUTION_CONFIGURATION
    request = analyzer_pb2.AnalyzeRequest(
        type=typ, name="ubuntu-2404", urn=f"urn:pulumi:prod::golden-images::{typ}::ubuntu-2404",
        properties=_struct(_sharing_distribution(["999999999999"], kms=None)),
    )
    diagnostics = analyzer.Analyze(request).diagnostics
    assert sorted(d.policyName for d in diagnostics) == ["GI-ENC-001", "GI-SHARE-002"]
    assert all(d.enforcementLevel == analyzer_pb2.MANDATORY for d in diagnostics)
    share = next(d for d in diagnostics if d.policyName == "GI-SHARE-002")
    assert "launchPermission.userIds shares with 999999999999" in share.message
    passing = analyzer_pb2.AnalyzeRequest(
        type=typ, name="ubuntu-2404", urn=request.urn,
        properties=_struct(_sharing_distribution([f"{210987654321}"])),
    )
    assert list(analyzer.Analyze(passing).diagnostics) == []


def test_pack_checks_the_stack_as_a_whole(analyzer):
    from pulumi.runtime.proto import analyzer_pb2

    bucket_urn = f"urn:pulumi:prod::golden-images::{r.BUCKETS[0]}::logs"
    bucket = analyzer_pb2.AnalyzerResource(type=r.BUCKETS[0], name="logs", urn=bucket_urn,
                                           properties=_struct({"bucket": f"golden-images-logs-{ACCOUNT}"}))
    diagnostics = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[bucket])).diagnostics
    assert sorted((d.policyName, d.urn) for d in diagnostics) == [("GI-LOG-001", bucket_urn), ("GI-LOG-002", bucket_urn)]
