"""Which inputs of a resource cannot change in place: a change to one replaces the resource.

Pulumi replaces a resource when the provider says a changed input is force-new, whatever the
program's `replaceOnChanges` says. The plan does not hold provider schemas, so:

- AWS: the `createOnlyProperties` of the CloudFormation resource provider schemas that
  cfn-lint ships (`cfnlint/data/schemas`: `providers/us-east-1.json` maps a CloudFormation type
  to its schema file under `resources/`), for the pulumi-aws types in `CFN_TYPES`. CloudFormation
  property names are PascalCase; the plan holds pulumi-aws wire names (camelCase), and where
  those are not simply the first letter lowered (`RoleName` is `name`), `CFN_PROPERTIES` says so.
  Both tables are small and explicit on purpose: a type missing from them falls back to
  `FORCE_NEW`, never to a guess.
- pulumi-aws 7 gives every regional resource a `region` input: the region it lives in. A
  resource moved to another region is a new resource there and the old one is deleted.
- `FORCE_NEW`: pulumi-aws force-new inputs the CloudFormation schemas do not list (a KMS key's
  `multiRegion` and key spec, which CloudFormation replaces in its handler), and types with no
  CloudFormation counterpart (policy attachments, S3 bucket sub-resources).
- Azure (`azure-native:*`): a resource's id is made of its resource group and its names, and
  its location is fixed at creation. `location`, `resourceGroupName`, `scope` and every
  top-level input whose name ends in `Name` are create-only, except the display names in
  `AZURE_NOT_IN_ID` (a role definition's `roleName`).

`CreateOnly` reads a schema only when a changed resource of its type is compared, and keeps
what it parsed for its own life; nothing is remembered at module level.
"""
from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# pulumi-aws type -> CloudFormation type whose schema lists the create-only properties.
CFN_TYPES = {
    "aws:imagebuilder/component:Component": "AWS::ImageBuilder::Component",
    "aws:imagebuilder/containerRecipe:ContainerRecipe": "AWS::ImageBuilder::ContainerRecipe",
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": "AWS::ImageBuilder::DistributionConfiguration",
    "aws:imagebuilder/imagePipeline:ImagePipeline": "AWS::ImageBuilder::ImagePipeline",
    "aws:imagebuilder/imageRecipe:ImageRecipe": "AWS::ImageBuilder::ImageRecipe",
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": "AWS::ImageBuilder::InfrastructureConfiguration",
    "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy": "AWS::ImageBuilder::LifecyclePolicy",
    "aws:imagebuilder/workflow:Workflow": "AWS::ImageBuilder::Workflow",
    "aws:kms/key:Key": "AWS::KMS::Key",
    "aws:kms/replicaKey:ReplicaKey": "AWS::KMS::ReplicaKey",
    "aws:kms/alias:Alias": "AWS::KMS::Alias",
    "aws:s3/bucket:Bucket": "AWS::S3::Bucket",
    "aws:s3/bucketPolicy:BucketPolicy": "AWS::S3::BucketPolicy",
    "aws:iam/role:Role": "AWS::IAM::Role",
    "aws:iam/rolePolicy:RolePolicy": "AWS::IAM::RolePolicy",
    "aws:iam/instanceProfile:InstanceProfile": "AWS::IAM::InstanceProfile",
    "aws:ssm/parameter:Parameter": "AWS::SSM::Parameter",
    "aws:sns/topic:Topic": "AWS::SNS::Topic",
    "aws:sns/topicSubscription:TopicSubscription": "AWS::SNS::Subscription",
}

# CloudFormation property -> pulumi-aws input(s), where the input is not the property with its
# first letter lowered. An empty tuple: pulumi-aws has no such input.
CFN_PROPERTIES = {
    "AWS::IAM::Role": {"RoleName": ("name",)},
    "AWS::IAM::RolePolicy": {"PolicyName": ("name",), "RoleName": ("role",)},
    "AWS::IAM::InstanceProfile": {"InstanceProfileName": ("name",)},
    "AWS::KMS::Alias": {"AliasName": ("name",)},
    "AWS::S3::Bucket": {"BucketName": ("bucket",), "BucketNamePrefix": ("bucketPrefix",), "BucketNamespace": ()},
    "AWS::SNS::Topic": {"TopicName": ("name",)},
    "AWS::SNS::Subscription": {"TopicArn": ("topic",)},
    "AWS::ImageBuilder::ImageRecipe": {
        "AdditionalInstanceConfiguration": ("systemsManagerAgent", "userDataBase64"),
        "AmiTags": (),
    },
}

# Force-new inputs the CloudFormation schemas do not give, per pulumi type (documented above).
FORCE_NEW = {
    "aws:kms/key:Key": ("multiRegion", "keyUsage", "customerMasterKeySpec", "customKeyStoreId", "xksKeyId"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("bucket", "expectedBucketOwner"),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("bucket", "key"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("bucket",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("bucket",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "bucket", "expectedBucketOwner"),
}

AZURE_CREATE_ONLY = ("location", "resourceGroupName", "scope")
AZURE_NOT_IN_ID = {"azure-native:authorization:RoleDefinition": {"roleName"}}

SCHEMA_INDEX = "providers/us-east-1.json"


@dataclass(frozen=True)
class Forced:
    """A changed input that replaces the resource, and what says so."""

    path: str
    source: str


def cfn_lint_schemas() -> Optional[Path]:
    """cfn-lint's schema folder, found without importing cfn-lint (that costs most of a second)."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "data" / "schemas"
    return folder if (folder / SCHEMA_INDEX).is_file() else None


class CreateOnly:
    """Create-only inputs per resource type, from cfn-lint's schemas and the tables above."""

    def __init__(self, schemas: Optional[Path] = None, use_cfn_lint: bool = True):
        self._folder = schemas if schemas is not None else (cfn_lint_schemas() if use_cfn_lint else None)
        self._index: Optional[dict] = None
        self._parsed: dict = {}  # CloudFormation type -> tuple of input paths, or None

    @property
    def available(self) -> bool:
        """Whether the CloudFormation schemas were found (without them, only the tables count)."""
        return self._folder is not None

    def cfn_paths(self, cfn_type: str) -> Optional[tuple]:
        """The create-only properties of a CloudFormation type as plan input paths (`blockDeviceMappings`,
        `logging.s3Logs`); None when no schema is known for it."""
        if cfn_type not in self._parsed:
            self._parsed[cfn_type] = self._load(cfn_type)
        return self._parsed[cfn_type]

    def _load(self, cfn_type: str) -> Optional[tuple]:
        if self._folder is None:
            return None
        try:
            if self._index is None:
                self._index = json.loads((self._folder / SCHEMA_INDEX).read_text())
            digest = self._index.get(cfn_type)
            if not digest:
                return None
            schema = json.loads((self._folder / "resources" / f"{digest}.json").read_text())
        except (OSError, ValueError):
            return None
        renames = CFN_PROPERTIES.get(cfn_type, {})
        paths: list = []
        for pointer in schema.get("createOnlyProperties") or []:
            parts = [p for p in pointer.split("/") if p][1:]  # drop "properties"
            if not parts:
                continue
            head, rest = parts[0], [_lower_first(p) for p in parts[1:] if p != "*"]
            for top in renames.get(head, (_lower_first(head),)):
                paths.append(".".join([top, *rest]))
        return tuple(dict.fromkeys(paths))

    def forced(self, resource: dict, paths: list) -> list:
        """The changed input paths (`region`, `blockDeviceMappings[0].ebs.kmsKeyId`) of a resource
        that replace it, each with its source."""
        typ = resource.get("type", "")
        rules: list = []  # (input path, source)
        if typ.startswith("aws:"):
            rules.append(("region", "pulumi-aws: the region it lives in"))
            cfn_type = CFN_TYPES.get(typ)
            cfn = self.cfn_paths(cfn_type) if cfn_type else None
            if cfn:
                rules += [(p, f"create-only in {cfn_type}") for p in cfn]
            rules += [(p, "force-new in pulumi-aws") for p in FORCE_NEW.get(typ, ())]
        elif typ.startswith("azure-native:"):
            rules += [(p, "Azure: fixed at creation") for p in AZURE_CREATE_ONLY]
        else:
            rules += [(p, "force-new") for p in FORCE_NEW.get(typ, ())]
        forced = []
        for path in paths:
            top = _top(path)
            source = next((src for rule, src in rules if _covers(rule, path)), None)
            if source is None and typ.startswith("azure-native:") and top.endswith("Name") \
                    and top not in AZURE_NOT_IN_ID.get(typ, ()) and top == path:
                source = "Azure: part of the resource id"
            if source is not None:
                forced.append(Forced(path, source))
        return forced


def _covers(rule: str, path: str) -> bool:
    """A change at `path` touches the create-only input `rule`: the same, inside it, or around it."""
    plain = re.sub(r"\[[^\]]*\]", "", path)
    return plain == rule or plain.startswith(rule + ".") or rule.startswith(plain + ".")


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]
