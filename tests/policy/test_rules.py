"""Every guardrail with a passing and a violating hand-built resource (policy/rules.py)."""
from __future__ import annotations

import json

import pytest

from policy import rules as r
from policy.rules import RULES, UNKNOWN, Context

from .builders import (
    ACCOUNT,
    CONTRIBUTOR,
    DEV,
    FAKE_AWS_KEY,
    FAKE_PASSWORD,
    KEY_ARN,
    OWNER,
    PROD,
    READER,
    SHA256,
    SUBSCRIPTION,
    b64,
    check,
    component_document,
    resource,
    violations,
)

passes = lambda rule_id: pytest.mark.rule(rule_id, "passes")  # noqa: E731
violates = lambda rule_id: pytest.mark.rule(rule_id, "violates")  # noqa: E731


# Build instances ---------------------------------------------------------------------------

INFRA = {
    "instanceProfileName": "golden-images-build",
    "instanceTypes": ["m6i.large"],
    "instanceMetadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2.0},
    "terminateInstanceOnFailure": True,
    "tags": {"environment": "dev", "owner": "platform-team"},
}


class TestImdsV2:
    @passes("GI-BUILD-001")
    def test_required_tokens_pass(self):
        assert check("GI-BUILD-001", r.INFRASTRUCTURE_CONFIGURATION, INFRA) == []

    @violates("GI-BUILD-001")
    def test_optional_tokens_violate(self):
        inputs = {**INFRA, "instanceMetadataOptions": {"httpTokens": "optional"}}
        (message,) = check("GI-BUILD-001", r.INFRASTRUCTURE_CONFIGURATION, inputs)
        assert "httpTokens is 'optional'" in message

    @violates("GI-BUILD-001")
    def test_absent_metadata_options_violate(self):
        inputs = {k: v for k, v in INFRA.items() if k != "instanceMetadataOptions"}
        assert check("GI-BUILD-001", r.INFRASTRUCTURE_CONFIGURATION, inputs)

    def test_unknown_during_preview_is_not_judged(self):
        inputs = {**INFRA, "instanceMetadataOptions": {"httpTokens": UNKNOWN}}
        assert check("GI-BUILD-001", r.INFRASTRUCTURE_CONFIGURATION, inputs) == []


class TestTerminateOnFailure:
    @passes("GI-BUILD-002")
    def test_true_passes(self):
        assert check("GI-BUILD-002", r.INFRASTRUCTURE_CONFIGURATION, INFRA) == []

    @violates("GI-BUILD-002")
    @pytest.mark.parametrize("value", [False, None])
    def test_false_or_provider_default_violates(self, value):
        inputs = {**INFRA, "terminateInstanceOnFailure": value}
        if value is None:
            del inputs["terminateInstanceOnFailure"]
        (message,) = check("GI-BUILD-002", r.INFRASTRUCTURE_CONFIGURATION, inputs)
        assert "terminateInstanceOnFailure" in message


TEMPLATE_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/golden-images/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib-template"
TEMPLATE = {
    "resourceGroupName": "golden-images",
    "imageTemplateName": "ubuntu-2404-1.0.0-ab12cd34",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": [TEMPLATE_ID]},
    "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
    "customize": [
        {"type": "Shell", "name": "os-updates", "inline": ["set -euo pipefail", "apt-get update", "apt-get -y dist-upgrade"]},
    ],
    "validate": {"inVMValidations": [{"type": "Shell", "name": "os-updates-check", "inline": ["test ! -f /var/run/reboot-required"]}]},
    "errorHandling": {"onCustomizerError": "cleanup", "onValidationError": "cleanup"},
    "distribute": [{"type": "SharedImage", "runOutputName": "ubuntu-2404", "galleryImageId": "/subscriptions/x/gallery/images/ubuntu-2404"}],
    "tags": {"environment": "dev", "flavour": "ubuntu-2404"},
}


class TestAzureCleanup:
    @passes("GI-BUILD-003")
    def test_cleanup_and_service_default_pass(self):
        assert check("GI-BUILD-003", r.IMAGE_TEMPLATE, TEMPLATE) == []
        without = {k: v for k, v in TEMPLATE.items() if k != "errorHandling"}
        assert check("GI-BUILD-003", r.IMAGE_TEMPLATE, without) == []

    @violates("GI-BUILD-003")
    def test_abort_keeps_the_vm_and_is_advisory(self):
        inputs = {**TEMPLATE, "errorHandling": {"onCustomizerError": "abort", "onValidationError": "cleanup"}}
        (message,) = check("GI-BUILD-003", r.IMAGE_TEMPLATE, inputs)
        assert message.startswith("errorHandling keeps a failed build VM (onCustomizerError: abort) running")
        assert r.RULES_BY_ID["GI-BUILD-003"].enforcement == "advisory"


# Encryption --------------------------------------------------------------------------------

RECIPE = {
    "name": "ubuntu-2404-ab12cd34",
    "version": "1.0.0",
    "parentImage": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
    "components": [{"componentArn": f"arn:aws:imagebuilder:eu-west-1:{ACCOUNT}:component/os-updates/1.0.0/1"}],
    "blockDeviceMappings": [
        {"deviceName": "/dev/sda1", "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN, "volumeSize": 30.0,
                                             "volumeType": "gp3", "deleteOnTermination": True}},
    ],
}


def _distribution(*, kms=KEY_ARN, launch=None, targets=None, region="eu-west-1"):
    ami = {"name": "ubuntu-2404-{{ imagebuilder:buildDate }}"}
    if kms:
        ami["kmsKeyId"] = kms
    if launch is not None:
        ami["launchPermission"] = launch
    if targets is not None:
        ami["targetAccountIds"] = targets
    return {"name": "ubuntu-2404", "distributions": [{"region": region, "amiDistributionConfiguration": ami}]}


class TestEncryption:
    @passes("GI-ENC-001")
    def test_encrypted_with_customer_keys_pass_in_prod(self):
        assert check("GI-ENC-001", r.IMAGE_RECIPE, RECIPE, PROD) == []
        assert check("GI-ENC-001", r.DISTRIBUTION_CONFIGURATION, _distribution(), PROD) == []
        assert check("GI-ENC-001", r.COMPONENT, {"name": "os-updates", "kmsKeyId": KEY_ARN, "data": "x"}, PROD) == []

    @passes("GI-ENC-001")
    def test_outside_prod_encryption_with_the_default_key_is_enough(self):
        recipe = {**RECIPE, "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "true"}}]}
        assert check("GI-ENC-001", r.IMAGE_RECIPE, recipe, DEV) == []
        assert check("GI-ENC-001", r.DISTRIBUTION_CONFIGURATION, _distribution(kms=None), DEV) == []
        assert check("GI-ENC-001", r.COMPONENT, {"name": "os-updates", "data": "x"}, DEV) == []

    @violates("GI-ENC-001")
    @pytest.mark.parametrize("ebs", [{"encrypted": "false"}, {"volumeSize": 30.0}])
    def test_unencrypted_or_inherited_volume_violates_everywhere(self, ebs):
        recipe = {**RECIPE, "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": ebs}]}
        (message,) = check("GI-ENC-001", r.IMAGE_RECIPE, recipe, DEV)
        assert message.startswith(f"/dev/sda1: ebs.encrypted is {ebs.get('encrypted')!r}")

    @violates("GI-ENC-001")
    def test_recipe_without_an_ebs_mapping_violates(self):
        (message,) = check("GI-ENC-001", r.IMAGE_RECIPE, {**RECIPE, "blockDeviceMappings": []}, DEV)
        assert "no EBS volume" in message

    @violates("GI-ENC-001")
    @pytest.mark.parametrize("key", [None, "alias/aws/ebs", f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/aws/ebs"])
    def test_prod_needs_a_customer_managed_key(self, key):
        ebs = {"encrypted": "true", **({"kmsKeyId": key} if key else {})}
        recipe = {**RECIPE, "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": ebs}]}
        (message,) = check("GI-ENC-001", r.IMAGE_RECIPE, recipe, PROD)
        assert "customer-managed KMS key (stack prod)" in message

    @violates("GI-ENC-001")
    def test_prod_distribution_and_component_need_a_key(self):
        (message,) = check("GI-ENC-001", r.DISTRIBUTION_CONFIGURATION, _distribution(kms=None, region="us-east-1"), PROD)
        assert message.startswith("us-east-1: amiDistributionConfiguration.kmsKeyId")
        assert check("GI-ENC-001", r.COMPONENT, {"name": "os-updates", "data": "x"}, PROD)

    def test_key_created_in_the_same_preview_counts_as_present(self):
        recipe = {**RECIPE, "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "true", "kmsKeyId": UNKNOWN}}]}
        assert check("GI-ENC-001", r.IMAGE_RECIPE, recipe, PROD) == []


# Sharing -----------------------------------------------------------------------------------

OU = "arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdef3456"
SHARING = Context(
    stack="prod",
    customer_key_required=True,
    launch_account_ids=frozenset({"210987654321", "345678901234"}),
    launch_organizational_unit_arns=frozenset({OU}),
    target_account_ids=frozenset({"210987654321"}),
)


class TestNoPublicLaunch:
    @passes("GI-SHARE-001")
    def test_sharing_with_accounts_passes(self):
        dist = _distribution(launch={"userIds": ["210987654321"]})
        assert check("GI-SHARE-001", r.DISTRIBUTION_CONFIGURATION, dist) == []
        assert check("GI-SHARE-001", r.GALLERY, {"galleryName": "goldenimages", "sharingProfile": {"permissions": "Private"}}) == []

    @violates("GI-SHARE-001")
    def test_user_group_all_violates(self):
        dist = _distribution(launch={"userGroups": ["all"]})
        (message,) = check("GI-SHARE-001", r.DISTRIBUTION_CONFIGURATION, dist)
        assert "userGroups includes 'all'" in message
        assert check("GI-SHARE-001", r.AMI_LAUNCH_PERMISSION, {"imageId": "ami-0123456789abcdef0", "group": "all"})

    @violates("GI-SHARE-001")
    def test_community_gallery_violates(self):
        gallery = {"galleryName": "goldenimages", "sharingProfile": {"permissions": "Community"}}
        (message,) = check("GI-SHARE-001", r.GALLERY, gallery)
        assert "Community" in message


class TestSharingAllowlist:
    @passes("GI-SHARE-002")
    def test_configured_accounts_and_ous_pass(self):
        dist = _distribution(launch={"userIds": ["210987654321", "345678901234"], "organizationalUnitArns": [OU]},
                             targets=["210987654321"])
        assert check("GI-SHARE-002", r.DISTRIBUTION_CONFIGURATION, dist, SHARING) == []
        assert check("GI-SHARE-002", r.DISTRIBUTION_CONFIGURATION, _distribution(), DEV) == []

    @violates("GI-SHARE-002")
    def test_unlisted_account_violates(self):
        dist = _distribution(launch={"userIds": ["210987654321", "999999999999"]})
        (message,) = check("GI-SHARE-002", r.DISTRIBUTION_CONFIGURATION, dist, SHARING)
        assert message == ("eu-west-1: launchPermission.userIds shares with 999999999999, not listed in "
                           "golden-images:aws.launch_permissions.account_ids")

    @violates("GI-SHARE-002")
    def test_unlisted_organization_ou_and_target_account_violate(self):
        org = "arn:aws:organizations::123456789012:organization/o-zzzzzzzzzz"
        dist = _distribution(launch={"organizationArns": [org], "organizationalUnitArns": [OU + "x"]},
                             targets=["345678901234"])
        found = check("GI-SHARE-002", r.DISTRIBUTION_CONFIGURATION, dist, SHARING)
        assert [m.split(" shares")[0].split(" copies")[0] for m in found] == [
            "eu-west-1: launchPermission.organizationArns",
            "eu-west-1: launchPermission.organizationalUnitArns",
            "eu-west-1: targetAccountIds",
        ]

    @violates("GI-SHARE-002")
    def test_a_stack_without_sharing_config_shares_with_no_one(self):
        dist = _distribution(launch={"userIds": ["210987654321"]})
        assert check("GI-SHARE-002", r.DISTRIBUTION_CONFIGURATION, dist, DEV)


# Logs and notifications --------------------------------------------------------------------

ALL_BLOCKED = {k: True for k in r.PUBLIC_ACCESS_SETTINGS}


def _bucket_with(*, block=ALL_BLOCKED, encryption="aws:kms", acl=None):
    bucket = resource(r.BUCKETS[0], {"bucket": "golden-images-logs-dev", "forceDestroy": False}, "logs")
    found = [bucket]
    if block is not None:
        found.append(resource(r.PUBLIC_ACCESS_BLOCK, {"bucket": "golden-images-logs-dev", **block}, "logs-private"))
    if encryption is not None:
        rules_ = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": encryption, "kmsMasterKeyId": KEY_ARN},
                   "bucketKeyEnabled": True}]
        found.append(resource(r.BUCKET_ENCRYPTION[0], {"bucket": "golden-images-logs-dev", "rules": rules_}, "logs-sse"))
    if acl is not None:
        found.append(resource(r.BUCKET_ACLS[0], {"bucket": "golden-images-logs-dev", "acl": acl}, "logs-acl"))
    return found


class TestBucketsPrivate:
    @passes("GI-LOG-001")
    def test_bucket_with_full_public_access_block_passes(self):
        assert violations("GI-LOG-001", _bucket_with()) == []

    @passes("GI-LOG-001")
    def test_block_found_through_its_dependency_when_the_name_is_generated(self):
        bucket = resource(r.BUCKETS[0], {"forceDestroy": False}, "logs")
        block = resource(r.PUBLIC_ACCESS_BLOCK, {"bucket": UNKNOWN, **ALL_BLOCKED}, "logs-private", deps=[bucket])
        assert violations("GI-LOG-001", [bucket, block]) == []

    @violates("GI-LOG-001")
    def test_bucket_without_public_access_block_violates(self):
        (found,) = violations("GI-LOG-001", _bucket_with(block=None))
        assert (found.rule, found.name) == ("GI-LOG-001", "logs")
        assert "has no BucketPublicAccessBlock" in found.message

    @violates("GI-LOG-001")
    def test_block_with_a_setting_off_violates(self):
        (found,) = violations("GI-LOG-001", _bucket_with(block={**ALL_BLOCKED, "restrictPublicBuckets": False}))
        assert "leaves restrictPublicBuckets off" in found.message

    @violates("GI-LOG-001")
    def test_public_acl_violates(self):
        (found,) = violations("GI-LOG-001", _bucket_with(acl="public-read"))
        assert "canned ACL 'public-read'" in found.message

    def test_block_of_another_bucket_does_not_count(self):
        other = resource(r.PUBLIC_ACCESS_BLOCK, {"bucket": "someone-elses-bucket", **ALL_BLOCKED}, "other")
        bucket = _bucket_with(block=None)
        assert len(violations("GI-LOG-001", bucket + [other])) == 1


class TestBucketsEncrypted:
    @passes("GI-LOG-002")
    def test_bucket_with_default_encryption_passes(self):
        assert violations("GI-LOG-002", _bucket_with()) == []
        assert violations("GI-LOG-002", _bucket_with(encryption="AES256")) == []

    @passes("GI-LOG-002")
    def test_inline_encryption_of_the_deprecated_bucket_arguments_passes(self):
        inline = {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}}
        bucket = resource(r.BUCKETS[0], {"bucket": "logs", "serverSideEncryptionConfiguration": inline}, "logs")
        assert violations("GI-LOG-002", [bucket]) == []

    @violates("GI-LOG-002")
    def test_bucket_without_encryption_violates(self):
        (found,) = violations("GI-LOG-002", _bucket_with(encryption=None))
        assert found.name == "logs" and "has no default encryption" in found.message

    @violates("GI-LOG-002")
    def test_unknown_algorithm_violates(self):
        (found,) = violations("GI-LOG-002", _bucket_with(encryption="none"))
        assert "sseAlgorithm 'none'" in found.message


class TestTopicEncrypted:
    @passes("GI-LOG-003")
    def test_topic_with_key_passes(self):
        assert check("GI-LOG-003", r.TOPIC, {"name": "golden-images-builds", "kmsMasterKeyId": KEY_ARN}) == []

    @violates("GI-LOG-003")
    def test_topic_without_key_violates(self):
        (message,) = check("GI-LOG-003", r.TOPIC, {"name": "golden-images-builds"})
        assert message.startswith("kmsMasterKeyId is not set")


# IAM and Azure RBAC ------------------------------------------------------------------------

SCOPED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::golden-images-logs-dev/*"},
        {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": KEY_ARN},
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ],
}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


class TestNoWildcardPolicy:
    @passes("GI-IAM-001")
    def test_scoped_policies_pass(self):
        assert check("GI-IAM-001", "aws:iam/policy:Policy", {"policy": json.dumps(SCOPED_POLICY)}) == []
        assert check("GI-IAM-001", "aws:iam/rolePolicy:RolePolicy", {"role": "build", "policy": json.dumps(SCOPED_POLICY)}) == []
        role_def = {"permissions": [{"actions": ["Microsoft.Compute/galleries/images/versions/write"]}]}
        assert check("GI-IAM-001", r.ROLE_DEFINITION, role_def) == []

    @violates("GI-IAM-001")
    @pytest.mark.parametrize("typ", ["aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"])
    def test_action_star_on_resource_star_violates(self, typ):
        (message,) = check("GI-IAM-001", typ, {"role": "build", "policy": json.dumps(ADMIN_POLICY)})
        assert message == "policy Statement[0] allows Action '*' on Resource '*' (administrator access)"

    @violates("GI-IAM-001")
    def test_not_action_and_role_inline_policies_violate(self):
        not_action = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": ["*"]}]}
        role = {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "everything", "policy": json.dumps(not_action)}]}
        (message,) = check("GI-IAM-001", r.IAM_ROLE, role)
        assert message.startswith("inlinePolicies[0] (everything) Statement[0] allows everything except NotAction")

    @violates("GI-IAM-001")
    def test_custom_role_with_every_action_violates(self):
        (message,) = check("GI-IAM-001", r.ROLE_DEFINITION, {"permissions": [{"actions": ["*"]}]})
        assert "permissions[0].actions includes '*'" in message


class TestNoAdministratorPolicies:
    @passes("GI-IAM-002")
    def test_image_builder_policies_pass(self):
        for arn in ("arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
                    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"):
            assert check("GI-IAM-002", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                         {"role": "build", "policyArn": arn}) == []

    @violates("GI-IAM-002")
    @pytest.mark.parametrize("name", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"])
    def test_administrator_attachment_violates(self, name):
        arn = f"arn:aws:iam::aws:policy/{name}"
        (message,) = check("GI-IAM-002", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "build", "policyArn": arn})
        assert message.startswith(f"attaches {arn}")

    @violates("GI-IAM-002")
    def test_role_managed_policy_arns_violate(self):
        role = {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}
        assert check("GI-IAM-002", r.IAM_ROLE, role)


def _assignment(role_guid: str, scope: str) -> dict:
    return {
        "principalId": "5a7c2d9e-0b1f-4e3a-8c6d-2f9b1e7a4c30",
        "principalType": "ServicePrincipal",
        "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}",
        "scope": scope,
    }


class TestNoPrivilegedAssignment:
    @passes("GI-AZ-001")
    def test_custom_role_and_narrow_scopes_pass(self):
        custom = "0f0e0d0c-0b0a-4090-8070-605040302010"
        assert check("GI-AZ-001", r.ROLE_ASSIGNMENT, _assignment(custom, f"/subscriptions/{SUBSCRIPTION}")) == []
        group = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/golden-images-staging"
        assert check("GI-AZ-001", r.ROLE_ASSIGNMENT, _assignment(READER, f"/subscriptions/{SUBSCRIPTION}")) == []
        assert check("GI-AZ-001", r.ROLE_ASSIGNMENT, _assignment(CONTRIBUTOR, group)) == []

    @violates("GI-AZ-001")
    @pytest.mark.parametrize("guid,role", [(OWNER, "Owner"), (CONTRIBUTOR, "Contributor")])
    def test_owner_or_contributor_on_the_subscription_violates(self, guid, role):
        (message,) = check("GI-AZ-001", r.ROLE_ASSIGNMENT, _assignment(guid, f"/subscriptions/{SUBSCRIPTION}/"))
        assert message.startswith(f"assigns built-in role {role} at scope /subscriptions/{SUBSCRIPTION}")

    @violates("GI-AZ-001")
    @pytest.mark.parametrize("scope", ["/providers/Microsoft.Management/managementGroups/platform", "/"])
    def test_management_group_and_root_scopes_violate(self, scope):
        assert check("GI-AZ-001", r.ROLE_ASSIGNMENT, _assignment(OWNER, scope))


class TestTemplateIdentity:
    @passes("GI-AZ-002")
    def test_one_user_assigned_identity_passes(self):
        assert check("GI-AZ-002", r.IMAGE_TEMPLATE, TEMPLATE) == []
        # pulumi-policy stack validation sees outputs, where the identities are a map.
        as_output = {**TEMPLATE, "identity": {"type": "UserAssigned", "userAssignedIdentities": {TEMPLATE_ID: {}}}}
        assert check("GI-AZ-002", r.IMAGE_TEMPLATE, as_output) == []

    @violates("GI-AZ-002")
    @pytest.mark.parametrize("kind", ["SystemAssigned", "SystemAssigned, UserAssigned", "None"])
    def test_other_identity_types_violate(self, kind):
        (message,) = check("GI-AZ-002", r.IMAGE_TEMPLATE, {**TEMPLATE, "identity": {"type": kind}})
        assert message.startswith(f"identity.type is '{kind}'")

    @violates("GI-AZ-002")
    def test_two_identities_violate(self):
        two = {"type": "UserAssigned", "userAssignedIdentities": [TEMPLATE_ID, TEMPLATE_ID + "2"]}
        (message,) = check("GI-AZ-002", r.IMAGE_TEMPLATE, {**TEMPLATE, "identity": two})
        assert "lists 2 identities" in message


def _azure_factory(*, role_guid=None, custom_actions=("Microsoft.Compute/galleries/images/versions/write",)):
    """A template, its identity, the factory's custom role and one assignment of role_guid (default: the custom role)."""
    identity = resource(r.USER_ASSIGNED_IDENTITY, {"resourceGroupName": "golden-images", "resourceName": "aib-template"}, "aib-template")
    custom_guid = "0f0e0d0c-0b0a-4090-8070-605040302010"
    definition = resource(r.ROLE_DEFINITION, {
        "roleDefinitionId": custom_guid,
        "roleName": "golden-images-image-builder",
        "scope": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/golden-images",
        "permissions": [{"actions": list(custom_actions)}],
    }, "aib-role")
    assignment = resource(r.ROLE_ASSIGNMENT, _assignment(role_guid or custom_guid, f"/subscriptions/{SUBSCRIPTION}/resourceGroups/golden-images"),
                          "aib-role-assignment", deps=[identity, definition])
    template = resource(r.IMAGE_TEMPLATE, TEMPLATE, "ubuntu-2404", deps=[identity, assignment])
    return [identity, definition, assignment, template]


class TestTemplateIdentityRoles:
    @passes("GI-AZ-003")
    def test_identity_with_only_the_custom_role_passes(self):
        assert violations("GI-AZ-003", _azure_factory()) == []

    @passes("GI-AZ-003")
    def test_role_definition_known_only_through_its_link_passes(self):
        identity, definition, assignment, template = _azure_factory()
        generated = resource(r.ROLE_DEFINITION, {**{k: v for k, v in definition.inputs.items() if k != "roleDefinitionId"}}, "aib-role")
        linked = resource(r.ROLE_ASSIGNMENT, {**assignment.inputs, "roleDefinitionId": UNKNOWN}, "aib-role-assignment",
                          deps=[identity, generated], links={"principalId": [identity], "roleDefinitionId": [generated]})
        assert violations("GI-AZ-003", [identity, generated, linked, template]) == []

    @passes("GI-AZ-003")
    def test_outputs_seen_after_an_update_pass(self):
        identity, definition, assignment, template = _azure_factory()
        scope = definition.inputs["scope"]
        created = resource(r.USER_ASSIGNED_IDENTITY, {"name": "aib-template", "principalId": "p"}, "aib-template")
        role = resource(r.ROLE_DEFINITION, {"id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/0f0e0d0c-0b0a-4090-8070-605040302010",
                                            "roleName": "golden-images-image-builder", "permissions": [{"actions": ["Microsoft.Compute/images/write"]}]}, "aib-role")
        granted = resource(r.ROLE_ASSIGNMENT, assignment.inputs, "aib-role-assignment", deps=[created, role])
        assert violations("GI-AZ-003", [created, role, granted, template]) == []
        reader = resource(r.ROLE_ASSIGNMENT, _assignment(READER, scope), "aib-reader", deps=[created])
        assert [v.name for v in violations("GI-AZ-003", [created, role, granted, reader, template])] == ["aib-template"]

    @violates("GI-AZ-003")
    @pytest.mark.parametrize("guid,held", [(CONTRIBUTOR, "Contributor"), (READER, f"built-in role {READER}")])
    def test_identity_holding_a_built_in_role_violates(self, guid, held):
        (found,) = violations("GI-AZ-003", _azure_factory(role_guid=guid))
        assert found.name == "aib-template"
        assert found.message.startswith(f"template identity holds {held} through role assignment aib-role-assignment")

    @violates("GI-AZ-003")
    def test_built_in_role_violates_even_next_to_a_generated_custom_role(self):
        identity, definition, assignment, template = _azure_factory(role_guid=OWNER)
        generated = resource(r.ROLE_DEFINITION, {k: v for k, v in definition.inputs.items() if k != "roleDefinitionId"}, "aib-role")
        owner = resource(r.ROLE_ASSIGNMENT, assignment.inputs, "aib-role-assignment", deps=[identity, generated])
        (found,) = violations("GI-AZ-003", [identity, generated, owner, template])
        assert found.message.startswith("template identity holds Owner")

    @violates("GI-AZ-003")
    def test_custom_role_that_changes_access_control_violates(self):
        actions = ("Microsoft.Compute/galleries/images/versions/write", "Microsoft.Authorization/roleAssignments/write")
        (found,) = violations("GI-AZ-003", _azure_factory(custom_actions=actions))
        assert "change access control (Microsoft.Authorization/roleAssignments/write)" in found.message

    def test_assignments_of_other_identities_are_not_judged(self):
        identity, definition, assignment, template = _azure_factory()
        workflow_identity = resource(r.USER_ASSIGNED_IDENTITY, {"resourceName": "scheduler"}, "scheduler")
        other = resource(r.ROLE_ASSIGNMENT, _assignment(CONTRIBUTOR, f"/subscriptions/{SUBSCRIPTION}/resourceGroups/golden-images"),
                         "scheduler-runs-templates", deps=[workflow_identity])
        assert violations("GI-AZ-003", [identity, definition, assignment, template, workflow_identity, other]) == []


# Secrets -----------------------------------------------------------------------------------


class TestNoSecrets:
    @passes("GI-SECRET-001")
    def test_checksums_references_and_commit_tags_pass(self):
        component = {"name": "dotnet-runtime", "platform": "Windows", "version": "1.0.0", "data": component_document(),
                     "tags": {"source-commit": "cc9a287e3b1f0a9d8c7b6a5f4e3d2c1b0a9f8e7d", "flavour": "windows-2022-core-dotnet"}}
        assert check("GI-SECRET-001", r.COMPONENT, component) == []
        assert check("GI-SECRET-001", r.IMAGE_TEMPLATE, TEMPLATE) == []
        script = ["$ErrorActionPreference = 'Stop'", f'$expected = "{SHA256}"',
                  '$apiKey = "https://kv-golden.vault.azure.net/secrets/datadog-api-key"']
        customize = [{"type": "PowerShell", "name": "datadog-agent", "inline": script}]
        assert check("GI-SECRET-001", r.IMAGE_TEMPLATE, {**TEMPLATE, "customize": customize}) == []
        assert check("GI-SECRET-001", r.IMAGE_RECIPE, {**RECIPE, "userDataBase64": b64("#!/bin/bash\necho ready\n")}) == []

    @violates("GI-SECRET-001")
    def test_password_in_a_component_document_violates(self):
        data = component_document(f'- $env:DB_PASSWORD = "{FAKE_PASSWORD}"')
        (message,) = check("GI-SECRET-001", r.COMPONENT, {"name": "app", "data": data})
        assert message.startswith("data line 19 looks like a secret (Secret Keyword)")
        assert FAKE_PASSWORD not in message

    @violates("GI-SECRET-001")
    def test_key_in_any_tag_map_violates(self):
        inputs = {**RECIPE, "amiTags": {"deploy-key": FAKE_AWS_KEY}}
        (message,) = check("GI-SECRET-001", r.IMAGE_RECIPE, inputs)
        assert message.startswith("amiTags.deploy-key looks like a secret (AWS Access Key")
        dist = _distribution()
        dist["distributions"][0]["amiDistributionConfiguration"]["amiTags"] = {"token": FAKE_AWS_KEY}
        assert check("GI-SECRET-001", r.DISTRIBUTION_CONFIGURATION, dist)
        provider = {"region": "eu-west-1", "defaultTags": {"tags": {"owner": "platform-team", "token": FAKE_AWS_KEY}}}
        (message,) = check("GI-SECRET-001", "pulumi:providers:aws", provider)
        assert message.startswith("defaultTags.tags.token looks like a secret")

    @violates("GI-SECRET-001")
    def test_secret_in_a_customizer_script_violates(self):
        customize = [{"type": "PowerShell", "name": "agent", "inline": ["$ErrorActionPreference = 'Stop'",
                                                                         f'$password = "{FAKE_PASSWORD}"']}]
        (message,) = check("GI-SECRET-001", r.IMAGE_TEMPLATE, {**TEMPLATE, "customize": customize})
        assert message.startswith("customize[0] (agent) line 2 looks like a secret")

    @passes("GI-SECRET-001")
    def test_scripts_embedded_as_base64_are_scanned_as_scripts(self):
        clean = b64("#!/usr/bin/env bash\nexport GI_STEP='os-updates'\napt-get -y dist-upgrade\n" * 3)
        inline = ["set -eu", f"printf '%s' '{clean}' | base64 -d > /tmp/step.sh", "sudo bash /tmp/step.sh"]
        customize = [{"type": "Shell", "name": "01-os-updates-install", "inline": inline}]
        assert check("GI-SECRET-001", r.IMAGE_TEMPLATE, {**TEMPLATE, "customize": customize}) == []

    @violates("GI-SECRET-001")
    def test_secret_inside_an_embedded_script_violates(self):
        leaky = b64(f"#!/usr/bin/env bash\nexport GI_STEP='agent'\nexport DB_PASSWORD=\"{FAKE_PASSWORD}\"\n")
        inline = ["set -eu", f"printf '%s' '{leaky}' | base64 -d > /tmp/step.sh", "sudo bash /tmp/step.sh"]
        customize = [{"type": "Shell", "name": "03-agent-install", "inline": inline}]
        (message,) = check("GI-SECRET-001", r.IMAGE_TEMPLATE, {**TEMPLATE, "customize": customize})
        assert message.startswith("customize[0] (03-agent-install) embedded script 1 line 3 looks like a secret (Secret Keyword)")

    @violates("GI-SECRET-001")
    def test_secret_in_user_data_recipe_parameters_and_commands_violates(self):
        recipe = {**RECIPE, "userDataBase64": b64(f"#!/bin/bash\nexport AWS_ACCESS_KEY_ID={FAKE_AWS_KEY}\n")}
        assert check("GI-SECRET-001", r.IMAGE_RECIPE, recipe)[0].startswith("userDataBase64 line 2")
        params = {**RECIPE, "components": [{"componentArn": "arn", "parameters": [{"name": "apiKey", "value": FAKE_AWS_KEY}]}]}
        assert check("GI-SECRET-001", r.IMAGE_RECIPE, params)[0].startswith("components[0].parameters[0] (apiKey)")
        command = {"create": "aws imagebuilder start-image-pipeline-execution", "environment": {"AWS_SECRET": FAKE_AWS_KEY}}
        assert check("GI-SECRET-001", "command:local:Command", command)[0].startswith("environment.AWS_SECRET")


# Pipelines ---------------------------------------------------------------------------------

PIPELINE = {
    "name": "ubuntu-2404",
    "imageRecipeArn": f"arn:aws:imagebuilder:eu-west-1:{ACCOUNT}:image-recipe/ubuntu-2404-ab12cd34/1.0.0",
    "infrastructureConfigurationArn": f"arn:aws:imagebuilder:eu-west-1:{ACCOUNT}:infrastructure-configuration/golden-images",
    "schedule": {"scheduleExpression": "cron(0 2 ? * SUN *)", "timezone": "Europe/Amsterdam",
                 "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"},
    "imageTestsConfiguration": {"imageTestsEnabled": True, "timeoutMinutes": 90.0},
    "status": "ENABLED",
}


def _recurrence_workflow(template, *, state="Enabled", trigger="Recurrence"):
    definition = {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
        "triggers": {"schedule": {"type": trigger, "recurrence": {"frequency": "Week", "interval": 1,
                                                                  "timeZone": "W. Europe Standard Time"}}},
        "actions": {"run": {"type": "Http", "inputs": {"method": "POST", "uri": UNKNOWN,
                                                        "authentication": {"type": "ManagedServiceIdentity"}}}},
    }
    return resource(r.LOGIC_WORKFLOW, {"workflowName": "rebuild-ubuntu-2404", "state": state, "definition": definition},
                    "rebuild-ubuntu-2404", deps=[template])


class TestScheduled:
    @passes("GI-PIPE-001")
    def test_scheduled_pipeline_and_template_pass(self):
        pipeline = resource(r.IMAGE_PIPELINE, PIPELINE, "ubuntu-2404")
        template = resource(r.IMAGE_TEMPLATE, TEMPLATE, "ubuntu-2404-template")
        assert violations("GI-PIPE-001", [pipeline, template, _recurrence_workflow(template)]) == []

    @violates("GI-PIPE-001")
    def test_pipeline_without_schedule_violates(self):
        pipeline = resource(r.IMAGE_PIPELINE, {k: v for k, v in PIPELINE.items() if k != "schedule"}, "ubuntu-2404")
        (found,) = violations("GI-PIPE-001", [pipeline])
        assert found.message.startswith("has no schedule.scheduleExpression")

    @violates("GI-PIPE-001")
    def test_default_start_condition_and_disabled_pipeline_violate(self):
        schedule = {"scheduleExpression": "cron(0 2 ? * SUN *)"}
        pipeline = resource(r.IMAGE_PIPELINE, {**PIPELINE, "schedule": schedule, "status": "DISABLED"}, "ubuntu-2404")
        found = [v.message for v in violations("GI-PIPE-001", [pipeline])]
        assert found[0].startswith("schedule.pipelineExecutionStartCondition is None")
        assert found[1].startswith("status is 'DISABLED'")

    @violates("GI-PIPE-001")
    def test_template_without_recurring_workflow_violates(self):
        template = resource(r.IMAGE_TEMPLATE, TEMPLATE, "ubuntu-2404-template")
        for extra in ([], [_recurrence_workflow(template, state="Disabled")], [_recurrence_workflow(template, trigger="Request")]):
            (found,) = violations("GI-PIPE-001", [template, *extra])
            assert found.name == "ubuntu-2404-template"
            assert found.message.startswith("no enabled Logic App workflow with a Recurrence trigger")


class TestTested:
    @passes("GI-PIPE-002")
    def test_pipeline_and_template_with_tests_pass(self):
        assert check("GI-PIPE-002", r.IMAGE_PIPELINE, PIPELINE) == []
        assert check("GI-PIPE-002", r.IMAGE_TEMPLATE, TEMPLATE) == []

    @violates("GI-PIPE-002")
    @pytest.mark.parametrize("tests", [None, {"imageTestsEnabled": False}, {"timeoutMinutes": 90.0}])
    def test_pipeline_without_explicit_tests_violates(self, tests):
        inputs = {**PIPELINE, "imageTestsConfiguration": tests}
        (message,) = check("GI-PIPE-002", r.IMAGE_PIPELINE, inputs)
        assert message.startswith("imageTestsConfiguration.imageTestsEnabled is")

    @violates("GI-PIPE-002")
    def test_template_without_in_vm_validations_violates(self):
        validate = {"inVMValidations": [], "sourceValidationOnly": True, "continueDistributeOnFailure": True}
        found = check("GI-PIPE-002", r.IMAGE_TEMPLATE, {**TEMPLATE, "validate": validate})
        assert [m.split(" ")[0] for m in found] == [
            "validate.inVMValidations", "validate.sourceValidationOnly", "validate.continueDistributeOnFailure"]


class TestRecordedDecisions:
    """A flavour that turns its schedule or image tests off on purpose gets a warning, not an error."""

    NO_SCHEDULE = {"golden-images:no-schedule": "built before each EKS upgrade"}
    NO_TESTS = {"golden-images:no-image-tests": "tested by the cluster conformance suite"}

    @passes("GI-PIPE-003")
    def test_scheduled_pipeline_passes(self):
        assert check("GI-PIPE-003", r.IMAGE_PIPELINE, PIPELINE) == []

    @violates("GI-PIPE-003")
    def test_recorded_no_schedule_warns_and_is_not_a_pipe_001_error(self):
        inputs = {k: v for k, v in PIPELINE.items() if k != "schedule"} | {"tags": self.NO_SCHEDULE}
        (message,) = check("GI-PIPE-003", r.IMAGE_PIPELINE, inputs)
        assert message.startswith("no scheduled rebuilds (built before each EKS upgrade): the image ages without patches")
        assert violations("GI-PIPE-001", [resource(r.IMAGE_PIPELINE, inputs, "eks-node")]) == []
        template = resource(r.IMAGE_TEMPLATE, {**TEMPLATE, "tags": self.NO_SCHEDULE}, "eks-node-template")
        assert violations("GI-PIPE-001", [template]) == []
        assert [rule.enforcement for rule in RULES if rule.id == "GI-PIPE-003"] == ["advisory"]

    @passes("GI-PIPE-004")
    def test_tested_pipeline_passes(self):
        assert check("GI-PIPE-004", r.IMAGE_PIPELINE, PIPELINE) == []

    @violates("GI-PIPE-004")
    def test_recorded_no_tests_warns_and_is_not_a_pipe_002_error(self):
        inputs = {**PIPELINE, "imageTestsConfiguration": {"imageTestsEnabled": False}, "tags": self.NO_TESTS}
        (message,) = check("GI-PIPE-004", r.IMAGE_PIPELINE, inputs)
        assert message.startswith("image tests are off (tested by the cluster conformance suite)")
        assert check("GI-PIPE-002", r.IMAGE_PIPELINE, inputs) == []
        # Without the recorded reason, turning tests off stays an error.
        assert check("GI-PIPE-002", r.IMAGE_PIPELINE, {**inputs, "tags": {}}) != []


# Flavours ----------------------------------------------------------------------------------

CATEGORIES = {"os-updates": "updates", "cis-baseline": "hardening", "dotnet-runtime": "software"}


def _flavours(**steps):
    context = Context(stack="dev", flavour_steps=steps, step_categories=CATEGORIES)
    resources = [resource(r.GOLDEN_IMAGE, {}, name) for name in steps]
    return resources, context


class TestFlavourSteps:
    @passes("GI-FLAV-001")
    @passes("GI-FLAV-002")
    def test_flavour_with_updates_and_hardening_passes(self):
        resources, context = _flavours(web=("os-updates", "dotnet-runtime", "cis-baseline"))
        assert violations("GI-FLAV-001", resources, context) == []
        assert violations("GI-FLAV-002", resources, context) == []

    @violates("GI-FLAV-001")
    def test_flavour_without_updates_violates(self):
        resources, context = _flavours(web=("dotnet-runtime", "cis-baseline"))
        (found,) = violations("GI-FLAV-001", resources, context)
        assert (found.name, found.urn) == ("web", resources[0].urn)
        assert found.message == ("steps [dotnet-runtime, cis-baseline] include no 'updates' step (every image carries "
                                 "the latest patches; catalogue steps: os-updates)")

    @violates("GI-FLAV-002")
    def test_flavour_without_hardening_violates(self):
        resources, context = _flavours(web=("os-updates",), api=("os-updates", "cis-baseline"))
        (found,) = violations("GI-FLAV-002", resources, context)
        assert found.name == "web" and "no 'hardening' step" in found.message


    def test_a_layered_flavour_is_judged_by_everything_its_image_holds(self):
        from policy.context import flavour_steps_from_summaries

        summaries = {
            "base": {"steps": ["os-updates", "cis-baseline"]},
            # Its own build runs no hardening step: the base's is in the image.
            "iis": {"steps": ["os-updates", "dotnet-runtime"], "built_on": "base",
                    "image_steps": ["os-updates", "cis-baseline", "dotnet-runtime"]},
            "bare": {"steps": ["os-updates"], "built_on": "none", "image_steps": ["os-updates"]},
        }
        steps = flavour_steps_from_summaries(summaries)
        assert steps["iis"] == ("os-updates", "cis-baseline", "dotnet-runtime")
        resources, context = _flavours(**steps)
        (found,) = violations("GI-FLAV-002", resources, context)
        assert found.name == "bare"


# The rule set ------------------------------------------------------------------------------


def test_rule_ids_are_unique_and_well_formed():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert r.re.fullmatch(r"GI-[A-Z]+-\d{3}", rule.id), rule.id
        assert rule.enforcement in ("mandatory", "advisory")
        assert (rule.check is None) != (rule.check_stack is None), rule.id
        assert rule.title and rule.rationale.endswith(".") and "\n" not in rule.rationale


def _proven() -> set:
    """(rule id, 'passes'|'violates') for every test in this module marked with @passes/@violates."""
    found = set()
    for item in globals().values():
        functions = [v for k, v in vars(item).items() if k.startswith("test_")] if isinstance(item, type) else [item]
        for function in functions:
            for mark in getattr(function, "pytestmark", []):
                if mark.name == "rule":
                    found.add(tuple(mark.args))
    return found


def test_every_rule_has_passing_and_violating_cases():
    proven = _proven()
    missing = [(rule.id, kind) for rule in RULES for kind in ("passes", "violates") if (rule.id, kind) not in proven]
    assert missing == []
