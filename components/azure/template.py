"""One flavour's Azure VM Image Builder template."""
from __future__ import annotations

from typing import Optional

import pulumi


class AzureImageTemplate(pulumi.ComponentResource):
    """Placeholder until the Azure VM Image Builder factory lands."""

    def __init__(self, name: str, *, flavour, catalogue, settings, shared,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("golden-images:azure:ImageTemplate", name, None, opts)
        self.summary = {"regions": [r.region for r in settings.azure.replicas]}
        self.register_outputs({})
