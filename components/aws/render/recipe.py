"""Image recipes: the parent image, the components in order and the encrypted root volume."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from ...model.build import FlavourBuild
from ...model.errors import RenderError
from ...model.prepared import PreparedStep
from ...model.vocabulary import content_hash
from .component import ComponentSpec, DocumentCache, component_specs
from .keys import KmsKey
from .names import hashed_name, image_arn, managed_component_arn

RECIPE_COMPONENT_LIMIT = 20  # build and test components of one image recipe (Image Builder API reference)
WORKING_DIRECTORIES = {"windows": "C:\\Windows\\Temp", "linux": "/var/tmp"}


@dataclass(frozen=True)
class RecipeEntry:
    """One entry of a recipe's component list: an AWS-managed component or one of ours."""

    managed_arn: Optional[str] = None
    component: Optional[ComponentSpec] = None
    parameters: tuple[tuple[str, str], ...] = ()  # an AWS-managed component's (name, value)

    @property
    def identity(self) -> str:
        if self.managed_arn:
            return self.managed_arn
        if self.component is None:
            raise RenderError("a recipe entry is an AWS-managed component or one of ours; this one is neither")
        return f"{self.component.name}/{self.component.version}"


def recipe_entries(steps: Sequence[PreparedStep], *, prefix: str, region: str, key: KmsKey,
                   cache: Optional[DocumentCache] = None) -> list[RecipeEntry]:
    """The recipe's components in the flavour's order; an AWS-managed step adds its check after it."""
    cache = cache or DocumentCache()
    entries: list[RecipeEntry] = []
    for step in steps:
        if step.aws_managed_component:
            entries.append(RecipeEntry(
                managed_arn=managed_component_arn(step.aws_managed_component, region, step.aws_managed_version),
                parameters=tuple(step.aws_managed_parameters)))
        entries.extend(RecipeEntry(component=spec) for spec in component_specs(step, prefix=prefix, key=key, cache=cache))
    return entries


# The root volume is resized only when the mapping names the parent image's root
# device; any other name adds a second, empty volume.
_ROOT_DEVICES = (("amazon-linux", "/dev/xvda"), ("al2023", "/dev/xvda"), ("amzn", "/dev/xvda"),
                 ("debian", "/dev/xvda"))


def root_device_name(build: FlavourBuild) -> str:
    """A layered flavour's images boot from the root device of the marketplace image under its chain."""
    parent = (build.root.base_image.aws or "").lower()
    return next((device for marker, device in _ROOT_DEVICES if marker in parent), "/dev/sda1")


@dataclass(frozen=True)
class ParentImage:
    """The recipe's parent: `identity` names it in content hashes, `value` is what the API receives.

    For a flavour on a marketplace image both are the flavour's `base_image.aws`.
    For a layered flavour the value is the base flavour's Image Builder image at
    its newest version (`.../image/<base recipe>/x.x.x`), whose ARN holds the
    account id (an Output in the component); the identity is the base recipe's
    name, which already hashes everything the base is made of.
    """

    identity: str
    value: Any


@dataclass(frozen=True)
class RecipePlan:
    """A flavour's AWS recipe as far as it is known before deployment: its entries and its name."""

    entries: tuple[RecipeEntry, ...]  # in build order
    parent: ParentImage  # value: the marketplace image, or the base's image ARN with a placeholder account
    name: str  # content-derived: hashes the whole chain through the parent's identity
    base_recipe: Optional[str] = None  # a layer's base recipe name


def parent_image(build: FlavourBuild, base_recipe: Optional[str], *, region: str,
                 account_id: Optional[str] = None) -> ParentImage:
    """Where the flavour's recipe starts: its marketplace image, or its base flavour's image.

    Without account_id (unknown before deployment) a layer's value holds a
    placeholder account; the component puts in the real one.
    """
    if build.base is None:
        return _marketplace_parent(build)
    if base_recipe is None:
        raise RenderError(f"flavour '{build.name}' is layered on '{build.base.name}': its parent needs that "
                          "flavour's recipe name")
    return ParentImage(f"flavour:{base_recipe}", image_arn(region, account_id or "000000000000", base_recipe))


def recipe_plan(build: FlavourBuild, *, prefix: str, region: str, key: KmsKey,
                base: Optional[RecipePlan] = None, cache: Optional[DocumentCache] = None) -> RecipePlan:
    """What a flavour's AWS recipe is made of, rendered once; a layer names its base's recipe (`base`)."""
    entries = tuple(recipe_entries(build.steps_on("aws"), prefix=prefix, region=region, key=key, cache=cache))
    base_recipe = base.name if base is not None else None
    parent = parent_image(build, base_recipe, region=region)
    return RecipePlan(entries=entries, parent=parent, base_recipe=base_recipe,
                      name=recipe_name(build, list(entries), prefix=prefix, key=key, parent=parent))


def recipe_name(build: FlavourBuild, entries: Sequence[RecipeEntry], *, prefix: str, key: KmsKey,
                parent: Optional[ParentImage] = None) -> str:
    """Hash of everything CreateImageRecipe receives except tags and the version.

    The body is hashed as sent, with the component ARNs, the key ARN and a base
    flavour's image ARN (Outputs in the component) replaced by the identities
    they stand for, so a field added to the body later changes the name too: a
    recipe can never meet a different body under the same name and version.
    """
    parent = parent or _marketplace_parent(build)
    components = _recipe_components(entries, [f"component:{e.identity}" for e in entries], "stack-asset-bucket")
    body = _recipe_body(build, components, f"kms:{key.identity}", parent.identity)
    return hashed_name(f"{prefix}-{build.name}", content_hash(body))


def _marketplace_parent(build: FlavourBuild) -> ParentImage:
    if build.base is not None:
        raise RenderError(f"flavour '{build.name}' is layered on '{build.base.name}': its parent image is "
                          "the base's Image Builder image (see parent_image)")
    image = build.base_image.aws
    if image is None:
        raise RenderError(f"flavour '{build.name}' has no AWS base image (base_image.aws)")
    return ParentImage(image, image)


def _recipe_components(entries: Sequence[RecipeEntry], component_arns: Sequence[Any],
                       asset_bucket: Any) -> list[dict[str, Any]]:
    """The recipe's component list; a component that downloads build assets is told the bucket."""
    components: list[dict[str, Any]] = []
    for entry, arn in zip(entries, component_arns):
        item: dict[str, Any] = {"component_arn": arn}
        if entry.parameters:
            # pulumi-aws takes one string per parameter (ImageRecipeComponentParameter.value) and
            # sends it as the one-element list CreateImageRecipe's ComponentParameter.value is.
            item["parameters"] = [{"name": name, "value": value} for name, value in entry.parameters]
        if entry.component is not None and entry.component.parameters:
            if asset_bucket is None:
                raise RenderError(f"step '{entry.component.step}' downloads build assets: the recipe needs the "
                                  "stack's asset bucket")
            item["parameters"] = [{"name": name, "value": asset_bucket} for name in entry.component.parameters]
        components.append(item)
    return components


def _recipe_body(build: FlavourBuild, components: list[dict[str, Any]], kms_key_id: Any, parent: Any) -> dict[str, Any]:
    """The recipe's immutable content (CreateImageRecipe minus name, version and tags)."""
    return {
        "description": build.description,
        "parent_image": parent,
        "components": components,
        "block_device_mappings": [{
            "device_name": root_device_name(build),
            "ebs": {
                # pulumi-aws types these as Terraform's nullable-bool strings.
                "encrypted": "true",
                "delete_on_termination": "true",
                "volume_type": "gp3",
                "volume_size": build.machine.disk_size(build.os),
                "kms_key_id": kms_key_id,
            },
        }],
        "working_directory": WORKING_DIRECTORIES[build.os],
    }


def recipe_args(build: FlavourBuild, plan: RecipePlan, component_arns: Sequence[Any], *, region: str, key: KmsKey,
                tags: dict[str, str], parent_value: Any = None, asset_bucket: Any = None) -> dict[str, Any]:
    """CreateImageRecipe: parent image, components in order, encrypted gp3 root volume.

    parent_value: the parent as the API receives it when it differs from the plan's
    (a layer's base image ARN holds the account id, an Output in the component).
    """
    entries = plan.entries
    if len(component_arns) != len(entries):
        raise RenderError("one component ARN per recipe entry is needed")
    if not entries:
        raise RenderError(f"flavour '{build.name}': no step runs on AWS, and a recipe needs at least one component")
    if len(entries) > RECIPE_COMPONENT_LIMIT:
        raise RenderError(
            f"flavour '{build.name}': its steps need {len(entries)} Image Builder components, a recipe takes at "
            f"most {RECIPE_COMPONENT_LIMIT}; use fewer steps (AWS-managed steps count twice, steps too large "
            "for one document count once per phase)")
    return {
        "name": plan.name,
        "version": build.version,
        **_recipe_body(build, _recipe_components(list(entries), component_arns, asset_bucket), key.arn(region),
                       plan.parent.value if parent_value is None else parent_value),
        "tags": tags,
        "region": region,
    }
