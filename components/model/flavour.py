"""The flavour: one golden image described once, built on every enabled cloud."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Optional, Protocol, Sequence, TypeVar, Union

from pydantic import Field, field_validator, model_validator

from .errors import EntryErrors
from .schedule import Schedule
from .tags import Tags
from .tags import check_tags as check_tags  # re-exported: callers import it from here
from .vocabulary import StrictModel

if TYPE_CHECKING:
    from .layers import LayerNote

Cloud = Literal["aws", "azure"]
OsFamily = Literal["windows", "linux"]

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"
VERSION_PATTERN = r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$"
# Image Builder caps each version node at 2^30-1; Azure gallery versions are int32.
MAX_VERSION_NODE = 2**30 - 1

AWS_PARENT_PATTERNS = (
    r"^ssm:/[A-Za-z0-9_.\-/]{1,2047}$",
    r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$",
    r"^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(aws|[0-9]{12}):image/[a-z0-9-_]+/"
    r"(\d+|x)\.(\d+|x)\.(\d+|x)(/\d+)?$",
)


class PurchasePlan(StrictModel):
    """A marketplace image's purchase plan (`az vm image show --query plan`): Image Builder passes it
    to the build VM as `planInfo`, without which a plan image cannot be deployed."""

    name: str = Field(min_length=1, description="Plan name (planName), e.g. the image's SKU")
    product: str = Field(min_length=1, description="Plan product (planProduct), e.g. the image's offer")
    publisher: str = Field(min_length=1, description="Plan publisher (planPublisher)")


GALLERY_VERSION_ID = (r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[^/]+/providers/Microsoft\.Compute/"
                      r"galleries/[^/]+/images/[^/]+/versions/[^/]+$")


def gen2_only_image(offer: str, sku: str) -> bool:
    """Marketplace images that boot only as Hyper-V Gen2: Windows 11 (offer windows-11, win11-* SKUs,
    which need UEFI, Secure Boot and vTPM), Windows Server Azure Edition, `-g2`/`-gen2` SKUs, and
    Ubuntu's `server`/`server-arm64` SKUs (24.04 and later publish Gen1 as `server-gen1`)."""
    offer, sku = offer.lower(), sku.lower()
    return (offer.startswith("windows-11") or sku.startswith("win11-") or "azure-edition" in sku
            or sku.endswith(("-g2", "-gen2", "gen2")) or sku in {"server", "server-arm64"})


class AzureImageRef(StrictModel):
    """An Azure Marketplace platform image, or an image version of an Azure Compute Gallery."""

    publisher: Optional[str] = Field(default=None, min_length=1, description="Image publisher, e.g. MicrosoftWindowsServer")
    offer: Optional[str] = Field(default=None, min_length=1, description="Image offer, e.g. WindowsServer")
    sku: Optional[str] = Field(default=None, min_length=1, description="Image SKU, e.g. 2022-datacenter-core-g2")
    version: str = Field(
        default="latest",
        pattern=r"^(latest|[0-9]+\.[0-9]+\.[0-9]+)$",
        description="'latest' (resolved at build time) or an exact version",
    )
    plan: Optional[PurchasePlan] = Field(
        default=None, description="Purchase plan of a marketplace image that has one (sent as planInfo)")
    image_version_id: Optional[str] = Field(
        default=None,
        description="Instead of a marketplace image: a gallery image version's resource id "
        "(.../galleries/<g>/images/<i>/versions/<v|latest>), e.g. another team's base image",
    )

    @field_validator("image_version_id")
    @classmethod
    def _version_id(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(GALLERY_VERSION_ID, value):
            raise ValueError(f"'{value}' is not a gallery image version id (/subscriptions/<id>/resourceGroups/<rg>/"
                             "providers/Microsoft.Compute/galleries/<gallery>/images/<image>/versions/<version>)")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "AzureImageRef":
        marketplace = [k for k in ("publisher", "offer", "sku") if getattr(self, k) is not None]
        if self.image_version_id is not None:
            extra = marketplace + (["plan"] if self.plan else []) + (["version"] if "version" in self.model_fields_set else [])
            if extra:
                raise ValueError(f"a gallery image version (image_version_id) is the whole source; remove "
                                 f"{', '.join(extra)}")
        elif len(marketplace) != 3:
            missing = [k for k in ("publisher", "offer", "sku") if k not in marketplace]
            raise ValueError(f"a marketplace image needs publisher, offer and sku (missing {', '.join(missing)}), "
                             "or give image_version_id")
        return self

    @property
    def is_gallery_version(self) -> bool:
        return self.image_version_id is not None

    @property
    def hyper_v_generation(self) -> Optional[str]:
        """V2 for Gen2-only marketplace images, V1 for other marketplace images; None for a gallery
        version (its generation is its definition's, which the flavour states in gallery.hyper_v_generation)."""
        if self.image_version_id is not None:
            return None
        return "V2" if gen2_only_image(self.offer or "", self.sku or "") else "V1"

    @property
    def arm64(self) -> bool:
        return "arm64" in (self.sku or "").lower()


class AmiFilter(StrictModel):
    """The newest AMI of an owner whose name matches a pattern, looked up when the stack deploys."""

    owners: list[str] = Field(min_length=1, description="AMI owners: account ids, or amazon, aws-marketplace, self")
    name: str = Field(min_length=1, max_length=128, description="AMI name pattern, * and ? wildcards")

    @field_validator("owners")
    @classmethod
    def _owners(cls, value: list[str]) -> list[str]:
        bad = []
        for index, owner in enumerate(value):
            if re.fullmatch(r"[0-9]{12}|amazon|aws-marketplace|self", owner):
                continue
            if owner.isdigit():
                why = f"'{owner}': an owner is a 12-digit account id or amazon, aws-marketplace, self"
            else:
                # A name: quoting would not help. The filter runs at deploy time, where the stack's
                # account names are not looked up.
                why = (f"'{owner}' is not an owner: give the 12-digit account id (account names of "
                       "golden-images:accounts are not looked up here) or amazon, aws-marketplace, self")
            bad.append((f"[{index}]", why))
        if bad:
            raise EntryErrors(bad)
        return value

    @field_validator("owners", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        if isinstance(value, list):
            bad = [(f"[{index}]", f"{owner} is read as a number; quote the account id in YAML (\"{owner:012d}\"): "
                    "unquoted, a leading zero is lost")
                   for index, owner in enumerate(value) if isinstance(owner, int) and not isinstance(owner, bool)]
            if bad:
                raise EntryErrors(bad)
        return value


def _aws_parent_problem(value: str) -> str:
    if any(re.match(p, value) for p in AWS_PARENT_PATTERNS):
        return ""
    return (f"'{value}' is not an AWS parent image; use 'ssm:/aws/service/...' (recommended), an AMI id like "
            "'ami-0123456789abcdef0', an Image Builder image ARN, {owners: [...], name: <pattern>} or "
            "{regions: {<region>: <parent>}}")


class BaseImage(StrictModel):
    """Where each cloud's build starts from: a marketplace image per cloud, or another flavour."""

    flavour: Optional[str] = Field(
        default=None,
        description="Build on the newest image of another flavour (a layered flavour) instead of a "
        "marketplace image; excludes aws and azure",
    )
    aws: Optional[Union[str, AmiFilter, dict[str, str]]] = Field(
        default=None,
        description="ssm:<parameter path> (preferred), an AMI id, an Image Builder image ARN in the build "
        "region, an AMI filter {owners, name} (newest match at deploy time), or {regions: {<region>: <parent>}} "
        "for stacks that build in different regions",
    )
    azure: Optional[AzureImageRef] = Field(default=None, description="Azure Marketplace image or gallery image version")

    @field_validator("aws", mode="before")
    @classmethod
    def _aws_parent(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            if isinstance(value, str) and _aws_parent_problem(value):
                raise ValueError(_aws_parent_problem(value))
            return value
        if isinstance(value, dict) and set(value) == {"regions"} and isinstance(value["regions"], dict):
            regions = value["regions"]
            if not regions:
                raise ValueError("regions names at least one region's parent image")
            bad = [(f"regions.{region}", _aws_parent_problem(str(parent))) for region, parent in regions.items()
                   if not isinstance(parent, str) or _aws_parent_problem(parent)]
            if bad:
                raise EntryErrors(bad)
            return {str(k): v for k, v in regions.items()}
        if isinstance(value, dict):
            return AmiFilter.model_validate(value)
        raise ValueError(_aws_parent_problem(str(value)))

    def aws_reference(self) -> str:
        """The AWS parent in one line (lineage tags, messages): the filter or the per-region parents spelled out."""
        aws = self.aws
        if isinstance(aws, AmiFilter):
            return f"ami-filter:owners={','.join(aws.owners)};name={aws.name}"
        if isinstance(aws, dict):
            return ";".join(f"{region}={parent}" for region, parent in sorted(aws.items()))
        return aws or ""

    def aws_parent(self, region: str) -> Optional[Union[str, AmiFilter]]:
        """The AWS parent as the stack building in `region` uses it (None: not given for that region)."""
        if isinstance(self.aws, dict):
            return self.aws.get(region)
        return self.aws

    @model_validator(mode="after")
    def _one_source(self) -> "BaseImage":
        if self.flavour is not None and (self.aws is not None or self.azure is not None):
            given = [c for c in ("aws", "azure") if getattr(self, c) is not None]
            raise ValueError(
                f"a layered flavour starts from its base flavour's image on every cloud; remove "
                f"{' and '.join(given)} or remove flavour"
            )
        return self


EBS_SIZE_LIMIT = 16000  # Image Builder's EbsVolumeSizeInteger (botocore model): 1-16,000 GiB
DEVICE_PATTERN = r"^/dev/(sd[a-z][0-9]{0,2}|xvd[a-z]{1,2}|nvme[0-9]+n1)$"
VolumeType = Literal["gp3", "gp2", "io2"]


def check_volume_performance(kind: str, iops: Optional[int], throughput: Optional[int]) -> None:
    """EBS's own limits (EC2 User Guide, volume types): gp3 3,000-16,000 IOPS and 125-1,000 MiB/s;
    io2 100-64,000 IOPS, which it requires; gp2's IOPS follow its size and take neither."""
    if kind == "gp2" and (iops is not None or throughput is not None):
        raise ValueError("gp2 takes neither iops nor throughput (its IOPS follow its size); use gp3 to set them")
    if kind == "io2":
        if iops is None:
            raise ValueError("io2 needs iops (100-64000)")
        if not 100 <= iops <= 64000:
            raise ValueError(f"io2 iops must be 100-64000, got {iops}")
        if throughput is not None:
            raise ValueError("throughput is set on gp3 volumes only")
    if kind == "gp3":
        if iops is not None and not 3000 <= iops <= 16000:
            raise ValueError(f"gp3 iops must be 3000-16000, got {iops}")
        if throughput is not None and not 125 <= throughput <= 1000:
            raise ValueError(f"gp3 throughput must be 125-1000 MiB/s, got {throughput}")


class RootVolume(StrictModel):
    """The AWS build's root EBS volume (and the AMI's)."""

    size_gb: Optional[int] = Field(default=None, ge=1, le=EBS_SIZE_LIMIT,
                                   description="Root size on AWS (default: build.disk_size_gb); at least the parent image's")
    type: VolumeType = Field(default="gp3", description="EBS volume type")
    iops: Optional[int] = Field(default=None, description="gp3: 3000-16000; io2: 100-64000 (required)")
    throughput: Optional[int] = Field(default=None, description="gp3 only: 125-1000 MiB/s")
    device_name: Optional[str] = Field(
        default=None, pattern=DEVICE_PATTERN,
        description="The parent image's root device (default: /dev/xvda for Amazon Linux and Debian, else "
        "/dev/sda1); a wrong name adds an empty volume instead of resizing the root")

    @model_validator(mode="after")
    def _performance(self) -> "RootVolume":
        check_volume_performance(self.type, self.iops, self.throughput)
        return self


class Volume(StrictModel):
    """An extra EBS volume of the build instance and the AMI, e.g. install media restored from a snapshot."""

    device_name: str = Field(pattern=DEVICE_PATTERN, description="Device, e.g. /dev/sdf or /dev/xvdf")
    size_gb: Optional[int] = Field(default=None, ge=1, le=EBS_SIZE_LIMIT,
                                   description="Size (default with snapshot_id: the snapshot's)")
    type: VolumeType = "gp3"
    iops: Optional[int] = None
    throughput: Optional[int] = None
    snapshot_id: Optional[str] = Field(default=None, pattern=r"^snap-[0-9a-f]{8}([0-9a-f]{9})?$",
                                       description="Restore the volume from this snapshot")
    delete_on_termination: bool = Field(default=True, description="Delete with the instance")

    @model_validator(mode="after")
    def _sized(self) -> "Volume":
        if self.size_gb is None and self.snapshot_id is None:
            raise ValueError("a volume needs size_gb, snapshot_id or both")
        check_volume_performance(self.type, self.iops, self.throughput)
        return self


class AwsBuild(StrictModel):
    """AWS build machine and volumes of one flavour."""

    instance_types: Optional[list[str]] = Field(default=None, min_length=1,
                                                description="EC2 instance types, e.g. [m6i.large]")
    root_volume: RootVolume = Field(default_factory=RootVolume)
    volumes: list[Volume] = Field(default_factory=list, max_length=20, description="Extra EBS volumes")

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return check_instance_types(value)

    @model_validator(mode="after")
    def _devices(self) -> "AwsBuild":
        devices = [v.device_name for v in self.volumes] + [self.root_volume.device_name or ""]
        twice = sorted({d for d in devices if d and devices.count(d) > 1})
        if twice:
            raise ValueError(f"device {', '.join(twice)} is mapped twice")
        return self


class AzureBuild(StrictModel):
    """Azure build VM of one flavour."""

    vm_size: Optional[str] = Field(default=None, pattern=r"^Standard_[A-Za-z0-9_]+$", description="Build VM size")
    os_disk_size_gb: Optional[int] = Field(default=None, ge=1, le=4095,
                                           description="OS disk on Azure (default: build.disk_size_gb)")

    @model_validator(mode="before")
    @classmethod
    def _no_data_disks(cls, value: Any) -> Any:
        if isinstance(value, dict) and "data_disks" in value:
            raise ValueError("data_disks: Azure VM Image Builder's vmProfile has no data disks (API 2024-02-01: "
                             "vmSize, osDiskSizeGB, userAssignedIdentities, vnetConfig only); an Azure image "
                             "captures the OS disk alone. Download install media in a step instead")
        return value


def check_instance_types(value: Optional[list[str]]) -> Optional[list[str]]:
    bad = [(f"[{index}]", f"{item!r}: not an EC2 instance type (e.g. m6i.large)") for index, item in enumerate(value or [])
           if not re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", str(item))]
    if bad:
        raise EntryErrors(bad)
    return value


class BuildSettings(StrictModel):
    """Optional build machine overrides; stack settings hold per-OS defaults."""

    aws_instance_types: Optional[list[str]] = Field(
        default=None, min_length=1, description="EC2 instance types for the build, e.g. [m6i.large] (or aws.instance_types)"
    )
    azure_vm_size: Optional[str] = Field(
        default=None, pattern=r"^Standard_[A-Za-z0-9_]+$", description="Build VM size (or azure.vm_size)"
    )
    disk_size_gb: Optional[int] = Field(
        default=None, ge=1, le=2048,
        description="Root/OS disk size on both clouds (default: 30 Linux, 128 Windows); at least the parent "
        "image's root (AWS Windows 30, Azure Windows 127 GB)"
    )
    timeout_minutes: int = Field(
        default=240, ge=60, le=960, description="Build timeout (Azure build timeout, AWS test timeout cap)"
    )
    aws: AwsBuild = Field(default_factory=AwsBuild, description="AWS machine, root volume type and extra volumes")
    azure: AzureBuild = Field(default_factory=AzureBuild, description="Azure VM size and OS disk")

    @field_validator("aws_instance_types")
    @classmethod
    def _instance_types(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return check_instance_types(value)

    @model_validator(mode="after")
    def _one_spelling(self) -> "BuildSettings":
        if self.aws_instance_types and self.aws.instance_types:
            raise ValueError("give aws_instance_types or aws.instance_types, not both")
        if self.azure_vm_size and self.azure.vm_size:
            raise ValueError("give azure_vm_size or azure.vm_size, not both")
        return self

    def disk_size(self, os: str) -> int:
        return self.disk_size_gb or (128 if os == "windows" else 30)

    def disk_size_on(self, cloud: str, os: str) -> int:
        """The root/OS disk on one cloud: its own setting, else disk_size_gb, else the OS default."""
        own = self.aws.root_volume.size_gb if cloud == "aws" else self.azure.os_disk_size_gb
        return own or self.disk_size(os)

    @property
    def instance_types(self) -> Optional[list[str]]:
        return self.aws.instance_types or self.aws_instance_types

    @property
    def vm_size(self) -> Optional[str]:
        return self.azure.vm_size or self.azure_vm_size


class TestSettings(StrictModel):
    """Image tests run after the build, before distribution."""

    enabled: bool = Field(default=True, description="false turns image tests off (needs reason; a guardrail warns)")
    reason: Optional[str] = Field(default=None, min_length=10, max_length=256,
                                  description="Why image tests are off: a tag on the flavour's resources, shown by the guardrail")
    timeout_minutes: int = Field(default=90, ge=60, le=1440, description="Image test timeout")

    @model_validator(mode="after")
    def _reason(self) -> "TestSettings":
        if not self.enabled and not self.reason:
            raise ValueError("enabled: false needs a reason (e.g. 'tested by the EKS conformance suite after launch')")
        if self.enabled and self.reason:
            raise ValueError("reason is for enabled: false; remove it")
        return self


SecurityType = Literal["Standard", "TrustedLaunch", "TrustedLaunchSupported", "ConfidentialVM"]


class GallerySettings(StrictModel):
    """The Azure Compute Gallery image definition: how VMs made from the image may boot."""

    hyper_v_generation: Optional[Literal["V1", "V2"]] = Field(
        default=None,
        description="Default: derived from the marketplace image (V2 for Windows 11, Azure Edition, -g2/-gen2 "
        "SKUs and Ubuntu server SKUs); required for a gallery image version source")
    security_type: Optional[SecurityType] = Field(
        default=None,
        description="Default: TrustedLaunchSupported on V2, Standard on V1. TrustedLaunch and ConfidentialVM need V2")
    accelerated_networking: Optional[bool] = Field(default=None, description="IsAcceleratedNetworkSupported")
    hibernation: Optional[bool] = Field(default=None, description="IsHibernateSupported")
    disk_controller_types: Optional[list[Literal["SCSI", "NVMe"]]] = Field(
        default=None, min_length=1, description="DiskControllerTypes, e.g. [SCSI, NVMe]")

    @model_validator(mode="after")
    def _secure_needs_gen2(self) -> "GallerySettings":
        if self.security_type in ("TrustedLaunch", "TrustedLaunchSupported", "ConfidentialVM") \
                and self.hyper_v_generation == "V1":
            raise ValueError(f"security_type {self.security_type} needs hyper_v_generation V2 (Secure Boot and "
                             "vTPM exist on Gen2 VMs only)")
        return self


class ScheduleOff(StrictModel):
    """No scheduled rebuilds for this flavour (built on deploy or by hand only)."""

    enabled: Literal[False] = Field(description="false: no scheduled rebuilds")
    reason: str = Field(min_length=10, max_length=256,
                        description="Why: a tag on the flavour's resources, shown by the guardrail warning")


class FlavourSchedule(Schedule):
    """A flavour's own cadence instead of the stack's (every, on, at, timezone)."""


def _schedule_value(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "none":
        raise ValueError("turn scheduled rebuilds off with {enabled: false, reason: '...'}: the reason is recorded")
    if isinstance(value, dict) and "enabled" in value:
        if value["enabled"] is not False:
            raise ValueError("enabled is only written as false (with a reason); leave it out to rebuild on a schedule")
        return ScheduleOff.model_validate(value)
    return value


class LaunchPermissions(StrictModel):
    """Who may launch this flavour's AMIs: a subset of the stack's launch_permissions."""

    accounts: list[str] = Field(default_factory=list, description="Account names (stack accounts map) or 12-digit ids")
    organization_arns: list[str] = Field(default_factory=list)
    organizational_unit_arns: list[str] = Field(default_factory=list)


class AwsDistribution(StrictModel):
    """Where this flavour's AMIs go, instead of the stack's distribution."""

    regions: Optional[list[str]] = Field(default=None, min_length=1, description="Distribution regions")
    target_accounts: Optional[list[str]] = Field(
        default=None, description="Accounts the AMIs are copied into: names (stack accounts map) or ids")
    launch_permissions: Optional[LaunchPermissions] = None

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        from .settings import aws_regions  # settings imports this module
        from .vocabulary import did_you_mean

        bad = [(f"[{index}]", f"unknown AWS region '{r}'{did_you_mean(r, aws_regions())}")
               for index, r in enumerate(value or []) if r not in aws_regions()]
        if bad:
            raise EntryErrors(bad)
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a region is listed twice")
        return value


class AzureReplica(StrictModel):
    """One region an image version is replicated to (AIB's SharedImage distributor targetRegions entry)."""

    region: str = Field(description="Azure region (programmatic name, e.g. westeurope)")
    # The Image Builder API (azure-mgmt-imagebuilder TargetRegion) takes at least 1 replica.
    replica_count: int = Field(default=1, ge=1, le=100, description="Replicas of each image version in this region")
    storage_account_type: Literal["Standard_LRS", "Standard_ZRS", "Premium_LRS"] = Field(
        default="Standard_LRS", description="Storage of the replicas (SharedImageStorageAccountType)")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        from .settings import check_azure_region  # settings imports this module

        return check_azure_region(value)


class AzureDistribution(StrictModel):
    """Where this flavour's gallery image versions are replicated, instead of the stack's azure.replication."""

    replication: Optional[list[AzureReplica]] = Field(
        default=None, min_length=1,
        description="Target regions of this flavour's image versions, with replica counts and storage "
        "(default: the stack's golden-images:azure.replication); must include the stack's location")

    @field_validator("replication")
    @classmethod
    def _once(cls, value: Optional[list[AzureReplica]]) -> Optional[list[AzureReplica]]:
        seen: dict[str, int] = {}
        bad = []
        for index, replica in enumerate(value or []):
            if replica.region in seen:
                bad.append((f"[{index}].region", f"'{replica.region}' is listed twice (also [{seen[replica.region]}])"))
            seen.setdefault(replica.region, index)
        if bad:
            raise EntryErrors(bad)
        return value


class Distribution(StrictModel):
    """Per-flavour distribution: the stack's settings unless given here."""

    aws: AwsDistribution = Field(default_factory=AwsDistribution)
    azure: AzureDistribution = Field(default_factory=AzureDistribution)


FLAG_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


class When(StrictModel):
    """When a step runs: every condition given must hold."""

    cloud: Optional[Cloud] = Field(default=None, description="Only on this cloud")
    os: Optional[OsFamily] = Field(default=None, description="Only for this OS (useful in shared step lists)")
    stack: Optional[list[str]] = Field(default=None, min_length=1, description="Only in these stacks, e.g. [prod]")
    flags: dict[str, bool] = Field(default_factory=dict,
                                   description="Flags the flavour declares (flags:) and the value each must have")

    @field_validator("stack", mode="before")
    @classmethod
    def _one_stack(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class StepOptions(StrictModel):
    """How one use of a step runs inside the build."""

    run_elevated: bool = Field(default=True, description="Windows: run PowerShell elevated")
    run_as_system: bool = Field(default=False, description="Windows: run as SYSTEM (needs run_elevated)")
    valid_exit_codes: list[int] = Field(
        default=[0], min_length=1, description="Exit codes meaning success, e.g. [0, 3010]"
    )
    timeout_minutes: Optional[int] = Field(default=None, ge=1, le=720, description="Step time limit")
    retries: int = Field(default=0, ge=0, le=5, description="Extra attempts on failure")
    reboot_after: Optional[bool] = Field(
        default=None, description="Restart after the step (default: the step's own reboot behaviour)"
    )
    only_on: Optional[Cloud] = Field(default=None, description="Run this step on one cloud only")
    repeat: Optional[bool] = Field(
        default=None,
        description="Layered flavours: true runs the step again although the base flavour already ran it; "
        "false does not (default: the step's own 'layers' rule)",
    )

    @model_validator(mode="after")
    def _system_needs_elevation(self) -> "StepOptions":
        if self.run_as_system and not self.run_elevated:
            raise ValueError("run_as_system requires run_elevated: true")
        return self


class StepUse(StrictModel):
    """One entry of a flavour's steps: a catalogue step, its parameters, its options."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    options: StepOptions = Field(default_factory=StepOptions)
    when: Optional[When] = None
    # The readable name of this use among the flavour's uses of the same step (use_names.py):
    # its `name:` parameter or one derived from it when loaded; None for a step that takes none.
    label: Optional[str] = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if not isinstance(value, dict):
            raise ValueError(
                "a step is a name ('os-updates') or a mapping of one name to its parameters "
                "('dotnet-runtime: {version: \"8.0\"}'), optionally with 'options'"
            )
        if "name" in value and "params" in value:
            return value
        names = [k for k in value if k not in ("options", "when")]
        if len(names) != 1:
            raise ValueError(
                f"a step mapping names exactly one step besides 'options' and 'when' (got {names or 'none'})"
            )
        params = value[names[0]]
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError(
                f"parameters of step '{names[0]}' must be a mapping of name to value "
                f"(got {type(params).__name__})"
            )
        if isinstance(params, dict) and set(params) & {"options", "when"} and len(value) == 1:
            misplaced = sorted(set(params) & {"options", "when"})
            raise ValueError(
                f"'{misplaced[0]}' is indented under the step's parameters; write it at the step's level, "
                f"aligned with '{names[0]}:' (\"- {names[0]}: {{...}}\" then \"  {misplaced[0]}: ...\")"
            )
        step: dict[str, Any] = {"name": names[0], "params": params, "options": value.get("options") or {}}
        if value.get("when") is not None:
            step["when"] = value["when"]
        return step

    @property
    def only_cloud(self) -> Optional[str]:
        """The one cloud this step runs on (options.only_on or when.cloud), or None for every cloud."""
        return self.options.only_on or (self.when.cloud if self.when is not None else None)

    def runs_on(self, cloud: str) -> bool:
        return self.only_cloud in (None, cloud)

    def applies(self, *, os: str, stack: Optional[str], flags: dict[str, bool]) -> bool:
        """Whether a `when` outside the cloud holds (the cloud is runs_on's)."""
        when = self.when
        if when is None:
            return True
        return ((when.os is None or when.os == os) and (when.stack is None or stack is None or stack in when.stack)
                and all(flags.get(name) == value for name, value in when.flags.items()))


class Flavour(StrictModel):
    """A golden image flavour, loaded from image_flavours/<file>.yaml."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique id: lower-case letters, digits, hyphens")
    description: str = Field(min_length=1, max_length=1000)
    version: str = Field(pattern=VERSION_PATTERN, description="Semantic version x.y.z of the flavour")
    os: OsFamily
    base_image: BaseImage
    steps: list[StepUse] = Field(min_length=1, description="Ordered build steps from the catalogue")
    clouds: Optional[list[Cloud]] = Field(
        default=None, min_length=1, description="Subset of the stack's clouds (default: all of them)"
    )
    tags: Tags = Field(default_factory=dict, description="Tags on every resource and image")
    build: BuildSettings = Field(default_factory=BuildSettings)
    tests: TestSettings = Field(default_factory=TestSettings)
    gallery: GallerySettings = Field(default_factory=GallerySettings, description="Azure gallery image definition")
    schedule: Optional[Union[ScheduleOff, FlavourSchedule]] = Field(
        default=None, description="This flavour's own rebuild schedule, or {enabled: false, reason} (default: the stack's)")
    distribution: Distribution = Field(default_factory=Distribution, description="Per-flavour distribution")
    flags: dict[str, bool] = Field(default_factory=dict,
                                   description="Named switches a step's `when: {flags: {...}}` tests, e.g. {fips: true}")

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        return _schedule_value(value)

    @field_validator("flags")
    @classmethod
    def _flag_names(cls, value: dict[str, bool]) -> dict[str, bool]:
        bad = [(k, f"{k!r}: a flag name is lower-case letters, digits, underscores")
               for k in value if not re.match(FLAG_PATTERN, k)]
        if bad:
            raise EntryErrors(bad)
        return value

    @model_validator(mode="after")
    def _when_names(self) -> "Flavour":
        problems = []
        for index, use in enumerate(self.steps):
            if use.when is None:
                continue
            for name in use.when.flags:
                if name not in self.flags:
                    known = ", ".join(sorted(self.flags)) or "none declared (add flags: {" + name + ": true})"
                    problems.append((f"steps[{index}].when.flags.{name}", f"unknown flag (known: {known})"))
            if use.when.os is not None and use.when.os != self.os:
                problems.append((f"steps[{index}].when.os", f"this flavour is {self.os}; the step would never run"))
            if use.when.cloud is not None and use.options.only_on not in (None, use.when.cloud):
                problems.append((f"steps[{index}].when.cloud", "contradicts options.only_on"))
        if problems:
            raise EntryErrors(problems)
        return self

    @field_validator("name", mode="before")
    @classmethod
    def _name_hint(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.match(NAME_PATTERN, value):
            raise ValueError(
                f"'{value}' is not a valid name; use 2-40 lower-case letters, digits and hyphens, "
                f"starting with a letter (e.g. '{_slug(value)}')"
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_hint(cls, value: Any) -> Any:
        if isinstance(value, (int, float)):
            raise ValueError(f"version must be a quoted string x.y.z (got {value!r}); write \"{value}.0\"")
        if isinstance(value, str):
            if not re.match(VERSION_PATTERN, value):
                raise ValueError(f"'{value}' is not a semantic version x.y.z (e.g. 1.0.0)")
            if any(int(n) > MAX_VERSION_NODE for n in value.split(".")):
                raise ValueError(f"each part of version '{value}' must be at most {MAX_VERSION_NODE}")
        return value

    @field_validator("clouds")
    @classmethod
    def _unique_clouds(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("clouds lists a cloud twice")
        return value

    def enabled_clouds(self, stack_clouds: Sequence[str]) -> list[str]:
        """The clouds this flavour is built on in a stack, in the stack's order."""
        return [c for c in stack_clouds if self.clouds is None or c in self.clouds]



@dataclass(frozen=True)
class Layer:
    """How a layered flavour sits on its base (decided once, in layers.py)."""

    base: "LoadedFlavour"  # the base, itself resolved
    steps: tuple[StepUse, ...]  # what the layer's own build runs
    notes: tuple[LayerNote, ...]  # what it skips, repeats or adds


@dataclass(frozen=True)
class LoadedFlavour:
    """A validated flavour, the file it came from, and the base it is layered on."""

    flavour: Flavour
    source: str
    layer: Optional[Layer] = None
    versions: tuple[tuple[str, str], ...] = ()  # (name, value) of the versions map this file reads

    @property
    def base(self) -> Optional["LoadedFlavour"]:
        return self.layer.base if self.layer is not None else None

    @property
    def build_steps(self) -> tuple[StepUse, ...]:
        """The steps this flavour's own build runs: a layer leaves out what its base built."""
        return self.layer.steps if self.layer is not None else tuple(self.flavour.steps)

    @property
    def chain(self) -> list["LoadedFlavour"]:
        """The flavours whose builds make this image, the marketplace-based one first."""
        return chain_of(self)

    @property
    def depth(self) -> int:
        """Layers between this flavour and the marketplace image under it."""
        return len(self.chain) - 1


class _HasBase(Protocol):
    @property
    def base(self) -> Any: ...


_Layered = TypeVar("_Layered", bound=_HasBase)


def chain_of(item: _Layered) -> list[_Layered]:
    """`item` and the bases under it, the one built on a marketplace image first."""
    chain: list[_Layered] = []
    current: Optional[_Layered] = item
    while current is not None:
        chain.insert(0, current)
        current = current.base
    return chain


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return (slug or "my-flavour")[:40]
