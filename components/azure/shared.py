"""Per-stack Azure infrastructure shared by every flavour's template."""
from __future__ import annotations

from typing import Optional

import pulumi

from ..model.settings import StackSettings


class AzureSharedInfrastructure(pulumi.ComponentResource):
    """Placeholder until the Azure VM Image Builder factory lands."""

    def __init__(self, name: str, *, settings: StackSettings, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("golden-images:azure:SharedInfrastructure", name, None, opts)
        self.register_outputs({})
