"""IAM and KMS policies of the shared infrastructure."""
from __future__ import annotations

from components.aws import render
from tests.aws.samples import (
    make_settings,
)


class TestPolicies:
    def test_build_instances_write_only_their_log_prefix(self):
        policy = render.log_write_policy("arn:aws:s3:::logs")
        assert policy["Statement"] == [{"Sid": "WriteBuildLogs", "Effect": "Allow", "Action": "s3:PutObject",
                                        "Resource": "arn:aws:s3:::logs/image-builder/*"}]

    def test_key_policy_grants(self):
        settings = make_settings(
            target_account_ids=["210987654321"],
            launch_permissions={
                "account_ids": ["345678901234"],
                "organization_arns": ["arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"],
                "organizational_unit_arns": ["arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdef3456"]})
        statements = {s["Sid"]: s for s in render.kms_key_policy(settings.aws, account_id="123456789012")["Statement"]}
        assert statements["AccountAdministers"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
        # Only the owning account administers the key.
        assert [sid for sid, s in statements.items() if s["Action"] == "kms:*"] == ["AccountAdministers"]
        shared = statements["SharedAccountsUseKey"]
        assert shared["Principal"]["AWS"] == ["arn:aws:iam::210987654321:root", "arn:aws:iam::345678901234:root"]
        assert "kms:ReEncrypt*" in shared["Action"] and "kms:Decrypt" in shared["Action"]
        grant = statements["SharedAccountsGrantToEbs"]
        assert grant["Action"] == "kms:CreateGrant"
        assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
        # Use only through EC2 (AMI copies and launches, EBS volumes): kms:ViaService.
        via_ec2 = {"StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"}}
        assert shared["Condition"] == via_ec2
        assert statements["OrganizationsUseKey"]["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}, **via_ec2}
        assert statements["OrganizationalUnitsUseKey"]["Condition"] == {
            "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/*/ou-ab12-cdef3456/*"]}, **via_ec2}
        notify = statements["ImageBuilderNotifications"]
        assert notify["Condition"]["ArnEquals"] == {"aws:PrincipalArn": (
            "arn:aws:iam::123456789012:role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder")}
        assert notify["Condition"]["StringEquals"]["kms:ViaService"] == "sns.eu-west-1.amazonaws.com"

    def test_key_policy_without_sharing(self):
        sids = [s["Sid"] for s in render.kms_key_policy(make_settings().aws, account_id="1")["Statement"]]
        assert sids == ["AccountAdministers", "ImageBuilderNotifications"]

