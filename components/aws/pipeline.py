"""One flavour's EC2 Image Builder pipeline."""
from __future__ import annotations

from typing import Optional

import pulumi


class AwsImagePipeline(pulumi.ComponentResource):
    """Placeholder until the EC2 Image Builder factory lands."""

    def __init__(self, name: str, *, flavour, catalogue, settings, shared, source_commit=None,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("golden-images:aws:ImagePipeline", name, None, opts)
        self.summary = {"regions": settings.aws.regions}
        self.register_outputs({})
