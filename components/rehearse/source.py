"""What the rehearsal runs, read from the project's model in one place.

`load_rehearsal` is the only code of the rehearsal that knows the model: it reads
the stack's settings and the flavour files as the program does, prepares the
flavour's steps for the cloud the stack builds it on, and returns plain
dataclasses. Everything else in this package depends only on these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


class RehearsalError(Exception):
    """A request the rehearsal refuses (unknown flavour, Windows, invalid files); one message."""


@dataclass(frozen=True)
class Fetch:
    """A file the step's build fetches before its script runs, verified by sha256.

    `local` is set for a build asset: the packed folder of this repository that the
    cloud would fetch from the stack's bucket or container, served from the local pack.
    """

    url: str
    sha256: str
    destination: str
    local: Optional[str] = None


@dataclass(frozen=True)
class StepSpec:
    """One step use, as the build instance runs it."""

    name: str
    script: Optional[str]  # install script with its environment; None for a managed component
    check: str
    environment: dict = field(default_factory=dict)
    fetches: tuple = ()
    reboot_after: bool = False
    valid_exit_codes: tuple = (0,)
    retries: int = 0
    timeout_minutes: Optional[int] = None
    image_test: bool = True
    managed_component: Optional[str] = None  # an AWS-managed component does the build
    base_flavour: Optional[str] = None  # set for a step the base chain of a layered flavour ran
    check_fetches: bool = False  # the check fetches the downloads again (an image test suite and its runner)
    secrets: tuple = ()  # the references the step reads with the cloud's identity (none is read here)
    use_name: str = ""  # the use's name among the flavour's script, file or artifact steps (use_names.py)


@dataclass(frozen=True)
class Rehearsal:
    flavour: str
    stack: str
    os: str
    cloud: str  # whose prepared steps these are
    base_aws: Optional[str]  # the flavour's base image, as written (of the bottom of a layer chain)
    base_azure: Optional[str]  # publisher:offer:sku
    steps: tuple


def load_rehearsal(stack: str, flavour_name: str, root: Path, flavours_dir: Optional[Path] = None) -> Rehearsal:
    """The flavour's prepared steps for `stack`: AWS's when the stack builds it on AWS, else Azure's."""
    from components.model.assets import Asset, write_asset
    from components.model.build import make_builds
    from components.model.errors import ValidationFailed
    from components.model.loader import load_inputs
    from components.model.settings import NAMESPACE
    from components.stack_file import UserError, stack_config

    root = Path(root)
    try:
        config, source = stack_config(stack, root)
    except UserError as err:
        raise RehearsalError(str(err)) from None
    config = {k: v for k, v in config.items() if k.startswith(NAMESPACE + ":")}
    try:
        # The builds the program makes: the same prepared steps, in the same order. The cloud
        # pass (components/builds.py) adds names and limits, which a rehearsal does not need.
        inputs = load_inputs(config, source, flavours_dir or root / "image_flavours", root)
    except ValidationFailed as failed:
        raise RehearsalError(failed.report()) from None
    found = {build.name: build for build in make_builds(inputs.flavours, inputs.settings, inputs.catalogue)}
    build = found.get(flavour_name)
    if build is None:
        raise RehearsalError(f"no flavour '{flavour_name}' in stack {stack} (flavours: {', '.join(sorted(found)) or 'none'})")
    if build.os != "linux":
        raise RehearsalError(
            f"{flavour_name} is a {build.os} flavour: only Linux flavours can be rehearsed here "
            "(a Windows build needs a Windows machine; no container or chroot runs one on Linux)")
    cloud = "aws" if build.builds_on("aws") else "azure"
    assets_dir = root / "build" / "assets"

    def specs(layer, base_of: Optional[str]) -> list:
        out = []
        for p in layer.steps_on(cloud):
            packed = {v.key: v for v in p.params.values() if isinstance(v, Asset)}
            fetches = tuple(
                Fetch(url=d.url, sha256=d.sha256, destination=d.destination,
                      local=str(write_asset(packed[d.asset_key], assets_dir)) if d.asset_key else None)
                for d in p.downloads)
            out.append(StepSpec(
                name=p.name, script=p.script, check=p.check, environment=dict(p.environment),
                fetches=fetches, reboot_after=p.reboot_after, valid_exit_codes=tuple(p.valid_exit_codes),
                retries=p.retries, timeout_minutes=p.timeout_minutes, image_test=p.image_test,
                managed_component=p.aws_managed_component if cloud == "aws" else None,
                base_flavour=base_of, check_fetches=p.check_downloads,
                secrets=tuple(ref.reference for _, ref in p.secrets), use_name=p.label))
        return out

    # A layer's build starts on its base's image: the base chain's steps run first.
    chain = build.chain
    steps = [s for layer in chain[:-1] for s in specs(layer, layer.name)] + specs(build, None)
    bottom = build.root
    azure = bottom.base_image.azure
    return Rehearsal(
        flavour=build.name, stack=stack, os=build.os, cloud=cloud,
        base_aws=bottom.base_image.aws,
        base_azure=f"{azure.publisher}:{azure.offer}:{azure.sku}" if azure else None,
        steps=tuple(steps))
