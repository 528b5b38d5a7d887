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
    from components.model.errors import ValidationFailed
    from components.model.loader import load_inputs
    from components.model.prepared import prepare_flavour
    from components.model.settings import NAMESPACE
    from components.plan import UserError, stack_config

    root = Path(root)
    try:
        config, source = stack_config(stack, root)
    except UserError as err:
        raise RehearsalError(str(err)) from None
    config = {k: v for k, v in config.items() if k.startswith(NAMESPACE + ":")}
    try:
        inputs = load_inputs(config, source, flavours_dir or root / "image_flavours", root)
    except ValidationFailed as failed:
        raise RehearsalError(failed.report()) from None
    found = {item.flavour.name: item.flavour for item in inputs.flavours}
    flavour = found.get(flavour_name)
    if flavour is None:
        raise RehearsalError(f"no flavour '{flavour_name}' in stack {stack} (flavours: {', '.join(sorted(found)) or 'none'})")
    if flavour.os != "linux":
        raise RehearsalError(
            f"{flavour_name} is a {flavour.os} flavour: only Linux flavours can be rehearsed here "
            "(a Windows build needs a Windows machine; no container or chroot runs one on Linux)")
    clouds = flavour.enabled_clouds(inputs.settings.clouds)
    cloud = "aws" if "aws" in clouds else "azure"
    assets_dir = root / "build" / "assets"

    def specs(f, base_of: Optional[str]) -> list:
        out = []
        for p in prepare_flavour(f, inputs.catalogue, cloud):
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
                base_flavour=base_of))
        return out

    # A layer's build starts on its base's image: the base chain's steps run first.
    chain, bottom = [], flavour
    while bottom.base is not None:
        bottom = bottom.base
        chain.insert(0, bottom)
    steps = [s for base in chain for s in specs(base, base.name)] + specs(flavour, None)
    azure = bottom.base_image.azure
    return Rehearsal(
        flavour=flavour.name, stack=stack, os=flavour.os, cloud=cloud,
        base_aws=bottom.base_image.aws,
        base_azure=f"{azure.publisher}:{azure.offer}:{azure.sku}" if azure else None,
        steps=tuple(steps))
