"""A hand-built VM Image Builder template body that satisfies every rule of API 2024-02-01, and the
rules a body breaks: the contract tests break it one way at a time."""
from __future__ import annotations

from . import azure_api as api

SUB = "8f2c6a1e-4b7d-4c3e-9a51-2d6f0b9e7c48"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-golden-images"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-image-builder"
OTHER_IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-other"
IMAGE_ID = f"{RG}/providers/Microsoft.Compute/galleries/goldenimages/images/ubuntu-2404"
CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def valid_body() -> dict:
    """A REST body that uses most of the API and satisfies every rule."""
    return {
        "location": "westeurope",
        "tags": {"environment": "dev", "flavour": "ubuntu-2404"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "ubuntu-24_04-lts",
                "sku": "server",
                "version": "latest",
            },
            "customize": [
                {"type": "Shell", "name": "os-updates", "inline": ["sudo apt-get update", "sudo apt-get -y upgrade"]},
                {"type": "Shell", "name": "agent", "scriptUri": "https://example.org/agent.sh", "sha256Checksum": CHECKSUM},
                {
                    "type": "PowerShell",
                    "name": "dotnet",
                    "scriptUri": "https://example.org/dotnet.ps1",
                    "sha256Checksum": CHECKSUM,
                    "runElevated": True,
                    "runAsSystem": True,
                    "validExitCodes": [0, 3010],
                },
                {"type": "WindowsRestart", "restartTimeout": "10m"},
                {"type": "WindowsUpdate", "searchCriteria": "IsInstalled=0", "filters": ["include:$true"], "updateLimit": 40},
                {
                    "type": "File",
                    "name": "config",
                    "sourceUri": "https://example.org/app.conf",
                    "destination": "/etc/app.conf",
                    "sha256Checksum": CHECKSUM,
                },
            ],
            "validate": {
                "continueDistributeOnFailure": False,
                "sourceValidationOnly": False,
                "inVMValidations": [{"type": "Shell", "name": "check", "inline": ["test -f /etc/app.conf"]}],
            },
            "distribute": [
                {
                    "type": "SharedImage",
                    "runOutputName": "ubuntu-2404-1.0.0",
                    "galleryImageId": IMAGE_ID,
                    "excludeFromLatest": False,
                    "artifactTags": {"flavour": "ubuntu-2404"},
                    "targetRegions": [
                        {"name": "westeurope", "replicaCount": 2, "storageAccountType": "Standard_ZRS"},
                        {"name": "northeurope", "replicaCount": 1, "storageAccountType": "Standard_LRS"},
                    ],
                    "versioning": {"scheme": "Latest", "major": -1},
                }
            ],
            "optimize": {"vmBoot": {"state": "Enabled"}},
            "errorHandling": {"onCustomizerError": "abort", "onValidationError": "cleanup"},
            "buildTimeoutInMinutes": 240,
            "vmProfile": {"vmSize": "Standard_D2ds_v5", "osDiskSizeGB": 30, "userAssignedIdentities": [IDENTITY]},
            "stagingResourceGroup": f"/subscriptions/{SUB}/resourceGroups/rg-aib-staging-ubuntu",
            "autoRun": {"state": "Disabled"},
            "managedResourceTags": {"environment": "dev"},
        },
    }


def found(body: dict) -> set[tuple[str, str]]:
    return {(v.path, v.rule) for v in api.check_template_body(body)}

