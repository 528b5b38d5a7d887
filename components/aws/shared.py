"""Per-stack AWS infrastructure shared by every flavour's pipeline."""
from __future__ import annotations

from typing import Optional

import pulumi

from ..model.settings import StackSettings


class AwsSharedInfrastructure(pulumi.ComponentResource):
    """Placeholder until the EC2 Image Builder factory lands."""

    def __init__(self, name: str, *, settings: StackSettings, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("golden-images:aws:SharedInfrastructure", name, None, opts)
        self.register_outputs({})
