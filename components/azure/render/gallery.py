"""The gallery image definition a flavour's versions are published under."""
from __future__ import annotations

from ...model.build import FlavourBuild
from ...model.settings import AzureSettings
from .names import FactoryNames


def render_image_definition(flavour: FlavourBuild, azure: AzureSettings, names: FactoryNames) -> dict:
    """The gallery image definition (wire names). Consumers use its latest version."""
    # A layer's images boot like the marketplace image under its chain.
    source = flavour.root.base_image.azure
    generation = source.hyper_v_generation
    definition = {
        "galleryImageName": flavour.name,
        "location": names.location,
        "description": flavour.description,
        "identifier": {
            "publisher": azure.image_publisher,
            "offer": flavour.name,
            "sku": names.stack,
        },
        "osType": "Windows" if flavour.os == "windows" else "Linux",
        "osState": "Generalized",
        "hyperVGeneration": generation,
        "architecture": "Arm64" if "arm64" in source.sku.lower() else "x64",
        "tags": dict(flavour.tags),
    }
    if generation == "V2":
        # Gen2 marketplace sources boot with Secure Boot and vTPM; 'Supported' lets
        # consumers launch either Trusted Launch or standard VMs from the image.
        definition["features"] = [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
    return definition

