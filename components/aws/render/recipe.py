"""Image recipes: the parent image, the components in order and the encrypted root volume."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from ...model.build import FlavourBuild
from ...model.errors import RenderError
from ...model.flavour import AmiFilter
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
                managed_arn=managed_component_arn(step.aws_managed_component, region, step.aws_managed_version,
                                                  step.aws_managed_owner),
                parameters=tuple(step.aws_managed_parameters)))
        entries.extend(RecipeEntry(component=spec) for spec in component_specs(step, prefix=prefix, key=key, cache=cache))
    return entries


# The root volume is resized only when the mapping names the parent image's root
# device; any other name adds a second, empty volume. Amazon Linux (amzn, al2023, the
# EKS-optimized AMIs), Debian and Image Builder's amazon-linux images boot from
# /dev/xvda; Windows, Ubuntu, RHEL and SUSE AMIs from /dev/sda1.
_ROOT_DEVICES = (("amazon-linux", "/dev/xvda"), ("al2023", "/dev/xvda"), ("amzn", "/dev/xvda"),
                 ("amazon-eks", "/dev/xvda"), ("/aws/service/eks/", "/dev/xvda"), ("debian", "/dev/xvda"),
                 ("bottlerocket", "/dev/xvda"))


def root_device_name(build: FlavourBuild, region: Optional[str] = None) -> Optional[str]:
    """The root device the recipe maps: the flavour's own, else the one its parent's kind boots from.

    None for a parent whose kind its name does not tell (an AMI id, an AMI filter without a
    known family): the component then reads the AMI's own root device name at deploy time.
    A layered flavour's images boot from the root device of the marketplace image under its chain.
    """
    root = build.root
    own = root.machine.aws.root_volume.device_name
    if own:
        return own
    parent = root.base_image.aws_parent(region) if region else _any_parent(root)
    if isinstance(parent, AmiFilter):
        text = parent.name.lower()
    elif isinstance(parent, str):
        if re.match(r"^ami-", parent):
            return None
        text = parent.lower()
    else:
        text = ""
    found = next((device for marker, device in _ROOT_DEVICES if marker in text), None)
    if found is None and isinstance(parent, AmiFilter):
        return None
    return found or "/dev/sda1"


def _any_parent(build: FlavourBuild) -> Any:
    aws = build.base_image.aws
    return next(iter(aws.values()), None) if isinstance(aws, dict) else aws


def ami_lookup_args(build: FlavourBuild, region: str) -> Optional[dict[str, Any]]:
    """aws.ec2.get_ami's arguments when the recipe needs the parent AMI looked up at deploy time:
    an AMI filter (the newest match is the parent) or a parent whose root device its name does
    not tell (the AMI's rootDeviceName is mapped). None when nothing is looked up."""
    root = build.root
    parent = root.base_image.aws_parent(region)
    if isinstance(parent, AmiFilter):
        return {"owners": list(parent.owners), "filters": [{"name": "name", "values": [parent.name]}],
                "most_recent": True, "region": region}
    if isinstance(parent, str) and parent.startswith("ami-") and root_device_name(build, region) is None:
        return {"filters": [{"name": "image-id", "values": [parent]}], "region": region}
    return None


def ami_filter_identity(parent: AmiFilter) -> str:
    """What names a filtered parent in the recipe's hash: the filter, not the AMI it finds today."""
    return f"ami-filter:owners={','.join(parent.owners)};name={parent.name}"


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
        return _marketplace_parent(build, region)
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
                      name=recipe_name(build, list(entries), prefix=prefix, key=key, parent=parent, region=region))


def recipe_name(build: FlavourBuild, entries: Sequence[RecipeEntry], *, prefix: str, key: KmsKey,
                parent: Optional[ParentImage] = None, region: Optional[str] = None) -> str:
    """Hash of everything CreateImageRecipe receives except tags and the version.

    The body is hashed as sent, with the component ARNs, the key ARN and a base
    flavour's image ARN (Outputs in the component) replaced by the identities
    they stand for, so a field added to the body later changes the name too: a
    recipe can never meet a different body under the same name and version.
    """
    parent = parent or _marketplace_parent(build, region)
    components = _recipe_components(entries, [f"component:{e.identity}" for e in entries], "stack-asset-bucket")
    body = _recipe_body(build, components, f"kms:{key.identity}", parent.identity,
                        root_device=root_device_name(build, region) or f"root-device-of:{parent.identity}")
    return hashed_name(f"{prefix}-{build.name}", content_hash(body))


def deploy_time_recipe_name(build: FlavourBuild, plan: RecipePlan, *, prefix: str, resolved_parent: str) -> str:
    """The recipe's name when its parent is known only at deploy time: an AMI filter's newest match
    (resolved_parent: the AMI id), or a layer on such a base (resolved_parent: the base's recipe name).

    A recipe is immutable and its name and version are its identity: a newer AMI under the plan's
    name would be a different recipe under a taken name (CreateImageRecipe refuses it with
    ResourceAlreadyExistsException), so the name hashes the plan's name (all the static content)
    with the parent actually received. A newer AMI then creates a new recipe next to the old one,
    the pipeline switches to it, and the old one is deleted, as for any content change.
    """
    return hashed_name(f"{prefix}-{build.name}", content_hash({"recipe": plan.name, "parent": resolved_parent}))


def _marketplace_parent(build: FlavourBuild, region: Optional[str]) -> ParentImage:
    """The parent a marketplace-based flavour names. An AMI filter's value is the filter itself: the
    component looks the newest AMI up at deploy time, the static name hashes the filter, and the
    deployed name adds the AMI found (deploy_time_recipe_name)."""
    if build.base is not None:
        raise RenderError(f"flavour '{build.name}' is layered on '{build.base.name}': its parent image is "
                          "the base's Image Builder image (see parent_image)")
    image = build.base_image.aws_parent(region) if region else _any_parent(build)
    if image is None:
        where = f" for region {region}" if region and isinstance(build.base_image.aws, dict) else ""
        raise RenderError(f"flavour '{build.name}' has no AWS base image{where} (base_image.aws)")
    if isinstance(image, AmiFilter):
        return ParentImage(ami_filter_identity(image), image)
    arn = re.match(r"^arn:aws[a-z-]*:imagebuilder:([a-z0-9-]+):", image)
    if arn and region and arn.group(1) != region:
        raise RenderError(f"'{image}' is an Image Builder image of {arn.group(1)}, but this stack builds in "
                          f"{region}, where a recipe can only take that region's images; use the {region} ARN, "
                          f"or give one per region: base_image.aws: {{regions: {{{region}: <parent>}}}}")
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


def _volume(size: Optional[int], kind: str, iops: Optional[int], throughput: Optional[int], kms_key_id: Any,
            delete: bool = True, snapshot: Optional[str] = None) -> dict[str, Any]:
    ebs: dict[str, Any] = {
        # pulumi-aws types these as Terraform's nullable-bool strings.
        "encrypted": "true",
        "delete_on_termination": "true" if delete else "false",
        "volume_type": kind,
        "kms_key_id": kms_key_id,
    }
    if size is not None:
        ebs["volume_size"] = size
    if iops is not None:
        ebs["iops"] = iops
    if throughput is not None:
        ebs["throughput"] = throughput
    if snapshot is not None:
        ebs["snapshot_id"] = snapshot
    return ebs


def block_device_mappings(build: FlavourBuild, kms_key_id: Any, root_device: Any) -> list[dict[str, Any]]:
    """The root volume (size, type, IOPS, throughput) and the flavour's extra volumes, all encrypted."""
    machine = build.machine.aws
    root = machine.root_volume
    mappings = [{"device_name": root_device,
                 "ebs": _volume(build.machine.disk_size_on("aws", build.os), root.type, root.iops, root.throughput,
                                kms_key_id)}]
    for volume in machine.volumes:
        mappings.append({"device_name": volume.device_name,
                         "ebs": _volume(volume.size_gb, volume.type, volume.iops, volume.throughput, kms_key_id,
                                        volume.delete_on_termination, volume.snapshot_id)})
    return mappings


def _recipe_body(build: FlavourBuild, components: list[dict[str, Any]], kms_key_id: Any, parent: Any,
                 root_device: Any) -> dict[str, Any]:
    """The recipe's immutable content (CreateImageRecipe minus name, version and tags)."""
    return {
        "description": build.description,
        "parent_image": parent,
        "components": components,
        "block_device_mappings": block_device_mappings(build, kms_key_id, root_device),
        "working_directory": WORKING_DIRECTORIES[build.os],
    }


def recipe_args(build: FlavourBuild, plan: RecipePlan, component_arns: Sequence[Any], *, region: str, key: KmsKey,
                tags: dict[str, str], parent_value: Any = None, asset_bucket: Any = None,
                root_device: Any = None, name: Any = None) -> dict[str, Any]:
    """CreateImageRecipe: parent image, components in order, encrypted gp3 root volume.

    parent_value: the parent as the API receives it when it differs from the plan's
    (a layer's base image ARN holds the account id, an AMI filter's newest AMI id: Outputs in
    the component). root_device: the parent AMI's root device name when its kind does not
    tell it (root_device_name is None), looked up at deploy time. name: the recipe's name when
    it differs from the plan's (a parent resolved at deploy time: deploy_time_recipe_name).
    """
    device = root_device_name(build, region) or root_device
    if device is None:
        raise RenderError(f"flavour '{build.name}': the root device of parent {plan.parent.identity} is read at "
                          "deploy time; set build.aws.root_volume.device_name to name it")
    parent = plan.parent.value if parent_value is None else parent_value
    if isinstance(parent, AmiFilter):
        raise RenderError(f"flavour '{build.name}': the AMI filter is resolved at deploy time (parent_value)")
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
        "name": plan.name if name is None else name,
        "version": build.version,
        **_recipe_body(build, _recipe_components(list(entries), component_arns, asset_bucket), key.arn(region),
                       parent, device),
        "tags": tags,
        "region": region,
    }
