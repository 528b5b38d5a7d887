"""The gallery image definition a flavour's versions are published under."""
from __future__ import annotations

from typing import Any

from ...model.build import FlavourBuild
from ...model.settings import AzureSettings
from .names import FactoryNames, wire_name
from .template import marketplace_image


def image_definition_args(flavour: FlavourBuild, azure: AzureSettings, names: FactoryNames) -> dict[str, Any]:
    """GalleryImage's arguments (without the gallery and its group). Consumers use its latest version."""
    # A layer's images boot like the marketplace image under its chain.
    source = marketplace_image(flavour.root)
    generation = source.hyper_v_generation
    args: dict[str, Any] = {
        "gallery_image_name": flavour.name,
        "location": names.location,
        "description": flavour.description,
        "identifier": {
            "publisher": azure.image_publisher,
            "offer": flavour.name,
            "sku": names.stack,
        },
        "os_type": "Windows" if flavour.os == "windows" else "Linux",
        "os_state": "Generalized",
        "hyper_v_generation": generation,
        "architecture": "Arm64" if "arm64" in source.sku.lower() else "x64",
        "tags": dict(flavour.tags),
    }
    if generation == "V2":
        # Gen2 marketplace sources boot with Secure Boot and vTPM; 'Supported' lets
        # consumers launch either Trusted Launch or standard VMs from the image.
        args["features"] = [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
    return args


def render_image_definition(flavour: FlavourBuild, azure: AzureSettings, names: FactoryNames) -> dict[str, Any]:
    """The gallery image definition as the REST API spells it."""
    return {wire_name(key): value for key, value in image_definition_args(flavour, azure, names).items()}
