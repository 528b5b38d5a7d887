"""The flavour: one golden image described once, built on every enabled cloud."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Optional, Sequence

from pydantic import Field, field_validator, model_validator

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


def check_tags(value: dict[str, str]) -> dict[str, str]:
    """Tags both clouds accept: AWS's and Azure's limits and reserved prefixes."""
    for key, item in value.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith(("aws:", "azure", "microsoft", "windows")):
            raise ValueError(
                f"tag key '{key}' must be 1-128 characters and not start with aws:, azure, "
                "microsoft or windows (reserved by the clouds)"
            )
        if len(item) > 256:
            raise ValueError(f"tag '{key}' value is longer than 256 characters")
        if any(c in key for c in "<>%&\\?/"):
            raise ValueError(f"tag key '{key}' contains a character Azure forbids (<>%&\\?/)")
        # Image Builder's TagKey pattern (botocore model): ^(?!aws:)[a-zA-Z0-9\s_.:/=+\-@]*$
        if not re.fullmatch(r"[a-zA-Z0-9 _.:=+@-]+", key):
            raise ValueError(f"tag key '{key}' may hold only letters, digits, spaces and _ . : = + - @ "
                             "(what EC2 Image Builder and Azure both accept)")
        for text in (key, item):
            if "{{" in text or "${" in text:
                raise ValueError(f"tag '{key}' contains '{{{{' or '${{', which Image Builder substitutes as a variable")
    seen: dict[str, str] = {}
    for key in value:
        if key.lower() in seen:
            raise ValueError(f"tag keys '{seen[key.lower()]}' and '{key}' differ only in case; Azure treats them as one")
        seen[key.lower()] = key
    return value




class AzureImageRef(StrictModel):
    """An Azure Marketplace platform image."""

    publisher: str = Field(min_length=1, description="Image publisher, e.g. MicrosoftWindowsServer")
    offer: str = Field(min_length=1, description="Image offer, e.g. WindowsServer")
    sku: str = Field(min_length=1, description="Image SKU, e.g. 2022-datacenter-core-g2")
    version: str = Field(
        default="latest",
        pattern=r"^(latest|[0-9]+\.[0-9]+\.[0-9]+)$",
        description="'latest' (resolved at build time) or an exact version",
    )

    @property
    def hyper_v_generation(self) -> str:
        """Marketplace convention: -g2 / -gen2 SKUs and Ubuntu 'server' SKUs boot as Gen2."""
        sku = self.sku.lower()
        if sku.endswith(("-g2", "-gen2")) or sku in {"server", "server-arm64"}:
            return "V2"
        return "V1"


class BaseImage(StrictModel):
    """Where each cloud's build starts from: a marketplace image per cloud, or another flavour."""

    flavour: Optional[str] = Field(
        default=None,
        description="Build on the newest image of another flavour (a layered flavour) instead of a "
        "marketplace image; excludes aws and azure",
    )
    aws: Optional[str] = Field(
        default=None,
        description="ssm:<parameter path> (preferred), an AMI id, or an Image Builder image ARN",
    )
    azure: Optional[AzureImageRef] = Field(default=None, description="Azure Marketplace image")

    @field_validator("aws")
    @classmethod
    def _aws_parent(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not any(re.match(p, value) for p in AWS_PARENT_PATTERNS):
            raise ValueError(
                f"'{value}' is not an AWS parent image; use 'ssm:/aws/service/...' "
                "(recommended), an AMI id like 'ami-0123456789abcdef0' or an Image Builder "
                "image ARN"
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "BaseImage":
        if self.flavour is not None and (self.aws is not None or self.azure is not None):
            given = [c for c in ("aws", "azure") if getattr(self, c) is not None]
            raise ValueError(
                f"a layered flavour starts from its base flavour's image on every cloud; remove "
                f"{' and '.join(given)} or remove flavour"
            )
        return self


class BuildSettings(StrictModel):
    """Optional build machine overrides; stack settings hold per-OS defaults."""

    aws_instance_types: Optional[list[str]] = Field(
        default=None, min_length=1, description="EC2 instance types for the build, e.g. [m6i.large]"
    )
    azure_vm_size: Optional[str] = Field(
        default=None, pattern=r"^Standard_[A-Za-z0-9_]+$", description="Build VM size"
    )
    disk_size_gb: Optional[int] = Field(
        default=None, ge=30, le=2048, description="Root/OS disk size (default: 30 Linux, 128 Windows)"
    )
    timeout_minutes: int = Field(
        default=240, ge=60, le=960, description="Build timeout (Azure build timeout, AWS test timeout cap)"
    )

    @field_validator("aws_instance_types")
    @classmethod
    def _instance_types(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        for item in value or []:
            if not re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", item):
                raise ValueError(f"'{item}' is not an EC2 instance type (e.g. m6i.large)")
        return value

    def disk_size(self, os: str) -> int:
        return self.disk_size_gb or (128 if os == "windows" else 30)


class TestSettings(StrictModel):
    """Image tests run after the build, before distribution."""

    timeout_minutes: int = Field(default=90, ge=60, le=1440, description="Image test timeout")


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
        names = [k for k in value if k != "options"]
        if len(names) != 1:
            raise ValueError(
                f"a step mapping names exactly one step besides 'options' (got {names or 'none'})"
            )
        params = value[names[0]]
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError(
                f"parameters of step '{names[0]}' must be a mapping of name to value "
                f"(got {type(params).__name__})"
            )
        return {"name": names[0], "params": params, "options": value.get("options") or {}}

    def runs_on(self, cloud: str) -> bool:
        return self.options.only_on in (None, cloud)


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
    tags: dict[str, str] = Field(default_factory=dict, description="Tags on every resource and image")
    build: BuildSettings = Field(default_factory=BuildSettings)
    tests: TestSettings = Field(default_factory=TestSettings)

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

    _tags = field_validator("tags")(classmethod(lambda cls, value: check_tags(value)))

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
        chain: list[LoadedFlavour] = []
        current: Optional[LoadedFlavour] = self
        while current is not None:
            chain.insert(0, current)
            current = current.base
        return chain

    @property
    def depth(self) -> int:
        """Layers between this flavour and the marketplace image under it."""
        return len(self.chain) - 1


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return (slug or "my-flavour")[:40]
