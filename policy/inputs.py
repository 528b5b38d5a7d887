"""What every guardrail reads: resource types, values not known yet, and wire inputs.

The rules (rules.py) and the secret scan (secret_scan.py) both judge resources by their
type and their inputs in provider wire names (camelCase); this is their shared vocabulary.
Nothing here imports Pulumi.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional


class _Unknown:
    """A value the engine cannot know before the resources it depends on exist."""

    _instance: Optional["_Unknown"] = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


# Resource types ------------------------------------------------------------------------------

INFRASTRUCTURE_CONFIGURATION = "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration"
IMAGE_RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe"
COMPONENT = "aws:imagebuilder/component:Component"
DISTRIBUTION_CONFIGURATION = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
IMAGE_PIPELINE = "aws:imagebuilder/imagePipeline:ImagePipeline"
IMAGEBUILDER_WORKFLOW = "aws:imagebuilder/workflow:Workflow"
AMI_LAUNCH_PERMISSION = "aws:ec2/amiLaunchPermission:AmiLaunchPermission"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
TOPIC = "aws:sns/topic:Topic"
SSM_DOCUMENT = "aws:ssm/document:Document"
IAM_POLICY_DOCUMENTS = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
IAM_ROLE = "aws:iam/role:Role"
IAM_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
IAM_EXCLUSIVE_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
)
IMAGE_TEMPLATE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
USER_ASSIGNED_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
GALLERY = "azure-native:compute:Gallery"
LOGIC_WORKFLOW = "azure-native:logic:Workflow"
COMMANDS = ("command:local:Command", "command:remote:Command")
GOLDEN_IMAGE = "golden-images:index:GoldenImage"


# Reading inputs ------------------------------------------------------------------------------


def value_at(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]...; None when a step is missing, UNKNOWN when a step is unknown."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items_of(value: Any) -> list:
    """A list input as a list (absent: empty; unknown: empty, nothing to judge)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return []


def strings_of(value: Any) -> list:
    """An IAM-style 'string or list of strings' as a list of the known strings."""
    if isinstance(value, str):
        return [value]
    return [v for v in items_of(value) if isinstance(v, str)]
