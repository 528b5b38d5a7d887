"""The stack's shared infrastructure: IAM, KMS and bucket policies, bucket rules."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ...model.assets import ASSET_PREFIX
from ...model.secret_refs import SecretRef
from ...model.settings import AwsSettings
from .names import LOG_PREFIX, image_builder_service_role_arn, partition


def assume_role_policy(service: str, source_account: Optional[str] = None) -> dict[str, Any]:
    """Trust for an AWS service; with source_account, only on behalf of this account (the
    confused-deputy condition aws:SourceAccount, which the service sets when it assumes a
    role for a resource of an account)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return {"Version": "2012-10-17", "Statement": [statement]}


# What reads a parameter's value. AmazonSSMManagedInstanceCore (which Image Builder requires
# for the SSM agent on build instances) allows ssm:GetParameter and ssm:GetParameters on "*";
# an explicit Deny wins over any Allow (IAM policy evaluation logic).
_SSM_READ_ACTIONS = ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory")
_PUBLIC_PARAMETERS = "/aws/service"  # AWS's public parameters (AMI ids, AWS-managed component inputs)


def ssm_parameter_names(values: Iterable[Any]) -> list[str]:
    """The parameter names a build's step parameters refer to (`ssm:/name` or a parameter ARN)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value.startswith("ssm:/"):
                found.add(value[len("ssm:"):])
            elif value.startswith("arn:") and ":parameter/" in value:
                found.add(value.split(":parameter", 1)[1])
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for value in values:
        walk(value)
    return sorted(found)


def ssm_read_guard_policy(prefix: str, region: str, named: Iterable[str] = ()) -> dict[str, Any]:
    """Deny reading any parameter but the product's, AWS's public ones and those the steps name."""
    arn = f"arn:{partition(region)}:ssm:*:*:parameter"
    allowed = [f"{arn}{prefix}", f"{arn}{prefix}/*", f"{arn}{_PUBLIC_PARAMETERS}/*"]
    allowed += [f"{arn}{name}" for name in named if f"{arn}{name}" not in allowed]
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyThisProductsParameters", "Effect": "Deny", "Action": list(_SSM_READ_ACTIONS),
        "NotResource": allowed}]}


def log_write_policy(bucket_arn: str) -> dict[str, Any]:
    """Build instances write their logs under the log prefix and nowhere else."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "WriteBuildLogs", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"{bucket_arn}/{LOG_PREFIX}/*"},
    ]}


def asset_read_policy(bucket_arn: str) -> dict[str, Any]:
    """Build instances read build assets and nothing else of the bucket."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadBuildAssets", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"{bucket_arn}/{ASSET_PREFIX}/*"},
    ]}


def artifact_arns(sources: Iterable[str], region: str) -> list[str]:
    """The S3 object ARN of each s3://bucket/key an artifact step fetches (bucket names are global)."""
    return sorted({f"arn:{partition(region)}:s3:::{source[len('s3://'):]}" for source in sources})


def artifact_read_policy(object_arns: list[str]) -> dict[str, Any]:
    """Build instances read exactly the team files the stack's flavours fetch, nothing else of those buckets."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": object_arns},
    ]}


def secret_arns(refs: Iterable[SecretRef], region: str, account_id: str) -> dict[str, list[str]]:
    """The ARNs the build instance reads, per action: exactly each secret and parameter referenced.

    A Secrets Manager name becomes the ARN pattern `...:secret:<name>-??????`: Secrets Manager
    appends a hyphen and six random characters to a secret's ARN, and its IAM guide tells a
    policy naming a secret by name to match them with six `?` (not `*`, which would also match
    `<name>-other-secret`). A parameter's ARN is `arn:...:ssm:<region>:<account>:parameter/<name
    without its leading slash>`. Names are of the stack's region and account; ARNs as written.
    """
    arns: dict[str, set[str]] = {"secretsmanager:GetSecretValue": set(), "ssm:GetParameter": set()}
    prefix = f"arn:{partition(region)}"
    for ref in refs:
        if ref.cloud != "aws":
            continue
        if ref.store == "secretsmanager":
            arns["secretsmanager:GetSecretValue"].add(
                ref.arn or f"{prefix}:secretsmanager:{region}:{account_id}:secret:{ref.name}-??????")
        else:
            arns["ssm:GetParameter"].add(ref.arn or f"{prefix}:ssm:{region}:{account_id}:parameter{ref.name}")
    return {action: sorted(found) for action, found in arns.items() if found}


def secret_read_policy(refs: Iterable[SecretRef], region: str, account_id: str) -> dict[str, Any]:
    """Build instances read exactly the secrets the stack's steps reference, nothing else."""
    sids = {"secretsmanager:GetSecretValue": "ReadReferencedSecrets", "ssm:GetParameter": "ReadReferencedParameters"}
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": sids[action], "Effect": "Allow", "Action": action, "Resource": resources}
        for action, resources in secret_arns(refs, region, account_id).items()
    ]}


def tls_only_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """Every request to the stack's buckets (logs, build assets) over TLS."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


def log_lifecycle_rules(days: int) -> list[dict[str, Any]]:
    return [{
        "id": "expire-build-logs",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "expiration": {"days": days},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    }]


# Consumers use the key only through EC2 (copying and launching the AMIs, EBS volumes).
_THROUGH_EC2 = {"StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"}}
_KEY_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]


def kms_key_policy(aws: AwsSettings, *, account_id: str) -> dict[str, Any]:
    """Key policy: the account administers the key; consumers of shared AMIs may use it.

    Accounts that receive copies (target accounts) and accounts, organizations
    and OUs with launch permission need the key to copy or launch encrypted
    AMIs; CreateGrant is limited to grants for AWS resources (EBS volumes).
    Image Builder's service-linked role publishes to the encrypted SNS topic.
    It is matched by aws:PrincipalArn rather than named as principal, because it
    exists only after the account's first Image Builder use and KMS refuses
    policies naming principals that do not exist.
    """
    region = aws.region
    root = f"arn:{partition(region)}:iam::{account_id}:root"
    statements = [
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "ImageBuilderNotifications", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account_id,
                                        "kms:ViaService": f"sns.{region}.amazonaws.com"},
                       "ArnEquals": {"aws:PrincipalArn": image_builder_service_role_arn(account_id, region)}}},
    ]
    accounts = sorted(set(aws.target_account_ids) | set(aws.launch_permissions.account_ids))
    if accounts:
        principals = [f"arn:{partition(region)}:iam::{a}:root" for a in accounts]
        statements += [
            {"Sid": "SharedAccountsUseKey", "Effect": "Allow", "Principal": {"AWS": principals},
             "Action": _KEY_USE, "Resource": "*", "Condition": _THROUGH_EC2},
            {"Sid": "SharedAccountsGrantToEbs", "Effect": "Allow", "Principal": {"AWS": principals},
             "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]
    org_ids = sorted({arn.rsplit("/", 1)[-1] for arn in aws.launch_permissions.organization_arns})
    ou_paths = sorted({f"{arn.split('/')[1]}/*/{arn.split('/')[2]}/*"
                       for arn in aws.launch_permissions.organizational_unit_arns})
    for sid, key, values in (("Organizations", "aws:PrincipalOrgID", org_ids),
                             ("OrganizationalUnits", "aws:PrincipalOrgPaths", ou_paths)):
        if values:
            operator = "StringEquals" if key == "aws:PrincipalOrgID" else "ForAnyValue:StringLike"
            statements += [
                {"Sid": f"{sid}UseKey", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": _KEY_USE,
                 "Resource": "*", "Condition": {operator: {key: values}, **_THROUGH_EC2}},
                {"Sid": f"{sid}GrantToEbs", "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": "kms:CreateGrant", "Resource": "*",
                 "Condition": {operator: {key: values}, "Bool": {"kms:GrantIsForAWSResource": "true"}}},
            ]
    return {"Version": "2012-10-17", "Statement": statements}
