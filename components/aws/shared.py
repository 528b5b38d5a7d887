"""Per-stack AWS infrastructure shared by every flavour's pipeline."""
from __future__ import annotations

import json
import re
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from ..model.secret_refs import SecretRef
from ..model.settings import AwsSettings
from ..model.vocabulary import AWS_SHARED_TYPE
from . import render


class AwsSharedInfrastructure(pulumi.ComponentResource):
    """Build instance profile, log bucket, notification topic, KMS key, lifecycle role and
    the Image Builder components, once per stack."""

    def __init__(self, name: str, *, settings: AwsSettings, tags: Mapping[str, str], protect: bool, prefix: str,
                 assets: Optional[dict] = None, artifacts: Sequence[str] = (),
                 ssm_parameters: Sequence[str] = (), secrets: Sequence[SecretRef] = (),
                 opts: Optional[pulumi.ResourceOptions] = None):
        """assets: object key -> file path of each build asset the stack's steps fetch on AWS.
        artifacts: the s3:// URL of each team file an artifact step fetches on AWS.
        secrets: each secret a step reads on AWS (its read is granted, exactly)."""
        super().__init__(AWS_SHARED_TYPE, name, None, opts)
        self.aws_settings = settings
        self.protect = protect
        self.region = settings.region
        # Autonamed children take their logical name as physical prefix: with the stack in
        # it, two stacks sharing an account stay recognisable.
        self.prefix = prefix
        self.artifacts = list(artifacts)
        self.ssm_parameters = list(ssm_parameters)  # parameters the stack's steps name (secret references)
        self.secrets = list(secrets)
        self.tags = dict(tags)
        self.account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self._components: dict = {}

        self.kms_key = self._kms_key()
        self._log_bucket()
        self.asset_bucket = self._asset_bucket(assets) if assets else None
        self._topic()
        self._roles()
        self.register_outputs({
            "log_bucket": self.log_bucket.bucket,
            "topic_arn": self.topic.arn,
            "instance_profile": self.instance_profile.name,
            "kms_keys": dict(self.kms_key.arns),
        })

    def _opts(self, keep: bool = False) -> pulumi.ResourceOptions:
        """Children of this component; `keep` marks what holds data and is protected in protected stacks."""
        return pulumi.ResourceOptions(parent=self, protect=keep and self.protect)

    def _kms_key(self) -> render.KmsKey:
        aws_settings = self.aws_settings
        if aws_settings.kms_key_arn:
            return render.configured_key(aws_settings.kms_key_arn, aws_settings.regions)
        policy = self.account_id.apply(lambda account: json.dumps(render.kms_key_policy(aws_settings, account_id=account)))
        # Multi-Region from the start: adding a distribution region later then adds a
        # replica instead of replacing the key every existing AMI is encrypted with.
        key = aws.kms.Key(
            f"{self.prefix}-images",
            description=f"golden-images ({pulumi.get_stack()}): AMIs, snapshots and Image Builder components",
            enable_key_rotation=True,
            multi_region=True,
            deletion_window_in_days=30,
            policy=policy,
            tags=self.tags,
            region=self.region,
            opts=self._opts(keep=True),
        )
        aws.kms.Alias(f"{self.prefix}-images", name=f"alias/{self.prefix}-images", target_key_id=key.key_id,
                      region=self.region, opts=self._opts())
        arns = {self.region: key.arn}
        for region in aws_settings.regions:
            if region == self.region:
                continue
            replica = aws.kms.ReplicaKey(
                f"{self.prefix}-images-{region}",
                description=f"golden-images ({pulumi.get_stack()}): replica for AMIs distributed to {region}",
                primary_key_arn=key.arn,
                deletion_window_in_days=30,
                policy=policy,
                tags=self.tags,
                region=region,
                opts=self._opts(keep=True),
            )
            arns[region] = replica.arn
        return render.KmsKey(identity="stack-key", arns=arns)

    def _private_bucket(self, name: str, *, force_destroy: bool, keep: bool = False) -> aws.s3.Bucket:
        """A bucket nobody outside the account reaches: public access blocked, owner enforced, TLS only.

        SSE-S3, not the stack's key: build instances write logs and read assets without KMS rights.
        """
        bucket = aws.s3.Bucket(name, force_destroy=force_destroy, tags=self.tags, region=self.region,
                               opts=self._opts(keep=keep))
        aws.s3.BucketServerSideEncryptionConfiguration(
            name, bucket=bucket.bucket,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            region=self.region, opts=self._opts())
        aws.s3.BucketPublicAccessBlock(
            name, bucket=bucket.bucket, block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
            restrict_public_buckets=True, region=self.region, opts=self._opts())
        aws.s3.BucketOwnershipControls(
            name, bucket=bucket.bucket, rule={"object_ownership": "BucketOwnerEnforced"},
            region=self.region, opts=self._opts())
        aws.s3.BucketPolicy(
            name, bucket=bucket.bucket,
            policy=bucket.arn.apply(lambda arn: json.dumps(render.tls_only_bucket_policy(arn))),
            region=self.region, opts=self._opts())
        return bucket

    def _log_bucket(self) -> None:
        self.log_bucket = self._private_bucket(f"{self.prefix}-build-logs", force_destroy=not self.protect,
                                               keep=True)
        aws.s3.BucketLifecycleConfiguration(
            f"{self.prefix}-build-logs",
            bucket=self.log_bucket.bucket,
            rules=render.log_lifecycle_rules(self.aws_settings.log_retention_days),
            region=self.region,
            opts=self._opts(),
        )

    def _asset_bucket(self, assets: dict) -> aws.s3.Bucket:
        """Build assets (packed folders of the repository), one object per content, read by build instances."""
        # force_destroy: every object is uploaded again from the repository on the next deploy.
        bucket = self._private_bucket(f"{self.prefix}-build-assets", force_destroy=True)
        name = bucket.bucket
        self.asset_objects = [
            aws.s3.BucketObjectv2(
                f"{self.prefix}-asset-{key.rsplit('/', 1)[-1][:16]}",
                bucket=name,
                key=key,
                source=pulumi.FileAsset(str(path)),
                content_type="application/gzip",
                tags=self.tags,
                region=self.region,
                opts=self._opts(),
            )
            for key, path in assets.items()
        ]
        return bucket

    def _topic(self) -> None:
        self.topic = aws.sns.Topic(
            f"{self.prefix}-build-results",
            display_name=f"golden-images {pulumi.get_stack()} build results",
            kms_master_key_id=self.kms_key.arn(self.region),
            tags=self.tags,
            region=self.region,
            opts=self._opts(),
        )
        for email in self.aws_settings.notification_emails:
            slug = re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")
            aws.sns.TopicSubscription(
                f"{self.prefix}-build-results-{slug}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                region=self.region,
                opts=self._opts(),
            )

    def _roles(self) -> None:
        region = self.region
        # "imagebuilder" in the role and profile names: AWSImageBuilderFullAccess lets
        # deployers pass only roles and profiles named like that.
        self.instance_role = aws.iam.Role(
            f"{self.prefix}-imagebuilder-instance",
            description="Build and test instances of the golden-images pipelines",
            assume_role_policy=json.dumps(render.assume_role_policy("ec2.amazonaws.com")),
            tags=self.tags,
            opts=self._opts(),
        )
        prerequisites = []
        for policy in ("EC2InstanceProfileForImageBuilder", "AmazonSSMManagedInstanceCore"):
            prerequisites.append(aws.iam.RolePolicyAttachment(
                f"{self.prefix}-imagebuilder-instance-{policy}",
                role=self.instance_role.name,
                policy_arn=render.managed_policy_arn(policy, region),
                opts=self._opts(),
            ))
        # AmazonSSMManagedInstanceCore stays (Image Builder requires it); reading parameters
        # beyond the product's prefix, AWS's public ones and those the steps name is denied.
        prerequisites.append(aws.iam.RolePolicy(
            f"{self.prefix}-imagebuilder-instance-parameters",
            role=self.instance_role.name,
            policy=json.dumps(render.ssm_read_guard_policy(self.aws_settings.ssm_parameter_prefix, region,
                                                           self.ssm_parameters)),
            opts=self._opts(),
        ))
        prerequisites.append(aws.iam.RolePolicy(
            f"{self.prefix}-imagebuilder-instance-logs",
            role=self.instance_role.name,
            policy=self.log_bucket.arn.apply(lambda arn: json.dumps(render.log_write_policy(arn))),
            opts=self._opts(),
        ))
        if self.asset_bucket is not None:
            prerequisites.append(aws.iam.RolePolicy(
                f"{self.prefix}-imagebuilder-instance-assets",
                role=self.instance_role.name,
                policy=self.asset_bucket.arn.apply(lambda arn: json.dumps(render.asset_read_policy(arn))),
                opts=self._opts(),
            ))
            prerequisites.extend(self.asset_objects)
        if self.artifacts:
            prerequisites.append(aws.iam.RolePolicy(
                f"{self.prefix}-imagebuilder-instance-artifacts",
                role=self.instance_role.name,
                policy=json.dumps(render.artifact_read_policy(render.artifact_arns(self.artifacts, region))),
                opts=self._opts(),
            ))
        if self.secrets:
            secrets = self.secrets
            prerequisites.append(aws.iam.RolePolicy(
                f"{self.prefix}-imagebuilder-instance-secrets",
                role=self.instance_role.name,
                policy=self.account_id.apply(
                    lambda account: json.dumps(render.secret_read_policy(secrets, region, account))),
                opts=self._opts(),
            ))
        self.instance_profile = aws.iam.InstanceProfile(
            f"{self.prefix}-imagebuilder-instance",
            role=self.instance_role.name,
            tags=self.tags,
            opts=self._opts(),
        )
        self.lifecycle_role = aws.iam.Role(
            f"{self.prefix}-imagebuilder-lifecycle",
            description="Image Builder lifecycle policies of the golden-images pipelines",
            assume_role_policy=self.account_id.apply(
                lambda account: json.dumps(render.assume_role_policy("imagebuilder.amazonaws.com", source_account=account))),
            tags=self.tags,
            opts=self._opts(),
        )
        prerequisites.append(aws.iam.RolePolicyAttachment(
            f"{self.prefix}-imagebuilder-lifecycle",
            role=self.lifecycle_role.name,
            policy_arn=render.managed_policy_arn("service-role/EC2ImageBuilderLifecycleExecutionPolicy", region),
            opts=self._opts(),
        ))
        # A build started during the deployment needs the permissions in place first.
        self.build_prerequisites = prerequisites

    def component(self, spec: render.ComponentSpec) -> pulumi.Output:
        """The ARN of the component for this spec, created on first use: one per distinct content."""
        resource = self._components.get(spec.name)
        if resource is None:
            resource = aws.imagebuilder.Component(
                spec.name,
                name=spec.name,
                version=spec.version,
                platform=spec.platform,
                description=spec.description,
                data=spec.data,
                kms_key_id=self.kms_key.arn(self.region),
                tags=render.component_tags(self.tags, spec.step),
                region=self.region,
                opts=self._opts(),
            )
            self._components[spec.name] = resource
        return resource.arn
