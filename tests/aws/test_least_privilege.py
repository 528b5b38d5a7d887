"""Least privilege on AWS, as the shipped stacks' plans register it.

Facts (AWS KMS and IAM documentation): kms:ViaService limits a key policy statement to
requests a named service makes on the caller's behalf (ec2.<region>.amazonaws.com for AMI
copies, launches and EBS volumes); aws:SourceAccount in a service's trust policy limits
the service to assuming the role for resources of that account (confused deputy).
"""
from __future__ import annotations

import json

from components.mocks import ACCOUNT_ID


def _policy(resource, key):
    value = resource.inputs[key]
    return json.loads(value) if isinstance(value, str) else value


def test_accounts_sharing_the_images_use_the_key_only_through_ec2(plans):
    keys = plans["prod"].of_type("aws:kms/key:Key")
    assert keys
    for key in keys:
        statements = {s["Sid"]: s for s in _policy(key, "policy")["Statement"]}
        shared = [s for sid, s in statements.items() if sid.endswith("UseKey")]
        assert shared, sorted(statements)
        for statement in shared:
            assert statement["Condition"]["StringLike"] == {"kms:ViaService": "ec2.*.amazonaws.com"}, statement["Sid"]
        # Grants only for AWS resources (EBS), as before.
        for sid, statement in statements.items():
            if sid.endswith("GrantToEbs"):
                assert statement["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_the_lifecycle_role_trusts_image_builder_only_for_this_account(plans):
    for plan in plans.values():
        [role] = [r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("imagebuilder-lifecycle")]
        [statement] = _policy(role, "assumeRolePolicy")["Statement"]
        assert statement["Principal"] == {"Service": "imagebuilder.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_an_image_launched_recently_is_not_deleted_for_being_old(plans):
    """Image Builder's exclusionRules.amis.lastLaunched (1-365 days, botocore's model) keeps an AMI
    that launched an instance within the period out of the DELETE action."""
    for plan in plans.values():
        policies = plan.of_type("aws:imagebuilder/lifecyclePolicy:LifecyclePolicy")
        assert policies
        for policy in policies:
            [delete] = [d for d in policy.inputs["policyDetails"] if d["action"]["type"] == "DELETE"]
            assert delete["exclusionRules"] == {"amis": {"lastLaunched": {"unit": "DAYS", "value": 30}}}
