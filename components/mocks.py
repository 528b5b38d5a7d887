"""The mock engine shared by `make plan` and the tests.

Returns ids and ARNs in the clouds' real formats, derived deterministically from
resource names so two plans of the same code are byte-identical and references
between resources look exactly like they would in a deployment.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
SUBSCRIPTION_ID = "8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48"
TENANT_ID = "3d9e1f7a-6c2b-4e8d-b5a0-71c4e2f9a6d3"
PRINCIPAL_PREFIX = "plan"

# Image Builder resources whose ARN carries "<name>/<version>".
_IMAGEBUILDER_VERSIONED = {
    "aws:imagebuilder/component:Component": "component",
    "aws:imagebuilder/imageRecipe:ImageRecipe": "image-recipe",
}
_IMAGEBUILDER_NAMED = {
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": "infrastructure-configuration",
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": "distribution-configuration",
    "aws:imagebuilder/imagePipeline:ImagePipeline": "image-pipeline",
    "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy": "lifecycle-policy",
    "aws:imagebuilder/workflow:Workflow": "workflow",
}

# azure-native type token -> (resource provider path, name input, parent segments).
_AZURE_TYPES = {
    "azure-native:compute:Gallery": ("Microsoft.Compute/galleries", "galleryName"),
    "azure-native:compute:GalleryImage": ("Microsoft.Compute/galleries/{galleryName}/images", "galleryImageName"),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "resourceName",
    ),
    "azure-native:virtualmachineimages:VirtualMachineImageTemplate": (
        "Microsoft.VirtualMachineImages/imageTemplates",
        "imageTemplateName",
    ),
    "azure-native:virtualmachineimages:Trigger": (
        "Microsoft.VirtualMachineImages/imageTemplates/{imageTemplateName}/triggers",
        "triggerName",
    ),
    "azure-native:logic:Workflow": ("Microsoft.Logic/workflows", "workflowName"),
}


def stable_guid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))


def _short(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def autoname(name: str) -> str:
    """The physical name the mocks give a resource the program lets Pulumi name."""
    return f"{name}-{_short(name)}"


def kms_key_id(name: str, multi_region: bool = False) -> str:
    """The id the mocks give a KMS key; multi-Region keys carry AWS's mrk- prefix."""
    key_id = stable_guid("kms", name)
    return "mrk-" + key_id.replace("-", "") if multi_region else key_id


class PlanMocks(pulumi.runtime.Mocks):
    """Provider stand-ins: echo inputs, add the outputs a real create would return."""

    def __init__(self, aws_region: str = "eu-west-1"):
        self.aws_region = aws_region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        typ, name = args.typ, args.name
        if not args.custom:
            return "", {}
        if typ.startswith("aws:"):
            return self._aws(typ, name, inputs)
        if typ.startswith("azure-native:"):
            rid, state = self._azure(typ, name, inputs)
            if args.resource_id:
                # An imported resource keeps the id it was imported by, as the engine's import does.
                return args.resource_id, {**state, "id": args.resource_id}
            return rid, state
        if typ.startswith("pulumi:providers:"):
            return f"{name}-provider", inputs
        return f"{name}-{_short(name)}", inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Any]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/plan",
                "userId": "AIDAPLAN",
                "id": ACCOUNT_ID,
            }, []
        if token == "aws:ssm/getParameter:getParameter":
            # The value a parameter holds cannot be known offline: a stable AMI id per name and region.
            name = str(args.args.get("name"))
            region = args.args.get("region") or self.aws_region
            image = "ami-" + stable_guid("ssm", name, region).replace("-", "")[:17]
            return {"id": name, "name": name, "value": image, "insecureValue": image, "type": "String",
                    "arn": f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter{name}", "version": 1,
                    "withDecryption": True, "region": region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:index/getRegion:getRegion":
            region = args.args.get("region") or args.args.get("name") or self.aws_region
            return {"name": region, "region": region, "id": region}, []
        if token == "aws:ec2/getAmi:getAmi":
            # The plan cannot know the newest AMI: a stable id per query, an EBS root device by family.
            values = [v for f in args.args.get("filters") or [] for v in f.get("values") or []]
            image = next((v for v in values if str(v).startswith("ami-")), None)
            image = image or "ami-" + stable_guid(json.dumps(args.args, sort_keys=True, default=str)).replace("-", "")[:17]
            text = " ".join(str(v).lower() for v in values)
            device = "/dev/xvda" if any(m in text for m in ("amzn", "al2023", "amazon-eks", "debian")) else "/dev/sda1"
            return {"id": image, "imageId": image, "rootDeviceName": device, "name": text or image}, []
        if token == "azure-native:authorization:getClientConfig":
            return {
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
                "clientId": stable_guid("client"),
                "objectId": stable_guid("object"),
            }, []
        return {}, []

    # AWS -----------------------------------------------------------------
    def _aws(self, typ: str, name: str, inputs: dict) -> tuple[str, dict]:
        region = inputs.get("region") or self.aws_region
        state = dict(inputs)
        arn_base = f"arn:aws:imagebuilder:{region}:{ACCOUNT_ID}"
        if typ in _IMAGEBUILDER_VERSIONED:
            rname = str(inputs.get("name", name)).lower()
            version = inputs.get("version", "1.0.0")
            suffix = "/1" if typ.endswith("Component") else ""
            arn = f"{arn_base}:{_IMAGEBUILDER_VERSIONED[typ]}/{rname}/{version}{suffix}"
            return arn, {**state, "arn": arn}
        if typ in _IMAGEBUILDER_NAMED:
            arn = f"{arn_base}:{_IMAGEBUILDER_NAMED[typ]}/{str(inputs.get('name', name)).lower()}"
            return arn, {**state, "arn": arn}
        if typ == "aws:iam/role:Role":
            rname = inputs.get("name", f"{name}-{_short(name)}")
            return rname, {**state, "name": rname, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{rname}",
                           "uniqueId": "AROA" + _short(name).upper() * 2}
        if typ == "aws:iam/instanceProfile:InstanceProfile":
            rname = inputs.get("name", f"{name}-{_short(name)}")
            return rname, {**state, "name": rname, "arn": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{rname}"}
        if typ == "aws:iam/policy:Policy":
            rname = inputs.get("name", f"{name}-{_short(name)}")
            arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{rname}"
            return arn, {**state, "name": rname, "arn": arn}
        if typ == "aws:s3/bucket:Bucket" or typ == "aws:s3/bucketV2:BucketV2":
            bucket = inputs.get("bucket", f"{name}-{_short(name)}")
            return bucket, {**state, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}",
                            "bucketDomainName": f"{bucket}.s3.amazonaws.com", "region": region}
        if typ == "aws:sns/topic:Topic":
            tname = inputs.get("name", f"{name}-{_short(name)}")
            arn = f"arn:aws:sns:{region}:{ACCOUNT_ID}:{tname}"
            return arn, {**state, "name": tname, "arn": arn}
        if typ == "aws:kms/key:Key":
            key_id = kms_key_id(name, bool(inputs.get("multiRegion")))
            return key_id, {**state, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"}
        if typ == "aws:kms/replicaKey:ReplicaKey":
            # A replica keeps its primary's multi-Region key id, in its own region.
            primary = inputs.get("primaryKeyArn") or ""
            key_id = primary.rsplit("/", 1)[-1] if "/" in primary else kms_key_id(name, True)
            return key_id, {**state, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"}
        if typ == "aws:kms/alias:Alias":
            alias = inputs.get("name", f"alias/{name}")
            return alias, {**state, "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:{alias}"}
        if typ == "aws:ssm/parameter:Parameter":
            pname = inputs.get("name", name)
            return pname, {**state, "arn": f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter{pname}"}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            gname = inputs.get("name", name)
            return gname, {**state, "arn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{gname}"}
        resource_id = f"{name}-{_short(name)}"
        return resource_id, {**state, "arn": f"arn:aws:{typ.split(':')[1].split('/')[0]}:{region}:{ACCOUNT_ID}:{resource_id}"}

    # Azure ---------------------------------------------------------------
    def _azure(self, typ: str, name: str, inputs: dict) -> tuple[str, dict]:
        state = dict(inputs)
        sub = f"/subscriptions/{SUBSCRIPTION_ID}"
        if typ == "azure-native:resources:ResourceGroup":
            group = inputs.get("resourceGroupName", name)
            rid = f"{sub}/resourceGroups/{group}"
            return rid, {**state, "name": group, "id": rid}
        if typ == "azure-native:authorization:RoleDefinition":
            guid = inputs.get("roleDefinitionId") or stable_guid("role", name)
            rid = f"{inputs.get('scope', sub)}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            return rid, {**state, "name": guid, "id": rid}
        if typ == "azure-native:authorization:RoleAssignment":
            guid = inputs.get("roleAssignmentName") or stable_guid("assignment", name)
            rid = f"{inputs.get('scope', sub)}/providers/Microsoft.Authorization/roleAssignments/{guid}"
            return rid, {**state, "name": guid, "id": rid}
        if typ in _AZURE_TYPES:
            path, key = _AZURE_TYPES[typ]
            rname = inputs.get(key, name)
            group = inputs.get("resourceGroupName", "group")
            rid = f"{sub}/resourceGroups/{group}/providers/{path.format(**inputs)}/{rname}"
            state.update({"name": rname, "id": rid})
            if typ.endswith("UserAssignedIdentity"):
                state.update({"principalId": stable_guid("principal", name), "clientId": stable_guid("client", name),
                              "tenantId": TENANT_ID})
            identity = inputs.get("identity")
            if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
                # azure-native takes a list of identity ids but returns a map keyed by id.
                state["identity"] = {**identity, "userAssignedIdentities": {
                    rid_: {"principalId": stable_guid("principal", rid_), "clientId": stable_guid("client", rid_)}
                    for rid_ in identity["userAssignedIdentities"]
                }}
                if typ.endswith("Workflow") or identity.get("type") == "SystemAssigned":
                    state["identity"]["principalId"] = stable_guid("principal", name)
            elif isinstance(identity, dict) and identity.get("type") == "SystemAssigned":
                state["identity"] = {**identity, "principalId": stable_guid("principal", name), "tenantId": TENANT_ID}
            return rid, state
        rid = f"{sub}/resourceGroups/{inputs.get('resourceGroupName', 'group')}/providers/{typ}/{name}"
        return rid, {**state, "id": rid, "name": name}
