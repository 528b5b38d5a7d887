"""One flavour across the clouds a stack enables."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import pulumi

from .model.assets import assets_on, write_asset
from .model.flavour import Flavour

ASSET_FOLDER = Path("build") / "assets"
from .model.settings import StackSettings
from .model.steps import Catalogue


@dataclass(frozen=True)
class SharedInfrastructure:
    """The per-stack shared components, one per enabled cloud."""

    aws: Optional[Any] = None
    azure: Optional[Any] = None


def cloud_problems(inputs, settings_source: str, stack: str) -> list:
    """Each enabled cloud's own limits, checked on valid inputs before anything is created."""
    settings = inputs.settings
    pairs = [(item.flavour, item.source) for item in inputs.flavours]
    problems = []
    if "aws" in settings.clouds:
        from .aws.render import aws_problems

        problems.extend(aws_problems(settings, pairs, inputs.catalogue, settings_source, stack))
    if "azure" in settings.clouds:
        from .azure.render import azure_problems

        problems.extend(azure_problems(settings, pairs, inputs.catalogue, settings_source))
    return problems


def create_shared(settings: StackSettings, flavours: Sequence[Flavour] = (),
                  root: Optional[Path] = None) -> SharedInfrastructure:
    """IAM, buckets, keys, galleries and identities: once per stack, not once per flavour.

    Build assets the flavours' steps fetch are written to build/assets/ under the
    project `root` (one file per content) and uploaded from there, by a path
    relative to the project, where Pulumi runs the program.
    """
    aws = azure = None

    def files(cloud: str) -> dict:
        found = assets_on(flavours, cloud, settings.clouds)
        if found and root is None:
            raise ValueError("build assets need the project root to be written under")
        return {key: write_asset(asset, root / ASSET_FOLDER).relative_to(root).as_posix()
                for key, asset in found.items()}

    if "aws" in settings.clouds:
        from .aws import AwsSharedInfrastructure

        aws = AwsSharedInfrastructure("aws", settings=settings, assets=files("aws"))
    if "azure" in settings.clouds:
        from .azure import AzureSharedInfrastructure

        azure = AzureSharedInfrastructure("azure", settings=settings, assets=files("azure"))
    return SharedInfrastructure(aws=aws, azure=azure)


class GoldenImage(pulumi.ComponentResource):
    """Every resource one flavour needs, on every cloud the stack enables for it."""

    def __init__(
        self,
        flavour: Flavour,
        *,
        catalogue: Catalogue,
        settings: StackSettings,
        shared: SharedInfrastructure,
        base: Optional["GoldenImage"] = None,
        source_commit: Optional[str] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__("golden-images:index:GoldenImage", flavour.name, None, opts)
        self.clouds = flavour.enabled_clouds(settings.clouds)
        self.aws = self.azure = None
        child = pulumi.ResourceOptions(parent=self)
        if "aws" in self.clouds:
            from .aws import AwsImagePipeline

            self.aws = AwsImagePipeline(
                flavour.name,
                flavour=flavour,
                catalogue=catalogue,
                settings=settings,
                shared=shared.aws,
                source_commit=source_commit,
                base=base.aws if base is not None else None,
                opts=child,
            )
        if "azure" in self.clouds:
            from .azure import AzureImageTemplate

            self.azure = AzureImageTemplate(
                flavour.name,
                flavour=flavour,
                catalogue=catalogue,
                settings=settings,
                shared=shared.azure,
                base=base.azure if base is not None else None,
                opts=child,
            )
        self.summary = {
            "version": flavour.version,
            "os": flavour.os,
            "description": flavour.description,
            "clouds": self.clouds,
            "schedule": settings.schedule_for(flavour).describe()
            + (f", after {flavour.base.name}" if flavour.base is not None else ""),
            "steps": [use.name for use in flavour.steps],
            **({"built_on": flavour.base.name,
                "layer_notes": [str(n) for n in flavour.layer_notes],
                # What the image holds: its base chain's steps and its own.
                "image_steps": list(dict.fromkeys(
                    use.name for layer in flavour.chain for use in [*layer.declared_steps, *layer.steps])),
                } if flavour.base is not None else {}),
            **{cloud: getattr(self, cloud).summary for cloud in self.clouds},
        }
        self.register_outputs({"summary": self.summary})
