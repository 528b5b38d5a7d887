"""Hand-built aws:imagebuilder inputs in pulumi-aws wire names that satisfy every rule of the
Image Builder API model: the contract tests break them one way at a time."""
from __future__ import annotations

from components.mocks import ACCOUNT_ID

REGION = "eu-west-1"

COMPONENT = "aws:imagebuilder/component:Component"
RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe"
INFRA = "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration"
DISTRIBUTION = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
PIPELINE = "aws:imagebuilder/imagePipeline:ImagePipeline"
LIFECYCLE = "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy"
WORKFLOW = "aws:imagebuilder/workflow:Workflow"

LINUX_DOCUMENT = """\
name: os-updates
description: Install every available operating system update.
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: DownloadTool
        action: WebDownload
        maxAttempts: 3
        inputs:
          - source: https://example.com/tool.tar.gz
            destination: /tmp/tool.tar.gz
            checksum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
            algorithm: SHA256
      - name: UpgradePackages
        action: ExecuteBash
        timeoutSeconds: 3600
        onFailure: Abort
        inputs:
          commands:
            - apt-get update && apt-get -y dist-upgrade
      - name: RebootAfterUpdates
        action: Reboot
        inputs:
          delaySeconds: 10
  - name: validate
    steps:
      - name: CheckNoPendingUpdates
        action: ExecuteBash
        inputs:
          commands:
            - test -z "$(apt list --upgradable 2>/dev/null | tail -n +2)"
"""

WINDOWS_DOCUMENT = """\
schemaVersion: 1.0
phases:
  - name: test
    steps:
      - name: CheckIis
        action: ExecutePowerShell
        inputs:
          commands:
            - if ((Get-WindowsFeature Web-Server).InstallState -ne 'Installed') { exit 1 }
"""

# Hand-built inputs exactly as the engine receives them from pulumi-aws: camelCase
# wire names, flattened one-element blocks, ints as floats.
VALID: dict[str, dict] = {
    COMPONENT: {
        "name": "os-updates-linux-3f2a9c1d",
        "version": "1.2.0",
        "platform": "Linux",
        "data": LINUX_DOCUMENT,
        "description": "os-updates for Linux",
        "changeDescription": "content 3f2a9c1d",
        "supportedOsVersions": ["Ubuntu 24"],
        "skipDestroy": True,
        "region": REGION,
        "tags": {"environment": "dev", "owner": "platform-team"},
    },
    RECIPE: {
        "name": "ubuntu-2404-ab12cd34",
        "version": "1.2.0",
        "description": "ubuntu-2404 golden image",
        "parentImage": "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
        "components": [
            {"componentArn": f"arn:aws:imagebuilder:{REGION}:{ACCOUNT_ID}:component/os-updates-linux-3f2a9c1d/1.2.0/1"},
            {
                "componentArn": f"arn:aws:imagebuilder:{REGION}:aws:component/update-linux/x.x.x",
                "parameters": [{"name": "exclude", "value": "linux-image-generic"}],
            },
        ],
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/sda1",
                "ebs": {
                    "volumeSize": 30.0, "volumeType": "gp3", "iops": 3000.0, "throughput": 125.0,
                    "encrypted": "true", "deleteOnTermination": "true",
                },
            },
            {"deviceName": "/dev/sdb", "noDevice": True},
        ],
        "systemsManagerAgent": {"uninstallAfterBuild": False},
        "userDataBase64": "ZWNobyBoZWxsbw==",
        "workingDirectory": "/tmp",
        "amiTags": {"flavour": "ubuntu-2404"},
        "region": REGION,
        "tags": {"environment": "dev"},
    },
    INFRA: {
        "name": "golden-images-dev-ubuntu-2404",
        "description": "Build instances for ubuntu-2404",
        "instanceProfileName": "golden-images-build",
        "instanceTypes": ["t3.large"],
        "instanceMetadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2.0},
        "logging": {"s3Logs": {"s3BucketName": "golden-images-logs", "s3KeyPrefix": "dev/ubuntu-2404"}},
        "snsTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:golden-images-builds",
        "terminateInstanceOnFailure": True,
        "resourceTags": {"golden-images:build": "ubuntu-2404"},
        "tags": {"environment": "dev"},
    },
    DISTRIBUTION: {
        "name": "golden-images-dev-ubuntu-2404",
        "description": "Where ubuntu-2404 goes",
        "distributions": [
            {
                "region": REGION,
                "amiDistributionConfiguration": {
                    "name": "ubuntu-2404-{{ imagebuilder:buildDate }}",
                    "description": "ubuntu-2404 1.2.0",
                    "amiTags": {"flavour": "ubuntu-2404"},
                    "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9",
                    "targetAccountIds": ["210987654321"],
                    "launchPermission": {
                        "userIds": ["210987654321", "345678901234"],
                        "organizationalUnitArns": [
                            "arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdef3456"],
                    },
                },
                "ssmParameterConfigurations": [
                    {"parameterName": "/golden-images/ubuntu-2404/latest", "dataType": "aws:ec2:image"}],
                "launchTemplateConfigurations": [{"launchTemplateId": "lt-0123456789abcdef0", "default": True}],
            },
            {
                "region": "eu-central-1",
                "amiDistributionConfiguration": {"name": "ubuntu-2404-{{ imagebuilder:buildDate }}"},
                "fastLaunchConfigurations": [
                    {"enabled": True, "accountId": ACCOUNT_ID, "maxParallelLaunches": 6.0,
                     "snapshotConfiguration": {"targetResourceCount": 5.0}}],
            },
        ],
        "tags": {"environment": "dev"},
    },
    PIPELINE: {
        "name": "golden-images-dev-ubuntu-2404",
        "description": "ubuntu-2404 weekly",
        "imageRecipeArn": f"arn:aws:imagebuilder:{REGION}:{ACCOUNT_ID}:image-recipe/ubuntu-2404-ab12cd34/1.2.0",
        "infrastructureConfigurationArn":
            f"arn:aws:imagebuilder:{REGION}:{ACCOUNT_ID}:infrastructure-configuration/golden-images-dev-ubuntu-2404",
        "distributionConfigurationArn":
            f"arn:aws:imagebuilder:{REGION}:{ACCOUNT_ID}:distribution-configuration/golden-images-dev-ubuntu-2404",
        "schedule": {
            "scheduleExpression": "cron(0 2 ? * SUN *)",
            "timezone": "Europe/Amsterdam",
            "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY",
        },
        "imageTestsConfiguration": {"imageTestsEnabled": True, "timeoutMinutes": 90.0},
        "imageScanningConfiguration": {"imageScanningEnabled": True},
        "enhancedImageMetadataEnabled": True,
        "status": "ENABLED",
        "workflows": [{
            "workflowArn": f"arn:aws:imagebuilder:{REGION}:aws:workflow/build/build-image/x.x.x",
            "onFailure": "ABORT",
            "parameters": [{"name": "waitForActionAtEnd", "value": "false"}],
        }],
        "tags": {"environment": "dev"},
    },
    LIFECYCLE: {
        "name": "golden-images-dev-ubuntu-2404",
        "description": "Keep the newest three",
        "executionRole": f"arn:aws:iam::{ACCOUNT_ID}:role/golden-images-lifecycle",
        "resourceType": "AMI_IMAGE",
        "status": "ENABLED",
        "policyDetails": [
            {
                "action": {"type": "DELETE", "includeResources": {"amis": True, "snapshots": True}},
                "filter": {"type": "COUNT", "value": 3.0},
                "exclusionRules": {"amis": {"isPublic": True, "lastLaunched": {"unit": "DAYS", "value": 7.0}}},
            },
            {
                "action": {"type": "DEPRECATE"},
                "filter": {"type": "AGE", "value": 90.0, "unit": "DAYS", "retainAtLeast": 2.0},
            },
        ],
        "resourceSelection": {"recipes": [{"name": "ubuntu-2404-ab12cd34", "semanticVersion": "x.x.x"}]},
        "tags": {"environment": "dev"},
    },
    WORKFLOW: {
        "name": "golden-images-test",
        "version": "1.0.0",
        "type": "TEST",
        "data": "name: test\nschemaVersion: 1.0\nsteps: []\n",
        "tags": {"environment": "dev"},
    },
}
