"""Stack settings: the `golden-images:*` keys of Pulumi.<stack>.yaml as a typed model."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from .errors import EntryErrors, Problem, ValidationFailed, problems_from_pydantic
from .flavour import AzureReplica, Cloud
from .schedule import WEEKDAYS as WEEKDAYS
from .schedule import Schedule as Schedule  # re-exported: the stack's schedule
from .tags import Tags
from .vocabulary import NAMESPACE as NAMESPACE  # re-exported: stack and renderers import it from here
from .vocabulary import StrictModel, did_you_mean

# Azure public-cloud regions that host Compute Gallery replicas (`az account list-locations`).
AZURE_REGIONS = frozenset(
    """australiacentral australiacentral2 australiaeast australiasoutheast austriaeast belgiumcentral
    brazilsouth brazilsoutheast canadacentral canadaeast centralindia centralus chilecentral eastasia
    eastus eastus2 francecentral francesouth germanynorth germanywestcentral indonesiacentral
    israelcentral italynorth japaneast japanwest jioindiacentral jioindiawest koreacentral koreasouth
    malaysiawest mexicocentral newzealandnorth northcentralus northeurope norwayeast norwaywest
    polandcentral qatarcentral southafricanorth southafricawest southcentralus southindia
    southeastasia spaincentral swedencentral swedensouth switzerlandnorth switzerlandwest
    uaecentral uaenorth uksouth ukwest westcentralus westeurope westindia westus westus2
    westus3""".split()
)


@lru_cache(maxsize=1)
def aws_partitions() -> tuple[dict[str, Any], ...]:
    """botocore's published endpoint data: every AWS partition with its regions and services.

    Read as the JSON file it is: a botocore session answers the same questions from the same
    file but costs a third of a second to import and build, and loads EC2's whole API model
    just to learn that its endpoint prefix is 'ec2'. (Only the data botocore ships is read,
    not endpoint overrides in ~/.aws/models or AWS_DATA_PATH: a plan does not depend on the
    machine it runs on.)
    """
    import json
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("botocore")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("botocore is not installed: its endpoint data names the AWS regions", name="botocore")
    endpoints = Path(spec.origin).parent / "data" / "endpoints.json"
    return tuple(json.loads(endpoints.read_text(encoding="utf-8"))["partitions"])


@lru_cache(maxsize=1)
def aws_regions() -> frozenset[str]:
    """EC2 regions of every AWS partition, from botocore's published endpoint data."""
    # As botocore's get_available_regions("ec2", partition): the service's endpoints that are
    # regions of the partition.
    return frozenset(
        region
        for partition in aws_partitions()
        for region in partition["services"].get("ec2", {}).get("endpoints", {})
        if region in partition["regions"]
    )


@lru_cache(maxsize=None)
def aws_partition(region: str) -> str:
    """aws, aws-cn, aws-us-gov...: the partition a region belongs to (botocore's get_partition_for_region)."""
    for partition in aws_partitions():
        if region in partition["regions"]:
            return str(partition["partition"])
        if "regionRegex" in partition and re.match(partition["regionRegex"], region):
            return str(partition["partition"])
    raise ValueError(f"no AWS partition has region '{region}'")


_closest = did_you_mean


def check_aws_region(value: str) -> str:
    if value not in aws_regions():
        raise ValueError(f"unknown AWS region '{value}'{_closest(value, aws_regions())}")
    return value


def check_azure_region(value: str) -> str:
    if value not in AZURE_REGIONS:
        raise ValueError(
            f"unknown Azure region '{value}'{_closest(value, AZURE_REGIONS)}; use the programmatic "
            "name (e.g. westeurope)"
        )
    return value


AwsRegion = Annotated[str, AfterValidator(check_aws_region)]
AzureRegion = Annotated[str, AfterValidator(check_azure_region)]


def all_matching(pattern: str, what: str) -> Callable[[list[str]], list[str]]:
    """A check that every item of a list matches `pattern` in full; each that does not is "not `what`", at its index."""
    def check(value: list[str]) -> list[str]:
        _each(value, lambda item: re.fullmatch(pattern, item), f"is not {what}")
        return value

    return check


OrganizationArns = Annotated[list[str], AfterValidator(all_matching(
    r"arn:aws[a-z-]*:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}", "an organization ARN"))]
OrganizationalUnitArns = Annotated[list[str], AfterValidator(all_matching(
    r"arn:aws[a-z-]*:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}",
    "an organizational unit ARN"))]
SecurityGroupIds = Annotated[list[str], AfterValidator(all_matching(r"sg-[0-9a-f]{8,17}", "a security group id (sg-...)"))]
SubscriptionIds = Annotated[list[str], AfterValidator(all_matching(
    r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", "a subscription id (a GUID)"))]


_Strict = StrictModel


ACCOUNT_ID = r"[0-9]{12}"
ACCOUNT_NAME = r"[a-z][a-z0-9-]{0,62}"


def check_account_refs(value: Any) -> Any:
    """Account ids (12 digits, as strings) or names of the stack's accounts map; every bad entry named."""
    if not isinstance(value, list):
        return value
    bad = []
    for index, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool):
            digits = f"{item:012d}" if 0 <= item < 10**12 else str(item)
            bad.append((f"[{index}]", f"{item}: an account id is read as a number; quote it in YAML (\"{digits}\"): "
                        "unquoted, a leading zero is lost"))
        elif isinstance(item, str) and item.isdigit() and not re.fullmatch(ACCOUNT_ID, item):
            bad.append((f"[{index}]", f"'{item}' is not a 12-digit AWS account id"))
        elif not isinstance(item, str) or not (re.fullmatch(ACCOUNT_ID, item) or re.fullmatch(ACCOUNT_NAME, item)):
            bad.append((f"[{index}]", f"{item!r}: not a 12-digit AWS account id or an account name "
                        "(lower-case letters, digits, hyphens) of golden-images:accounts"))
    if bad:
        raise EntryErrors(bad)
    return value


def _each(value: list[str], good: Callable[[str], Any], problem: str) -> None:
    """Every entry of a list that fails `good`, named by its index (not only the first)."""
    bad = [(f"[{index}]", f"'{item}' {problem}") for index, item in enumerate(value) if not good(item)]
    if bad:
        raise EntryErrors(bad)


def resolve_account(ref: str, accounts: dict[str, str]) -> str:
    """A 12-digit id as it is; a name through the stack's accounts map. ValueError lists the known names."""
    if re.fullmatch(ACCOUNT_ID, ref):
        return ref
    if ref in accounts:
        return accounts[ref]
    known = ", ".join(sorted(accounts)) or "none: add golden-images:accounts {name: id}"
    raise ValueError(f"unknown account name '{ref}'{did_you_mean(ref, list(accounts))} (known: {known})")


class LaunchSharing(StrictModel):
    """Who may launch the AMIs: never public."""

    account_ids: list[str] = Field(default_factory=list)
    organization_arns: OrganizationArns = Field(default_factory=list)
    organizational_unit_arns: OrganizationalUnitArns = Field(default_factory=list)

    @field_validator("account_ids", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        return check_account_refs(value)


class AwsLifecycle(StrictModel):
    """Old images are deprecated, then deleted with their snapshots."""

    keep_images: int = Field(default=5, ge=1, le=1000, description="Newest images kept per flavour")
    deprecate_after_days: Optional[int] = Field(default=None, ge=1, le=3650)
    # Image Builder's lastLaunched exclusion (1-365 days, botocore's model): an AMI an instance
    # was launched from within this time is not deleted, however many newer images exist.
    keep_launched_within_days: int = Field(default=30, ge=1, le=365,
                                           description="Images launched within this many days are never deleted")


class PerOsInstanceTypes(StrictModel):
    windows: list[str] = Field(default_factory=lambda: ["m6i.large"], min_length=1)
    linux: list[str] = Field(default_factory=lambda: ["m6i.large"], min_length=1)


ARTEFACT_KEY = r"[A-Za-z0-9!_.*'()+-][A-Za-z0-9!_.*'()/+-]*"


def check_key_prefix(value: str) -> str:
    if value and (value.startswith("/") or not value.endswith("/") or "//" in value
                  or not re.fullmatch(ARTEFACT_KEY, value)):
        raise ValueError(f"'{value}' is not a key prefix: no leading '/', ending in '/', e.g. installers/")
    return value


class AwsArtefacts(StrictModel):
    """The team's S3 bucket of artefacts (installers, archives) that `artifact` steps fetch by key."""

    # S3 bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens, a letter or digit at each end.
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="The bucket's name")
    prefix: str = Field(default="", description="Key prefix every artefact key is read below, e.g. installers/")

    _prefix = field_validator("prefix")(classmethod(lambda cls, value: check_key_prefix(value)))

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"


STORAGE_ACCOUNT_ID = (r"/subscriptions/[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}/resourceGroups/[-\w._()]{1,90}"
                      r"/providers/Microsoft\.Storage/storageAccounts/[a-z0-9]{3,24}")


class AzureArtefacts(StrictModel):
    """The team's blob container of artefacts; the build VM's identity is granted read on exactly it."""

    storage_account_id: str = Field(
        pattern=f"^{STORAGE_ACCOUNT_ID}$",
        description="The storage account's resource id (/subscriptions/.../resourceGroups/.../providers/"
                    "Microsoft.Storage/storageAccounts/<name>): the role assignment is made on its container")
    # Container names: 3-63 lower-case letters, digits and single hyphens, a letter or digit first.
    container: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    prefix: str = Field(default="", description="Blob name prefix every artefact key is read below")

    _prefix = field_validator("prefix")(classmethod(lambda cls, value: check_key_prefix(value)))

    @field_validator("container")
    @classmethod
    def _single_hyphens(cls, value: str) -> str:
        if "--" in value:
            raise ValueError(f"'{value}': container names take single hyphens only")
        return value

    @property
    def subscription_id(self) -> str:
        return self.storage_account_id.split("/")[2]

    @property
    def account(self) -> str:
        return self.storage_account_id.rsplit("/", 1)[-1]

    @property
    def container_url(self) -> str:
        # The public cloud's blob endpoint (sovereign clouds have other suffixes).
        return f"https://{self.account}.blob.core.windows.net/{self.container}"

    @property
    def container_scope(self) -> str:
        """The container's resource id: the scope of the read grant (Azure RBAC scopes a container so)."""
        return f"{self.storage_account_id}/blobServices/default/containers/{self.container}"

    def url(self, key: str) -> str:
        return f"{self.container_url}/{self.prefix}{key}"

    def holds(self, url: str) -> bool:
        """Whether a blob URL is inside this container (below the prefix or not)."""
        return url.startswith(self.container_url + "/")


class AwsSettings(StrictModel):
    """EC2 Image Builder settings of one stack."""

    region: AwsRegion = Field(description="Region the pipelines build in")
    distribution_regions: list[AwsRegion] = Field(default_factory=list, description="Default: the build region")
    target_account_ids: list[str] = Field(default_factory=list, description="Accounts AMIs are copied into")
    launch_permissions: LaunchSharing = Field(default_factory=LaunchSharing)
    kms_key_arn: Optional[str] = Field(default=None, description="Existing CMK; default: one is created")
    subnet_id: Optional[str] = Field(default=None, pattern=r"^subnet-[0-9a-f]{8,17}$")
    security_group_ids: SecurityGroupIds = Field(default_factory=list)
    notification_emails: list[str] = Field(default_factory=list)
    ssm_parameter_prefix: str = Field(default="/golden-images", pattern=r"^(/[A-Za-z0-9_.-]+)+$")
    fast_launch: bool = Field(default=False, description="EC2 Fast Launch for Windows AMIs")
    fast_launch_snapshots: int = Field(default=5, ge=1, le=100)
    instance_types: PerOsInstanceTypes = Field(default_factory=PerOsInstanceTypes)
    lifecycle: AwsLifecycle = Field(default_factory=AwsLifecycle)
    log_retention_days: int = Field(default=90, ge=1, le=3650)
    build_on_deploy: bool = False
    artefacts: Optional[AwsArtefacts] = Field(default=None, description="The team's artefact bucket (artifact steps' key:)")

    @field_validator("ssm_parameter_prefix")
    @classmethod
    def _unreserved_prefix(cls, value: str) -> str:
        # Systems Manager reserves parameter names beginning with aws or ssm, in any case
        # (PutParameter: "cannot be prefixed with aws or ssm (case-insensitive)").
        first = value.lstrip("/").split("/")[0].lower()
        if first.startswith(("aws", "ssm")):
            raise ValueError(f"'{value}' starts with '/{first[:3]}', which AWS reserves for its own parameters "
                             "(any case); choose another prefix, e.g. /golden-images")
        return value

    @field_validator("distribution_regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a region is listed twice")
        return value

    @field_validator("target_account_ids", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        return check_account_refs(value)

    @field_validator("notification_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        _each(value, lambda item: re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", item), "is not an e-mail address")
        # One subscription resource per address, named by the address's letters and digits:
        # two addresses that differ only in case, '.' or '-' would be one resource (one URN).
        seen: dict[str, str] = {}
        for item in value:
            slug = re.sub(r"[^a-z0-9]+", "-", item.lower()).strip("-")
            if slug in seen:
                raise ValueError(f"'{seen[slug]}' and '{item}' differ only in case or punctuation; "
                                 "list each address once")
            seen[slug] = item
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: Optional[str]) -> Optional[str]:
        if value and not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+", value):
            raise ValueError(f"'{value}' is not a KMS key ARN")
        return value

    @property
    def regions(self) -> list[str]:
        """Distribution regions; the build region when none are listed."""
        return self.distribution_regions or [self.region]

    @model_validator(mode="after")
    def _subnet_needs_groups(self) -> "AwsSettings":
        if self.subnet_id and not self.security_group_ids:
            raise ValueError("subnet_id needs security_group_ids too (Image Builder requires both)")
        return self


class PerOsVmSize(StrictModel):
    windows: str = Field(default="Standard_D4s_v5", pattern=r"^Standard_[A-Za-z0-9_]+$")
    linux: str = Field(default="Standard_D2s_v5", pattern=r"^Standard_[A-Za-z0-9_]+$")


class AzureSettings(StrictModel):
    """Azure VM Image Builder settings of one stack."""

    location: AzureRegion = Field(description="Region of the factory resource group, gallery and builds")
    resource_group_name: Optional[str] = Field(default=None, pattern=r"^[-\w._()]{1,89}[-\w_()]$")
    gallery_name: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.]{0,78}[A-Za-z0-9]$")
    image_publisher: str = Field(default="golden-images", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    replication: list[AzureReplica] = Field(default_factory=list, description="Default: the location")
    share_with_subscriptions: SubscriptionIds = Field(default_factory=list)
    vm_size: PerOsVmSize = Field(default_factory=PerOsVmSize)
    keep_failed_vm: bool = Field(default=False, description="Keep a failed build VM for debugging")
    source_image_trigger: bool = Field(default=False, description="Rebuild when the base image updates")
    build_on_deploy: bool = False
    subnet_id: Optional[str] = None
    container_instance_subnet_id: Optional[str] = None
    # Adoption of retained gallery image definitions (docs/azure.md, "Retiring and re-adopting"):
    # the import names the definition by its full resource id, which needs the subscription
    # before the program runs (the provider's own subscription is known only at deploy time).
    subscription_id: Optional[str] = Field(
        default=None, pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$",
        description="Subscription of the gallery; needed by adopt")
    adopt: list[str] = Field(
        default_factory=list,
        description="Flavours whose retained gallery image definition is imported instead of created")

    @field_validator("adopt")
    @classmethod
    def _adopt_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a flavour is listed twice")
        return value

    @model_validator(mode="after")
    def _adopt_needs_subscription(self) -> "AzureSettings":
        if self.adopt and self.subscription_id is None:
            raise ValueError("adopt needs subscription_id: the import names each retained gallery image "
                             "definition by its full resource id (/subscriptions/<id>/resourceGroups/...)")
        return self
    key_vaults: dict[str, str] = Field(
        default_factory=dict,
        description="Key Vaults the flavours' secret references name, vault name -> the vault's resource id "
        "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>): a Key Vault "
        "secret URI names only the vault, and the role assignment that lets builds read one secret needs its id",
    )

    @field_validator("key_vaults")
    @classmethod
    def _vaults(cls, value: dict[str, str]) -> dict[str, str]:
        pattern = (r"/subscriptions/[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}/resourceGroups/[-\w._()]{1,90}"
                   r"/providers/Microsoft\.KeyVault/vaults/(?P<name>[A-Za-z0-9-]{3,24})")
        for name, vault_id in value.items():
            match = re.fullmatch(pattern, str(vault_id))
            if match is None:
                raise ValueError(f"{name}: '{vault_id}' is not a Key Vault resource id ({pattern})")
            if match.group("name").lower() != name.lower():
                raise ValueError(f"{name}: the resource id names the vault '{match.group('name')}', not '{name}'")
        return {name.lower(): vault_id for name, vault_id in value.items()}
    artefacts: Optional[AzureArtefacts] = Field(default=None,
                                                description="The team's artefact container (artifact steps' key:)")

    @field_validator("subnet_id", "container_instance_subnet_id")
    @classmethod
    def _subnet(cls, value: Optional[str]) -> Optional[str]:
        pattern = (
            r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[^/]+/providers/"
            r"Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+"
        )
        if value and not re.fullmatch(pattern, value):
            raise ValueError(f"'{value}' is not a subnet resource id")
        return value

    @model_validator(mode="after")
    def _aci_needs_subnet(self) -> "AzureSettings":
        if self.container_instance_subnet_id and not self.subnet_id:
            raise ValueError("container_instance_subnet_id needs subnet_id too")
        regions = [r.region for r in self.replication]
        if len(set(regions)) != len(regions):
            raise ValueError("replication lists a region twice")
        return self

    @property
    def replicas(self) -> list[AzureReplica]:
        return list(self.replication) or [AzureReplica(region=self.location)]

    def replicas_of(self, own: Optional[list[AzureReplica]]) -> list[AzureReplica]:
        """A flavour's own replication when it sets one, else the stack's."""
        return list(own) if own is not None else self.replicas


# SSM parameter of a retired flavour: `deprecate` takes it over from Image Builder and marks it
# (value kept: instances launched from it keep launching the last image); `delete` removes it,
# so whatever still reads it fails loudly.
ParameterFate = Literal["deprecate", "delete"]


class RetiredFlavour(StrictModel):
    """A flavour removed from the stack on purpose: what happens to what it left behind."""

    flavour: str = Field(pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$", description="The removed flavour's name")
    reason: str = Field(min_length=1, max_length=300, description="Why, for the consumers of its images")
    replaced_by: Optional[str] = Field(default=None, description="The flavour consumers move to")
    ssm_parameter: ParameterFate = Field(
        default="deprecate", description="deprecate (keep the value, mark it) or delete (consumers fail)")
    regions: list[AwsRegion] = Field(
        default_factory=list, description="Regions its parameter is in; default: the stack's distribution regions")


class StackSettings(StrictModel):
    """Everything a stack decides; flavours decide the rest."""

    clouds: list[Cloud] = Field(min_length=1)
    flavours: Optional[list[str]] = Field(default=None, description="Flavours built here (default: all)")
    schedule: Schedule
    tags: Tags = Field(default_factory=dict)
    protect: bool = Field(default=False, description="Protect shared resources from deletion")
    accounts: dict[str, str] = Field(
        default_factory=dict,
        description="Account names to 12-digit ids, usable wherever an account id is taken (e.g. {shared-services: '111122223333'})")
    aws: Optional[AwsSettings] = None
    retired: list[RetiredFlavour] = Field(
        default_factory=list, description="Flavours removed on purpose (docs/stacks.md, retiring a flavour)")

    @field_validator("retired")
    @classmethod
    def _retired_once(cls, value: list[RetiredFlavour]) -> list[RetiredFlavour]:
        names = [entry.flavour for entry in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed twice")
        return value

    @field_validator("accounts", mode="before")
    @classmethod
    def _account_map(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        bad = []
        for name, account in value.items():
            if not isinstance(name, str) or not re.fullmatch(ACCOUNT_NAME, name):
                bad.append((str(name), f"{name!r}: an account name is lower-case letters, digits and hyphens"))
            elif re.fullmatch(ACCOUNT_ID, name):
                bad.append((str(name), f"{name!r}: a name, not an id"))
            if isinstance(account, int) and not isinstance(account, bool):
                bad.append((str(name), f"{account} is read as a number; quote the id in YAML (\"{account:012d}\")"))
            elif not isinstance(account, str) or not re.fullmatch(ACCOUNT_ID, account):
                bad.append((str(name), f"{account!r} is not a 12-digit AWS account id"))
        if bad:
            raise EntryErrors(bad)
        return value

    def resolved_accounts(self) -> tuple["StackSettings", list[tuple[str, str]]]:
        """(settings with account names in the AWS settings turned into ids, [(field, problem)])."""
        if self.aws is None:
            return self, []
        bad, resolved = [], {}
        for field_path, values in (("aws.target_account_ids", self.aws.target_account_ids),
                                   ("aws.launch_permissions.account_ids", self.aws.launch_permissions.account_ids)):
            ids = []
            for index, ref in enumerate(values):
                try:
                    ids.append(resolve_account(ref, self.accounts))
                except ValueError as err:
                    bad.append((f"{field_path}[{index}]", str(err)))
            resolved[field_path] = ids
        sharing = self.aws.launch_permissions.model_copy(
            update={"account_ids": resolved["aws.launch_permissions.account_ids"]})
        aws = self.aws.model_copy(update={"target_account_ids": resolved["aws.target_account_ids"],
                                          "launch_permissions": sharing})
        return self.model_copy(update={"aws": aws}), bad
    azure: Optional[AzureSettings] = None

    @model_validator(mode="after")
    def _cloud_sections(self) -> "StackSettings":
        for cloud in self.clouds:
            if getattr(self, cloud) is None:
                raise ValueError(f"clouds includes {cloud} but the {NAMESPACE}:{cloud} section is missing")
        if len(set(self.clouds)) != len(self.clouds):
            raise ValueError("clouds lists a cloud twice")
        return self


def parse_settings(raw: dict[str, Any], source: str) -> StackSettings:
    """Build settings from config keys (with or without the namespace prefix); raise all problems."""
    values = {}
    for key, value in raw.items():
        name = key.split(":", 1)[1] if ":" in key else key
        if ":" in key and not key.startswith(NAMESPACE + ":"):
            continue  # provider settings such as aws:region belong to the providers
        values[name] = value
    try:
        settings = StackSettings.model_validate(values)
    except ValidationError as err:
        raise ValidationFailed(
            [
                Problem(source, f"{NAMESPACE}:{p.path}" if p.path else NAMESPACE, p.message)
                for p in problems_from_pydantic(source, err, StackSettings)
            ]
        ) from None
    # Account names become ids once, here: everything downstream reads ids.
    settings, bad = settings.resolved_accounts()
    if bad:
        raise ValidationFailed([Problem(source, f"{NAMESPACE}:{path}", message) for path, message in bad])
    return settings
