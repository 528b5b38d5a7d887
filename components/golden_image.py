"""One flavour across the clouds a stack enables."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi

from .builds import StackBuild
from .model.assets import artifacts_on, assets_on, write_asset
from .model.build import FlavourBuild
from .model.secret_refs import secrets_on
from .model.vocabulary import GOLDEN_IMAGE_TYPE

ASSET_FOLDER = Path("build") / "assets"


@dataclass(frozen=True)
class SharedInfrastructure:
    """The per-stack shared components, one per enabled cloud."""

    aws: Optional[Any] = None
    azure: Optional[Any] = None


def create_shared(stack: StackBuild, root: Optional[Path] = None) -> SharedInfrastructure:
    """IAM, buckets, keys, galleries and identities: once per stack, not once per flavour.

    Build assets the flavours' steps fetch are written to build/assets/ under the
    project `root` (one file per content) and uploaded from there, by a path
    relative to the project, where Pulumi runs the program.
    """
    aws = azure = None
    settings = stack.settings

    def files(cloud: str) -> dict:
        found = assets_on(stack.builds, cloud)
        if found and root is None:
            raise ValueError("build assets need the project root to be written under")
        try:
            return {key: write_asset(asset, root / ASSET_FOLDER).relative_to(root).as_posix()
                    for key, asset in found.items()}
        except OSError as err:  # before any resource: a full or unwritable build/ is one line, not a traceback
            raise pulumi.RunError(f"{ASSET_FOLDER}: cannot write the build assets ({err.strerror or err}); "
                                  "nothing was created") from None

    if stack.aws is not None and stack.aws_plan is not None:
        from .aws import AwsSharedInfrastructure
        from .aws.render import ssm_parameter_names

        aws = AwsSharedInfrastructure("aws", settings=stack.aws, tags=settings.tags, protect=settings.protect,
                                      prefix=stack.aws_plan.prefix, assets=files("aws"),
                                      artifacts=artifacts_on(stack.builds, "aws"),
                                      ssm_parameters=ssm_parameter_names(
                                          step.params for build in stack.builds for step in build.steps_on("aws")),
                                      secrets=secrets_on(stack.builds, "aws"))
    if stack.azure is not None and stack.azure_plan is not None:
        from .azure import AzureSharedInfrastructure
        from .azure.render.template import reads_artefacts

        azure = AzureSharedInfrastructure("azure", settings=stack.azure, tags=settings.tags,
                                          protect=settings.protect, names=stack.azure_plan.names,
                                          assets=files("azure"), secrets=secrets_on(stack.builds, "azure"),
                                          reads_artefacts=any(reads_artefacts(b) for b in stack.builds
                                                              if b.builds_on("azure")))
    return SharedInfrastructure(aws=aws, azure=azure)


class GoldenImage(pulumi.ComponentResource):
    """Every resource one flavour needs, on every cloud the stack builds it on."""

    def __init__(
        self,
        build: FlavourBuild,
        *,
        stack: StackBuild,
        shared: SharedInfrastructure,
        base: Optional["GoldenImage"] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(GOLDEN_IMAGE_TYPE, build.name, None, opts)
        self.clouds = list(build.clouds)
        self.aws = self.azure = None
        child = pulumi.ResourceOptions(parent=self)
        if build.builds_on("aws") and stack.aws is not None and stack.aws_plan is not None:
            from .aws import AwsImagePipeline

            self.aws = AwsImagePipeline(
                build.name,
                build=build,
                settings=stack.aws,
                recipe=stack.aws_plan.recipes[build.name],
                shared=shared.aws,
                base=base.aws if base is not None else None,
                opts=child,
            )
        if build.builds_on("azure") and stack.azure is not None and stack.azure_plan is not None:
            from .azure import AzureImageTemplate

            self.azure = AzureImageTemplate(
                build.name,
                build=build,
                settings=stack.azure,
                template_name=stack.azure_plan.templates[build.name],
                shared=shared.azure,
                base=base.azure if base is not None else None,
                opts=child,
            )
        self.summary = {
            "version": build.version,
            "os": build.os,
            "description": build.description,
            "clouds": self.clouds,
            "schedule": (build.schedule.describe() if build.schedule is not None else
                         f"none: no scheduled rebuilds ({build.schedule_off_reason})")
            + (f", after {build.base.name}" if build.base is not None else ""),
            **({"versions": dict(build.versions)} if build.versions else {}),
            **({"skipped_steps": list(build.skipped_steps)} if build.skipped_steps else {}),
            **({"image_tests": f"off: {build.tests.reason}"} if not build.tests_enabled else {}),
            "steps": [use.name for use in build.build_steps],
            **({"built_on": build.base.name,
                "layer_notes": [str(n) for n in build.layer_notes],
                # What the image holds: its base chain's steps and its own.
                "image_steps": list(dict.fromkeys(
                    use.name for layer in build.chain for use in [*layer.declared_steps, *layer.build_steps])),
                } if build.base is not None else {}),
            **{cloud: getattr(self, cloud).summary for cloud in self.clouds},
        }
        self.register_outputs({"summary": self.summary})


def retire_flavours(stack: StackBuild) -> dict:
    """What each flavour the stack retired leaves behind, decided: {flavour: summary}.

    On AWS its SSM parameters are taken over (deprecated) or deleted; on Azure its gallery
    image definition stays retained (docs/azure.md): nothing is registered for it there.
    """
    retired: dict = {}
    for entry in stack.settings.retired:
        summary: dict[str, Any] = {"reason": entry.reason,
                                   **({"replaced_by": entry.replaced_by} if entry.replaced_by else {})}
        if stack.aws is not None:
            from .aws.retired import AwsRetiredFlavour

            summary["aws"] = AwsRetiredFlavour(entry, settings=stack.aws, tags=dict(stack.settings.tags)).summary
        if stack.azure is not None:
            summary["azure"] = {"gallery_image_definition": "retained (list the flavour in golden-images:azure.adopt "
                                                            "when it comes back)"}
        retired[entry.flavour] = summary
    return retired
