"""Resolved builds for tests: a flavour as a stack would build it, without a flavour folder."""
from __future__ import annotations

from typing import Optional

from components.model.build import FlavourBuild, make_build
from components.model.flavour import Flavour, LoadedFlavour
from components.model.layers import build_layer
from components.model.settings import StackSettings
from components.model.steps import Catalogue


def build_of(flavour: Flavour, settings: StackSettings, catalogue: Catalogue, *,
             base: Optional[FlavourBuild] = None, source_commit: Optional[str] = None,
             source: str = "image_flavours/test.yaml") -> FlavourBuild:
    """The build of `flavour` in a stack with `settings`; with `base`, layered on that build."""
    item = LoadedFlavour(flavour, source)
    if base is not None:
        item = build_layer(item, _loaded(base), catalogue)
    return make_build(item, settings, catalogue, base, source_commit)


def _loaded(build: FlavourBuild) -> LoadedFlavour:
    """A build back as the loader's item, for layering another flavour on it."""
    item = LoadedFlavour(build.flavour, build.source)
    if build.base is not None:
        from components.model.flavour import Layer

        item = LoadedFlavour(build.flavour, build.source, Layer(_loaded(build.base), build.build_steps, build.layer_notes))
    return item


def builds_of(inputs, source_commit: Optional[str] = None) -> dict[str, FlavourBuild]:
    """name -> build of every flavour that load_inputs selected."""
    from components.model.build import make_builds

    return {build.name: build for build in make_builds(inputs.flavours, inputs.settings, inputs.catalogue, source_commit)}
