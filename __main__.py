"""golden-images: one image factory per flavour on every cloud the stack enables."""
from pathlib import Path

import pulumi

from components.builds import resolve_stack
from components.golden_image import GoldenImage, create_shared, retire_flavours
from components.model.errors import ValidationFailed
from components.stack import read_config, settings_source, source_commit

ROOT = Path(__file__).resolve().parent

# Validate everything before creating anything: a user's mistake stops the run
# with every problem listed and no resource registered.
try:
    stack = resolve_stack(read_config(), settings_source(), pulumi.get_stack(), ROOT, source_commit())
except ValidationFailed as failed:
    raise pulumi.RunError(failed.report()) from None

shared = create_shared(stack, ROOT)
# Bases come before the flavours layered on them (the loader orders them so).
images: dict = {}
for build in stack.builds:
    images[build.name] = GoldenImage(build, stack=stack, shared=shared,
                                     base=images[build.base.name] if build.base is not None else None)

pulumi.export("flavours", {name: image.summary for name, image in images.items()})
# Flavours removed on purpose (golden-images:retired): what they leave behind, decided.
retired = retire_flavours(stack)
if retired:
    pulumi.export("retired", retired)
for warning in stack.warnings:
    pulumi.log.warn(str(warning))
pulumi.export("applications", stack.applications)
