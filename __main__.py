"""golden-images: one image factory per flavour on every cloud the stack enables."""
from pathlib import Path

import pulumi

from components.golden_image import GoldenImage, cloud_problems, create_shared
from components.model.errors import ValidationFailed
from components.model.loader import load_inputs
from components.stack import read_config, settings_source, source_commit

ROOT = Path(__file__).resolve().parent

# Validate everything before creating anything: a user's mistake stops the run
# with every problem listed and no resource registered.
try:
    inputs = load_inputs(read_config(), settings_source(), ROOT / "image_flavours", ROOT)
    problems = cloud_problems(inputs, settings_source(), pulumi.get_stack())
    if problems:
        raise ValidationFailed(problems)
except ValidationFailed as failed:
    raise pulumi.RunError(failed.report()) from None

shared = create_shared(inputs.settings, [item.flavour for item in inputs.flavours], ROOT)
# Bases come before the flavours layered on them (load_inputs orders them so).
images: dict = {}
for item in inputs.flavours:
    base = item.flavour.base
    images[item.flavour.name] = GoldenImage(
        item.flavour,
        catalogue=inputs.catalogue,
        settings=inputs.settings,
        shared=shared,
        base=images[base.name] if base is not None else None,
        source_commit=source_commit(),
    )

pulumi.export("flavours", {name: image.summary for name, image in images.items()})
for warning in inputs.warnings:
    pulumi.log.warn(str(warning))
pulumi.export("applications", inputs.applications)
