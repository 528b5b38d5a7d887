"""The guardrails on the offline plan (policy/offline.py): what `make plan` enforces."""
from __future__ import annotations

import json

import pytest
import yaml

from components.model.steps import load_catalogue
from components.plan import Plan, Registration, stack_config
from policy import rules as r
from policy.context import catalogue_categories, context_from_config, is_production
from policy.offline import check_plan, enforce, plan_resources
from policy.secret_scan import ScanCache, scanner_version

from .builders import step_without


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_pass_every_mandatory_rule(plans, stack):
    errors, _ = enforce(plans[stack])
    assert errors == []


def test_plan_of_a_flavour_without_updates_fails_naming_rule_and_resource(project):
    step = step_without("updates")
    flavour = yaml.safe_load(project.flavour_text("ubuntu-2404.yaml"))
    flavour.update(name="stale-ubuntu", steps=[step])
    project.write_flavour("stale-ubuntu.yaml", yaml.safe_dump(flavour, sort_keys=False))
    plan = project.plan("dev")
    errors, _ = enforce(plan, project.config("dev"))
    line = next(e for e in errors if e.startswith("GI-FLAV-001 "))
    assert line.startswith(f"GI-FLAV-001 stale-ubuntu: steps [{step}] include no 'updates' step")
    (violation,) = [v for v in check_plan(plan, project.config("dev")) if v.rule == "GI-FLAV-001"]
    (component,) = [g for g in plan.of_type(r.GOLDEN_IMAGE) if g.name == "stale-ubuntu"]
    assert violation.urn == component.urn


def _plan(stack: str, *registrations: Registration, flavours=None) -> Plan:
    return Plan(project="golden-images", stack=stack, resources=list(registrations), outputs={"flavours": flavours or {}})


def _registration(typ: str, name: str, inputs: dict, depends_on=()) -> Registration:
    return Registration(urn=f"urn:pulumi:dev::golden-images::{typ}::{name}", type=typ, name=name, parent="", custom=True,
                        inputs=inputs, options={"dependsOn": sorted(depends_on), "protect": False})


def test_enforce_prints_rule_resource_and_message_and_splits_advisories():
    infra = _registration(r.INFRASTRUCTURE_CONFIGURATION, "build",
                          {"instanceMetadataOptions": {"httpTokens": "optional"}, "terminateInstanceOnFailure": True})
    template = _registration(r.IMAGE_TEMPLATE, "ubuntu-2404", {"errorHandling": {"onCustomizerError": "abort"},
                                                              "validate": {"inVMValidations": [{"type": "Shell"}]},
                                                              "identity": {"type": "UserAssigned", "userAssignedIdentities": ["x"]}})
    errors, warnings = enforce(_plan("dev", infra, template), stack_config("dev")[0])
    assert errors[0].startswith("GI-BUILD-001 build: instanceMetadataOptions.httpTokens is 'optional'")
    assert [e.split(":")[0] for e in errors] == ["GI-BUILD-001 build", "GI-PIPE-001 ubuntu-2404"]  # no schedule either
    assert [w.split(":")[0] for w in warnings] == ["GI-BUILD-003 ubuntu-2404"]


def test_plan_dependencies_link_resources():
    bucket = _registration(r.BUCKETS[0], "logs", {"forceDestroy": False})
    block = _registration(r.PUBLIC_ACCESS_BLOCK, "logs-private", {"bucket": "logs-1a2b3c4d", **{k: True for k in r.PUBLIC_ACCESS_SETTINGS}},
                          depends_on=[bucket.urn])
    (converted_bucket, converted_block) = plan_resources(_plan("dev", bucket, block))
    assert converted_block.dependencies == frozenset({bucket.urn})
    rules = [r.RULES_BY_ID["GI-LOG-001"]]
    assert check_plan(_plan("dev", bucket, block), {}, rules) == []
    assert [v.name for v in check_plan(_plan("dev", bucket), {}, rules)] == ["logs"]


def test_check_plan_reads_the_stack_file_when_no_config_is_given():
    distribution = _registration(r.DISTRIBUTION_CONFIGURATION, "ubuntu-2404", {"distributions": [
        {"region": "eu-west-1", "amiDistributionConfiguration": {"launchPermission": {"userIds": ["210987654321"]}}}]})
    rules = [r.RULES_BY_ID["GI-SHARE-002"], r.RULES_BY_ID["GI-ENC-001"]]
    assert [v.rule for v in check_plan(_plan("prod", distribution), None, rules)] == ["GI-ENC-001"]
    assert [v.rule for v in check_plan(_plan("dev", distribution), None, rules)] == ["GI-SHARE-002"]


class TestContext:
    def test_prod_stack_requires_customer_keys_and_lists_its_sharing(self):
        context = context_from_config("prod", stack_config("prod")[0])
        assert context.customer_key_required
        assert context.launch_account_ids == {"210987654321", "345678901234"}
        assert context.launch_organizational_unit_arns == {"arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdef3456"}
        assert context.target_account_ids == {"210987654321"}

    def test_dev_stack_shares_with_no_one_and_may_use_default_keys(self):
        context = context_from_config("dev", stack_config("dev")[0])
        assert not context.customer_key_required
        assert context.launch_account_ids == frozenset() and context.target_account_ids == frozenset()

    @pytest.mark.parametrize("stack,tags,expected", [
        ("prod", {}, True), ("production", {}, True), ("prod-eu", {}, True), ("products", {}, False),
        ("dev", {"environment": "prod"}, True), ("dev", {"environment": "dev"}, False),
    ])
    def test_what_counts_as_production(self, stack, tags, expected):
        assert is_production(stack, {"golden-images:tags": tags}) is expected

    def test_config_values_may_be_json_strings_as_the_engine_passes_them(self):
        context = context_from_config("dev", {"golden-images:aws": '{"target_account_ids": ["210987654321"]}'})
        assert context.target_account_ids == {"210987654321"}

    def test_step_categories_are_the_validated_catalogue_s(self):
        assert catalogue_categories() == {name: step.spec.category for name, step in load_catalogue().steps.items()}


def _component_plan(command: str) -> Plan:
    data = f"name: agent\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Run\n        action: ExecuteBash\n        inputs:\n          commands:\n            - {command}\n"
    return _plan("dev", _registration(r.COMPONENT, "agent", {"name": "agent", "data": data}))


class TestScanCache:
    def test_findings_are_kept_between_runs_for_the_same_scanner(self, tmp_path):
        cache = tmp_path / "secret-scan.json"
        first = ScanCache.load(cache)
        assert enforce(_component_plan("systemctl enable agent"), {}, scan_cache=first) == ([], [])
        first.save(cache)
        saved = json.loads(cache.read_text())
        assert saved["scanner"] == scanner_version() and saved["lines"]
        # A remembered finding is used as is: mark the clean line as a finding and run again.
        saved["lines"] = {key: ["Secret Keyword"] for key in saved["lines"]}
        cache.write_text(json.dumps(saved))
        errors, _ = enforce(_component_plan("systemctl enable agent"), {}, scan_cache=ScanCache.load(cache))
        assert errors and errors[0].startswith("GI-SECRET-001 agent: data line")

    def test_findings_of_another_scanner_are_ignored(self, tmp_path):
        cache = tmp_path / "secret-scan.json"
        first = ScanCache.load(cache)
        enforce(_component_plan("systemctl enable agent"), {}, scan_cache=first)
        first.save(cache)
        saved = json.loads(cache.read_text())
        saved.update(scanner="detect-secrets 0.0", lines={key: ["Secret Keyword"] for key in saved["lines"]})
        cache.write_text(json.dumps(saved))
        assert ScanCache.load(cache).lines == {}
        assert enforce(_component_plan("systemctl enable agent"), {}, scan_cache=ScanCache.load(cache)) == ([], [])

    def test_a_missing_or_broken_file_is_an_empty_cache(self, tmp_path):
        assert ScanCache.load(tmp_path / "none.json").lines == {}
        (tmp_path / "broken.json").write_text("{")
        assert ScanCache.load(tmp_path / "broken.json").entries == {}

    def test_the_rules_remember_findings_only_in_the_cache_they_are_given(self):
        cache = ScanCache()
        enforce(_component_plan("systemctl enable agent"), {}, scan_cache=cache)
        remembered = (dict(cache.lines), dict(cache.entries))
        assert remembered[0]
        enforce(_component_plan("systemctl restart agent"), {})
        assert (cache.lines, cache.entries) == remembered
        enforce(_component_plan("systemctl restart agent"), {}, scan_cache=cache)
        assert len(cache.lines) > len(remembered[0])


def test_account_names_in_stack_config_count_as_their_ids_for_the_sharing_rule():
    config = {
        "golden-images:accounts": '{"shared-services": "111122223333"}',
        "golden-images:aws": '{"region": "eu-west-1", "target_account_ids": ["shared-services"], '
                             '"launch_permissions": {"account_ids": ["shared-services", "444455556666"]}}',
    }
    context = context_from_config("dev", config)
    assert context.target_account_ids == frozenset({"111122223333"})
    assert context.launch_account_ids == frozenset({"111122223333", "444455556666"})
