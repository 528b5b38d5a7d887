"""EC2 Image Builder rendering: the cloud-neutral model in, request-shaped data out.

Pure functions, no Pulumi. Every `*_args` function returns the keyword arguments
of one pulumi-aws resource, so the components only wire resources together.
Values that exist only after a deployment (ARNs of resources this stack
creates, the account id) are parameters placed as given: tests pass strings,
the components pass Outputs. Names of immutable objects (components, recipes)
are derived from static content only, never from such values, so a preview
knows them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import yaml

from ..model.assets import ASSET_PREFIX
from ..model.build import FlavourBuild
from ..model.errors import RenderError
from ..model.prepared import PreparedStep
from ..model.settings import AwsSettings, Schedule, aws_partition
from ..model.vocabulary import content_hash

TAG_NAMESPACE = "golden-images"
NAME_LIMIT = 128  # Image Builder ResourceName: ^[-_A-Za-z-0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z-0-9]$
AMI_NAME_LIMIT = 127
AMI_DESCRIPTION_LIMIT = 255
INLINE_DOCUMENT_LIMIT = 16_000
TAG_LIMIT = 50  # TagMap on Image Builder resources and AMIs
RESOURCE_TAG_LIMIT = 30  # ResourceTagMap: tags on the build instances
RECIPE_COMPONENT_LIMIT = 20  # build and test components of one image recipe (Image Builder API reference)
COMPONENT_VERSION = "1.0.0"
LOG_PREFIX = "image-builder"
PLATFORMS = {"linux": "Linux", "windows": "Windows"}
# Where step scripts are written to run. Not below the download folder of prepared
# steps: a cleanup step may remove that folder and prove it absent, and checks run
# after every build phase. Each script is deleted once it succeeded, so none stays
# in the image.
SCRIPT_DIRS = {"windows": "C:\\Windows\\Temp\\golden-images-steps", "linux": "/var/tmp/golden-images-steps"}
WORKING_DIRECTORIES = {"windows": "C:\\Windows\\Temp", "linux": "/var/tmp"}
# EC2 refuses fewer parallel launches when it pre-provisions Fast Launch snapshots.
FAST_LAUNCH_PARALLEL_LAUNCHES = 6
START_CONDITION = "EXPRESSION_MATCH_ONLY"
ASSET_BUCKET_PARAMETER = "AssetBucket"  # AWSTOE document parameter: the stack's build asset bucket


# ---------------------------------------------------------------------------
# Names, partitions, tags
# ---------------------------------------------------------------------------
def name_prefix(stack: str) -> str:
    """Prefix of every Image Builder name: two stacks can share an account and region."""
    # 16 characters keep autonamed IAM roles (prefix + "-imagebuilder-lifecycle" + Pulumi's
    # 8-character suffix) within IAM's 64.
    slug = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-")[:16].strip("-")
    return f"{TAG_NAMESPACE}-{slug or 'stack'}"




def _hashed_name(readable: str, digest: str) -> str:
    """`<readable>-<digest>`, the readable part cut so the whole fits Image Builder's limit."""
    room = NAME_LIMIT - len(digest) - 1
    return f"{readable[:room].rstrip('-')}-{digest}"


def partition(region: str) -> str:
    """aws, aws-cn or aws-us-gov, from botocore's endpoint data (no API call)."""
    return aws_partition(region)


def managed_component_arn(component: str, region: str) -> str:
    """An AWS-managed component, newest version at build time (x.x.x)."""
    return f"arn:{partition(region)}:imagebuilder:{region}:aws:component/{component}/x.x.x"


def managed_policy_arn(policy: str, region: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{policy}"


def image_builder_service_role_arn(account_id: str, region: str) -> str:
    return (f"arn:{partition(region)}:iam::{account_id}:role/aws-service-role/"
            "imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder")


def flavour_tags(build: FlavourBuild) -> dict:
    """Tags on every resource of one flavour and on its AMIs."""
    return checked_tags(dict(build.tags), TAG_LIMIT, f"flavour '{build.name}'")


def component_tags(stack_tags: Mapping[str, str], step_name: str) -> dict:
    """Components are shared between flavours, so they carry the stack's tags and their step."""
    return checked_tags({**stack_tags, f"{TAG_NAMESPACE}:step": step_name}, TAG_LIMIT, f"step '{step_name}'")


def checked_tags(tags: dict, limit: int, owner: str) -> dict:
    if len(tags) > limit:
        raise RenderError(f"{owner}: {len(tags)} tags, AWS takes at most {limit} here; "
                          "remove some from the stack's or the flavour's tags")
    return tags


# ---------------------------------------------------------------------------
# AWSTOE component documents
# ---------------------------------------------------------------------------
# libyaml's emitter when the wheel has it: same output, an order of magnitude faster.
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _DocumentDumper(_BaseDumper):
    """Multi-line strings (scripts) as literal blocks, so the console shows them as written.

    The validate and test phases share one step list; written out twice instead of
    as a YAML anchor and alias, which AWSTOE does not document.
    """

    def ignore_aliases(self, data):
        return True


def _represent_str(dumper, value: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_DocumentDumper.add_representer(str, _represent_str)


class _CompactDumper(_DocumentDumper):
    """Multi-line strings double-quoted on one line (newlines as \\n): no indentation per line."""


_CompactDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                                       style='"' if "\n" in value else None))


def dump_document(document: dict, compact: bool = False) -> str:
    return yaml.dump(document, Dumper=_CompactDumper if compact else _DocumentDumper, sort_keys=False,
                     width=1_000_000, allow_unicode=True)


def component_phases(step: PreparedStep) -> list:
    """The AWSTOE phases of one step use: build (downloads, script, restart), validate, test.

    A step that AWS covers with a managed component has no install script here:
    the managed component does the work, these phases restart after it (when
    the step asks for that) and prove the result with the check.
    """
    build = []
    if step.aws_managed_component is None:
        if step.script is None:
            raise RenderError(f"step '{step.name}' ({step.os}) has neither a script nor an AWS-managed component")
        web = [d for d in step.downloads if d.asset_key is None]
        if web:
            build.append({
                "name": "Download",
                "action": "WebDownload",
                "inputs": [
                    {"source": d.url, "destination": d.destination, "checksum": d.sha256,
                     "algorithm": "SHA256", "overwrite": True}
                    for d in web
                ],
            })
        assets = [d for d in step.downloads if d.asset_key is not None]
        if assets:
            # From the stack's asset bucket with the instance profile. S3Download verifies no
            # checksum: the step's script checks GI_ASSET_*_SHA256 before it unpacks anything.
            build.append({
                "name": "DownloadAssets",
                "action": "S3Download",
                "inputs": [
                    {"source": f"s3://{{{{ {ASSET_BUCKET_PARAMETER} }}}}/{d.asset_key}", "destination": d.destination,
                     "overwrite": True}
                    for d in assets
                ],
            })
        build.extend(_script_steps(step, "Install", step.script, step.valid_exit_codes,
                                   step.timeout_minutes, step.retries))
    if step.reboot_after:
        # The Reboot module resumes the document after the restart; it takes no timeout.
        build.append({"name": "Reboot", "action": "Reboot", "inputs": {"delaySeconds": 0}})
    # Checks run on the build instance after the build (validate) and, when they hold
    # for a booted image too, again on a fresh instance launched from it (test).
    # Some only hold right after the build (an empty machine-id, nothing pending
    # from Windows Update), so the step says whether its check is such an invariant.
    check = _script_steps(step, "Check", step.check, (0,), None, 0)
    phases = [{"name": "build", "steps": build}] if build else []
    phases.append({"name": "validate", "steps": check})
    if step.image_test:
        phases.append({"name": "test", "steps": check})
    return phases


def component_document(step: PreparedStep, phases: Optional[list] = None) -> dict:
    phases = component_phases(step) if phases is None else phases
    document = {
        "name": step.name,
        "description": f"golden-images step {step.name} for {step.os}",
        "schemaVersion": 1.0,
    }
    if _needs_asset_bucket(phases):
        # The bucket's name exists only once the stack created it, and a component's content
        # names it: the recipe passes the name in, so the document stays the same everywhere.
        document["parameters"] = [{ASSET_BUCKET_PARAMETER: {
            "type": "string", "description": "The stack's build asset bucket (set by the recipe)"}}]
    document["phases"] = phases
    return document


def _needs_asset_bucket(phases: list) -> bool:
    return any(item.get("action") == "S3Download" for phase in phases for item in phase["steps"])


def _script_steps(step: PreparedStep, label: str, text: str, valid_codes: tuple,
                  timeout_minutes: Optional[int], retries: int) -> list:
    """Write the script to a file, then run it through a wrapper that maps its exit code.

    The wrapper is what makes `valid_exit_codes` work and keeps AWSTOE's own exit
    code conventions out of the step's hands: a bare script exiting 194 (Linux)
    or 3010 (Windows) would make AWSTOE restart the instance and run it again.
    Every outcome is 0 (accepted) or 1 (failed, the real code printed). AWSTOE
    runs every action as root or SYSTEM, so the run_elevated/run_as_system
    options need nothing more on AWS.
    """
    if "{{" in text:
        raise RenderError(
            f"step '{step.name}' ({step.os}): the {label.lower()} script contains '{{{{', which AWSTOE "
            "reads as a variable and cannot escape; write it differently (e.g. '{' + '{')")
    windows = step.os == "windows"
    separator, extension = ("\\", "ps1") if windows else ("/", "sh")
    folder = SCRIPT_DIRS[step.os]
    path = f"{folder}{separator}{step.name}-{label.lower()}.{extension}"
    run: dict = {"name": label, "action": "ExecutePowerShell" if windows else "ExecuteBash", "onFailure": "Abort"}
    if timeout_minutes:
        run["timeoutSeconds"] = timeout_minutes * 60
    if retries:
        run["maxAttempts"] = retries + 1
    wrapper = _powershell_wrapper if windows else _bash_wrapper
    run["inputs"] = {"commands": [wrapper(folder, path, valid_codes, f"{step.name} {label.lower()}")]}
    write = {"name": f"Write{label}Script", "action": "CreateFile",
             "inputs": [{"path": path, "content": text, "overwrite": True}]}
    return [write, run]


def _bash_wrapper(folder: str, path: str, codes: tuple, what: str) -> str:
    # The script stays after a failure: a retry (maxAttempts) runs it again.
    accepted = "|".join(str(c) for c in codes)
    return (
        "status=0\n"
        f"bash '{path}' || status=$?\n"
        f"case \"$status\" in\n"
        f"  {accepted})\n"
        f"    echo \"{what}: exit code $status accepted\"\n"
        f"    rm -f '{path}'\n"
        f"    rmdir '{folder}' 2>/dev/null || true\n"
        "    exit 0 ;;\n"
        "esac\n"
        f"echo \"{what}: failed with exit code $status\" >&2\n"
        "exit 1\n"
    )


def _powershell_wrapper(folder: str, path: str, codes: tuple, what: str) -> str:
    accepted = ", ".join(str(c) for c in codes)
    return (
        "& \"$env:SystemRoot\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoLogo -NoProfile "
        f"-NonInteractive -ExecutionPolicy Bypass -File '{path}'\n"
        "$status = $LASTEXITCODE\n"
        f"if (@({accepted}) -contains $status) {{\n"
        f"    Write-Output \"{what}: exit code $status accepted\"\n"
        f"    Remove-Item -LiteralPath '{path}' -Force\n"
        f"    if (-not (Get-ChildItem -LiteralPath '{folder}' -Force)) {{ Remove-Item -LiteralPath '{folder}' -Force }}\n"
        "    exit 0\n"
        "}\n"
        f"[Console]::Error.WriteLine(\"{what}: failed with exit code $status\")\n"
        "exit 1\n"
    )


# ---------------------------------------------------------------------------
# Components and recipes
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class KmsKey:
    """The customer managed key for AMIs, snapshots and components, in every region used.

    identity names the key in content hashes: an immutable object encrypted with
    another key needs another name. arns maps region -> key ARN (an Output in
    the component when the stack creates the key).
    """

    identity: str
    arns: Mapping[str, Any] = field(default_factory=dict)

    def arn(self, region: str) -> Any:
        if region not in self.arns:
            raise RenderError(f"no KMS key for region {region} (have: {', '.join(sorted(self.arns))})")
        return self.arns[region]


def configured_key(key_arn: str, regions: list) -> KmsKey:
    """A key from stack config, in every distribution region.

    A single-Region key encrypts only in its own region. A multi-Region key
    (mrk-...) has the same id in every region it is replicated to, so its ARN
    there is the same ARN with the region replaced.
    """
    parts = key_arn.split(":")
    home, resource = parts[3], parts[5]
    arns = {}
    for region in regions:
        if region == home:
            arns[region] = key_arn
        elif resource.startswith("key/mrk-"):
            arns[region] = ":".join([*parts[:3], region, *parts[4:]])
        else:
            raise RenderError(
                f"aws.kms_key_arn {key_arn} is a single-Region key in {home} and cannot encrypt AMIs in "
                f"{region}; use a multi-Region key (mrk-...) replicated to every distribution region, "
                "or leave kms_key_arn unset so the stack creates one")
    return KmsKey(identity=key_arn, arns=arns)


@dataclass(frozen=True)
class ComponentSpec:
    """One Image Builder component of ours, as CreateComponent receives it."""

    name: str
    version: str
    platform: str
    description: str
    data: str
    step: str
    parameters: tuple = ()  # AWSTOE document parameters the recipe must set


@dataclass(frozen=True)
class RecipeEntry:
    """One entry of a recipe's component list: an AWS-managed component or one of ours."""

    managed_arn: Optional[str] = None
    component: Optional[ComponentSpec] = None

    @property
    def identity(self) -> str:
        return self.managed_arn or f"{self.component.name}/{self.component.version}"


class DocumentCache:
    """Rendered components per step content, name prefix and key, for one run.

    A step used by ten flavours is one component: its AWSTOE documents (most of
    this renderer's cost) are dumped once and the frozen specs shared. The key is
    the step's repr (every field, in order, so nothing a document reads is left
    out), the prefix and the key identity, the only other inputs.
    """

    def __init__(self) -> None:
        self._specs: dict[tuple, tuple] = {}

    def specs(self, step: PreparedStep, prefix: str, key: KmsKey) -> tuple:
        cache_key = (repr(step), prefix, key.identity)
        found = self._specs.get(cache_key)
        if found is None:
            found = self._specs[cache_key] = tuple(_render_specs(step, prefix=prefix, key=key))
        return found


def component_specs(step: PreparedStep, *, prefix: str, key: KmsKey, cache: Optional[DocumentCache] = None) -> list:
    """The components of one step use: one, unless its document exceeds the inline limit.

    Image Builder runs the components' build and validate phases on the build
    instance and their test phases on the test instance, in recipe order.
    Phases moved into adjacent components of their own keep that order, so a
    large step is split by phase rather than refused; only a single phase over
    the limit is an error.
    """
    return list((cache or DocumentCache()).specs(step, prefix, key))


def _render_specs(step: PreparedStep, *, prefix: str, key: KmsKey) -> list:
    phases = component_phases(step)
    whole = _fitting_document(step, phases)
    if whole is not None:
        # A document only grows with each phase added, so the grouping below would keep every
        # phase in one component: that component is this document, dumped once instead of four times.
        return [_component_spec(step, phases, split=False, prefix=prefix, key=key, data=whole)]
    groups: list = []
    for phase in phases:
        if groups and _fitting_document(step, [*groups[-1], phase]) is not None:
            groups[-1].append(phase)
            continue
        if _fitting_document(step, [phase]) is None:
            size = len(dump_document(component_document(step, [phase]), compact=True))
            raise RenderError(
                f"step '{step.name}' ({step.os}): its {phase['name']} phase alone is an AWSTOE document of "
                f"{size} characters; Image Builder takes at most {INLINE_DOCUMENT_LIMIT} inline. "
                "Shorten the script (or the parameter values) or split the step")
        groups.append([phase])
    return [_component_spec(step, group, split=len(groups) > 1, prefix=prefix, key=key,
                            data=_fitting_document(step, group)) for group in groups]


def _fitting_document(step: PreparedStep, phases: list) -> Optional[str]:
    """The document within the inline limit: scripts as literal blocks, which the console shows as
    written, or else compactly as quoted strings (the indentation of a long script's lines alone
    can be a sixth of a document); None when neither fits."""
    document = component_document(step, phases)
    for compact in (False, True):
        data = dump_document(document, compact=compact)
        if len(data) <= INLINE_DOCUMENT_LIMIT:
            return data
    return None


def _component_spec(step: PreparedStep, phases: list, *, split: bool, prefix: str, key: KmsKey,
                    data: Optional[str] = None) -> ComponentSpec:
    """Name = hash of everything CreateComponent receives, so changed content is a new component.

    The version stays 1.0.0: a component is shared by flavours with different
    versions, and the name already changes with every change of content, so one
    name never meets two different documents.
    """
    if data is None:
        data = dump_document(component_document(step, phases))
    description = f"{step.name} for {step.os}, rendered from the golden-images step catalogue"
    platform = PLATFORMS[step.os]
    digest = content_hash({"data": data, "platform": platform, "version": COMPONENT_VERSION,
                           "description": description, "kms": key.identity})
    if split:
        kind = f"{step.os}-{'-'.join(p['name'] for p in phases)}"
    else:
        kind = f"{step.os}-check" if step.aws_managed_component else step.os
    return ComponentSpec(name=_hashed_name(f"{prefix}-{step.name}-{kind}", digest), version=COMPONENT_VERSION,
                         platform=platform, description=description, data=data, step=step.name,
                         parameters=(ASSET_BUCKET_PARAMETER,) if _needs_asset_bucket(phases) else ())


def recipe_entries(steps: Sequence[PreparedStep], *, prefix: str, region: str, key: KmsKey,
                   cache: Optional[DocumentCache] = None) -> list:
    """The recipe's components in the flavour's order; an AWS-managed step adds its check after it."""
    cache = cache or DocumentCache()
    entries = []
    for step in steps:
        if step.aws_managed_component:
            entries.append(RecipeEntry(managed_arn=managed_component_arn(step.aws_managed_component, region)))
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


def image_arn(region: str, account_id: str, recipe: str) -> str:
    """The newest image a recipe of this account built (Image Builder names images after their recipe)."""
    return f"arn:{partition(region)}:imagebuilder:{region}:{account_id}:image/{recipe.lower()}/x.x.x"


@dataclass(frozen=True)
class RecipePlan:
    """A flavour's AWS recipe as far as it is known before deployment: its entries and its name."""

    entries: tuple  # RecipeEntry, in build order
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


def recipe_name(build: FlavourBuild, entries: list, *, prefix: str, key: KmsKey,
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
    return _hashed_name(f"{prefix}-{build.name}", content_hash(body))


def _marketplace_parent(build: FlavourBuild) -> ParentImage:
    if build.base is not None:
        raise RenderError(f"flavour '{build.name}' is layered on '{build.base.name}': its parent image is "
                          "the base's Image Builder image (see parent_image)")
    return ParentImage(build.base_image.aws, build.base_image.aws)


def _recipe_components(entries: list, component_arns: list, asset_bucket: Any) -> list:
    """The recipe's component list; a component that downloads build assets is told the bucket."""
    components = []
    for entry, arn in zip(entries, component_arns):
        item: dict = {"component_arn": arn}
        needs = entry.component.parameters if entry.component else ()
        if needs:
            if asset_bucket is None:
                raise RenderError(f"step '{entry.component.step}' downloads build assets: the recipe needs the "
                                  "stack's asset bucket")
            item["parameters"] = [{"name": name, "value": asset_bucket} for name in needs]
        components.append(item)
    return components


def _recipe_body(build: FlavourBuild, components: list, kms_key_id: Any, parent: Any) -> dict:
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


def recipe_args(build: FlavourBuild, plan: RecipePlan, component_arns: list, *, region: str, key: KmsKey,
                tags: dict, parent_value: Any = None, asset_bucket: Any = None) -> dict:
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


# ---------------------------------------------------------------------------
# Infrastructure, distribution, pipeline, lifecycle
# ---------------------------------------------------------------------------
def flavour_resource_name(prefix: str, build: FlavourBuild) -> str:
    return f"{prefix}-{build.name}"


def instance_types(build: FlavourBuild, aws: AwsSettings) -> list:
    return list(build.machine.aws_instance_types or getattr(aws.instance_types, build.os))


def infrastructure_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, instance_profile_name: Any,
                        log_bucket: Any, topic_arn: Any, tags: dict) -> dict:
    """CreateInfrastructureConfiguration: where and how the build and test instances run."""
    args = {
        "name": flavour_resource_name(prefix, build),
        "description": f"Build and test instances of {build.name}",
        "instance_types": instance_types(build, aws),
        "instance_profile_name": instance_profile_name,
        "instance_metadata_options": {"http_tokens": "required"},
        "terminate_instance_on_failure": True,
        "logging": {"s3_logs": {"s3_bucket_name": log_bucket, "s3_key_prefix": f"{LOG_PREFIX}/{build.name}"}},
        "sns_topic_arn": topic_arn,
        "resource_tags": checked_tags(dict(tags), RESOURCE_TAG_LIMIT, f"flavour '{build.name}' build instances"),
        "tags": tags,
        "region": aws.region,
    }
    if aws.subnet_id:
        args["subnet_id"] = aws.subnet_id
    if aws.security_group_ids:
        args["security_group_ids"] = list(aws.security_group_ids)
    return args


def ami_name(prefix: str, build: FlavourBuild) -> str:
    name = f"{prefix}-{build.name}-{build.version}-{{{{ imagebuilder:buildDate }}}}"
    if len(name) > AMI_NAME_LIMIT:
        raise RenderError(f"flavour '{build.name}': AMI name '{name}' is longer than {AMI_NAME_LIMIT} "
                          "characters; use a shorter flavour name, version or stack name")
    return name


def ssm_parameter_name(aws: AwsSettings, build: FlavourBuild) -> str:
    return f"{aws.ssm_parameter_prefix}/{build.name}/latest"


def distribution_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, key: KmsKey, account_id: Any,
                      tags: dict) -> dict:
    """CreateDistributionConfiguration: one entry per region, encrypted, shared privately, findable."""
    sharing = aws.launch_permissions
    launch_permission = {k: list(v) for k, v in (("user_ids", sharing.account_ids),
                                                  ("organization_arns", sharing.organization_arns),
                                                  ("organizational_unit_arns", sharing.organizational_unit_arns)) if v}
    distributions = []
    for region in aws.regions:
        ami = {
            "name": ami_name(prefix, build),
            # EC2 (CreateImage, RegisterImage) takes AMI descriptions of up to 255 characters;
            # Image Builder would accept 1024 and fail at distribution.
            "description": build.description[:AMI_DESCRIPTION_LIMIT],
            "ami_tags": tags,
            "kms_key_id": key.arn(region),
        }
        if aws.target_account_ids:
            ami["target_account_ids"] = list(aws.target_account_ids)
        if launch_permission:
            ami["launch_permission"] = launch_permission
        entry = {
            "region": region,
            "ami_distribution_configuration": ami,
            "ssm_parameter_configurations": [
                {"parameter_name": ssm_parameter_name(aws, build), "data_type": "aws:ec2:image"},
            ],
        }
        if build.os == "windows" and aws.fast_launch:
            entry["fast_launch_configurations"] = [{
                "enabled": True,
                "account_id": account_id,
                "max_parallel_launches": FAST_LAUNCH_PARALLEL_LAUNCHES,
                "snapshot_configuration": {"target_resource_count": aws.fast_launch_snapshots},
            }]
        distributions.append(entry)
    return {
        "name": flavour_resource_name(prefix, build),
        "description": f"Distribution of {build.name} to {', '.join(aws.regions)}",
        "distributions": distributions,
        "tags": tags,
        "region": aws.region,
    }


def schedule_expression(schedule: Schedule) -> str:
    """Image Builder's six-field cron: minute hour day-of-month month day-of-week year."""
    if schedule.every == "day":
        day_of_month, day_of_week = "*", "?"
    elif schedule.every == "week":
        day_of_month, day_of_week = "?", schedule.weekday[:3].upper()
    else:
        day_of_month, day_of_week = str(schedule.on), "?"
    return f"cron({schedule.minute} {schedule.hour} {day_of_month} * {day_of_week} *)"


def pipeline_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, recipe_arn: Any,
                  infrastructure_arn: Any, distribution_arn: Any, tags: dict) -> dict:
    """CreateImagePipeline: a schedule that always runs, tests, scanning, enhanced metadata.

    A layered flavour's pipeline runs after its base's, on the same rule, and
    always (not only when its base produced a new image): it re-runs updates
    itself, so a late or failed base build never leaves it unpatched.
    """
    schedule = build.schedule
    after = f", after {build.base.name}" if build.base else ""
    return {
        "name": flavour_resource_name(prefix, build),
        "description": f"{build.name}: {schedule.describe()}{after}",
        "image_recipe_arn": recipe_arn,
        "infrastructure_configuration_arn": infrastructure_arn,
        "distribution_configuration_arn": distribution_arn,
        "schedule": {
            "schedule_expression": schedule_expression(schedule),
            "timezone": schedule.timezone,
            # The default start condition skips runs when no component or parent image
            # changed, so the month's OS patches would never be picked up.
            "pipeline_execution_start_condition": START_CONDITION,
        },
        "image_tests_configuration": {
            "image_tests_enabled": True,
            "timeout_minutes": min(build.tests.timeout_minutes, build.machine.timeout_minutes),
        },
        "image_scanning_configuration": {"image_scanning_enabled": True},
        "enhanced_image_metadata_enabled": True,
        "status": "ENABLED",
        "tags": tags,
        "region": aws.region,
    }


def lifecycle_policy_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, recipe: str,
                          execution_role_arn: Any, tags: dict) -> dict:
    """CreateLifecyclePolicy: deprecate old AMIs, then delete them with their snapshots.

    Images are selected by recipe, not by tag: pipeline-built images carry only
    the tags of the pipeline's `imageTags`, which pulumi-aws cannot set yet.
    The version wildcard keeps every version of the recipe in scope.
    """
    keep = aws.lifecycle.keep_images
    details = []
    if aws.lifecycle.deprecate_after_days:
        details.append({"action": {"type": "DEPRECATE", "include_resources": {"amis": True}},
                        "filter": {"type": "AGE", "value": aws.lifecycle.deprecate_after_days, "unit": "DAYS"}})
    # Image Builder takes COUNT filters only with DELETE, so deprecation needs an age.
    details.append({"action": {"type": "DELETE", "include_resources": {"amis": True, "snapshots": True}},
                    "filter": {"type": "COUNT", "value": keep}})
    return {
        "name": flavour_resource_name(prefix, build),
        "description": f"Keep the newest {keep} images of {build.name}",
        "execution_role": execution_role_arn,
        "resource_type": "AMI_IMAGE",
        "status": "ENABLED",
        "policy_details": details,
        "resource_selection": {"recipes": [{"name": recipe, "semantic_version": "x.x.x"}]},
        "tags": tags,
        "region": aws.region,
    }


def start_build_command(pipeline_arn: str, region: str) -> str:
    return f"aws imagebuilder start-image-pipeline-execution --image-pipeline-arn {pipeline_arn} --region {region}"


# ---------------------------------------------------------------------------
# Shared infrastructure: policies and bucket rules
# ---------------------------------------------------------------------------
def assume_role_policy(service: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"},
    ]}


def log_write_policy(bucket_arn: str) -> dict:
    """Build instances write their logs under the log prefix and nowhere else."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "WriteBuildLogs", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"{bucket_arn}/{LOG_PREFIX}/*"},
    ]}


def asset_read_policy(bucket_arn: str) -> dict:
    """Build instances read build assets and nothing else of the bucket."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadBuildAssets", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"{bucket_arn}/{ASSET_PREFIX}/*"},
    ]}


def tls_only_bucket_policy(bucket_arn: str) -> dict:
    """Every request to the stack's buckets (logs, build assets) over TLS."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


def log_lifecycle_rules(days: int) -> list:
    return [{
        "id": "expire-build-logs",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "expiration": {"days": days},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    }]


_KEY_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]


def kms_key_policy(aws: AwsSettings, *, account_id: str) -> dict:
    """Key policy: the account administers the key; consumers of shared AMIs may use it.

    Accounts that receive copies (target accounts) and accounts, organizations
    and OUs with launch permission need the key to copy or launch encrypted
    AMIs; CreateGrant is limited to grants for AWS resources (EBS volumes).
    Image Builder's service-linked role publishes to the encrypted SNS topic.
    It is matched by aws:PrincipalArn rather than named as principal, because it
    exists only after the account's first Image Builder use and KMS refuses
    policies naming principals that do not exist.
    """
    region = aws.region
    root = f"arn:{partition(region)}:iam::{account_id}:root"
    statements = [
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "ImageBuilderNotifications", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account_id,
                                        "kms:ViaService": f"sns.{region}.amazonaws.com"},
                       "ArnEquals": {"aws:PrincipalArn": image_builder_service_role_arn(account_id, region)}}},
    ]
    accounts = sorted(set(aws.target_account_ids) | set(aws.launch_permissions.account_ids))
    if accounts:
        principals = [f"arn:{partition(region)}:iam::{a}:root" for a in accounts]
        statements += [
            {"Sid": "SharedAccountsUseKey", "Effect": "Allow", "Principal": {"AWS": principals},
             "Action": _KEY_USE, "Resource": "*"},
            {"Sid": "SharedAccountsGrantToEbs", "Effect": "Allow", "Principal": {"AWS": principals},
             "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]
    org_ids = sorted({arn.rsplit("/", 1)[-1] for arn in aws.launch_permissions.organization_arns})
    ou_paths = sorted({f"{arn.split('/')[1]}/*/{arn.split('/')[2]}/*"
                       for arn in aws.launch_permissions.organizational_unit_arns})
    for sid, key, values in (("Organizations", "aws:PrincipalOrgID", org_ids),
                             ("OrganizationalUnits", "aws:PrincipalOrgPaths", ou_paths)):
        if values:
            operator = "StringEquals" if key == "aws:PrincipalOrgID" else "ForAnyValue:StringLike"
            statements += [
                {"Sid": f"{sid}UseKey", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": _KEY_USE,
                 "Resource": "*", "Condition": {operator: {key: values}}},
                {"Sid": f"{sid}GrantToEbs", "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": "kms:CreateGrant", "Resource": "*",
                 "Condition": {operator: {key: values}, "Bool": {"kms:GrantIsForAWSResource": "true"}}},
            ]
    return {"Version": "2012-10-17", "Statement": statements}


# ---------------------------------------------------------------------------
# Up-front checks: reported with the other problems, before anything is created
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AwsPlan:
    """Everything about the stack's AWS factory that is rendered before deployment, once."""

    prefix: str
    key: KmsKey  # placeholder ARNs when the stack creates the key
    recipes: Mapping[str, RecipePlan]  # flavour -> its recipe plan


def plan_aws(builds: Sequence[FlavourBuild], aws: AwsSettings, *, stack: str, settings_source: str) -> tuple:
    """(AwsPlan, problems): every AWS limit a valid model can still exceed, found by rendering once.

    Key regions, tag counts, recipe size, AMI names. The recipes rendered here are
    the ones the components create: nothing is rendered again.
    """
    from ..model.build import SOURCE_COMMIT_TAG
    from ..model.errors import Problem

    problems = []
    key = KmsKey(identity="stack-key", arns={region: f"arn:aws:kms:{region}:000000000000:key/check"
                                              for region in aws.regions})
    if aws.kms_key_arn:
        try:
            key = configured_key(aws.kms_key_arn, aws.regions)
        except RenderError as err:
            problems.append(Problem(settings_source, "golden-images:aws.kms_key_arn", str(err)))
    prefix = name_prefix(stack)
    cache = DocumentCache()
    recipes: dict = {}
    for build in builds:
        if not build.builds_on("aws"):
            continue

        def render_recipe(build: FlavourBuild = build) -> None:
            plan = recipe_plan(build, prefix=prefix, region=aws.region, key=key,
                               base=recipes.get(build.base.name) if build.base else None, cache=cache)
            recipe_args(build, plan, ["arn"] * len(plan.entries), region=aws.region, key=key, tags={},
                        asset_bucket="bucket")
            recipes[build.name] = plan

        checks = (
            # The commit is known only in CI: count its tag whether or not this run has one.
            ("tags", lambda build=build: checked_tags({**build.tags, SOURCE_COMMIT_TAG: "0" * 40}, RESOURCE_TAG_LIMIT,
                                                      f"flavour '{build.name}' build instances")),
            ("steps", render_recipe),
            ("name", lambda build=build: ami_name(prefix, build)),
        )
        for path, check in checks:
            try:
                check()
            except RenderError as err:
                problems.append(Problem(build.source, path, str(err)))
    return AwsPlan(prefix=prefix, key=key, recipes=recipes), problems
