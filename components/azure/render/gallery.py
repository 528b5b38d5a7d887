"""The gallery image definition a flavour's versions are published under."""
from __future__ import annotations

from typing import Any, Optional

from ...model.build import FlavourBuild
from ...model.settings import AzureSettings
from .names import FactoryNames, wire_name
from .template import marketplace_image

SECURE_TYPES = ("TrustedLaunch", "TrustedLaunchSupported", "ConfidentialVM")


def hyper_v_generation(flavour: FlavourBuild) -> str:
    """The flavour's gallery.hyper_v_generation, else the marketplace image's under its chain.

    Windows 11 and other Gen2-only images are V2: a Gen2 build cannot be distributed into a V1
    definition. A gallery image version source states it (the loader requires it).
    """
    own = flavour.flavour.gallery.hyper_v_generation or flavour.root.flavour.gallery.hyper_v_generation
    if own:
        return own
    generation = marketplace_image(flavour.root).hyper_v_generation
    if generation is None:
        raise ValueError(f"flavour '{flavour.name}' starts from a gallery image version: set "
                         "gallery.hyper_v_generation to that image's generation")
    return generation


def security_type(flavour: FlavourBuild, generation: str) -> str:
    """The flavour's gallery.security_type; by default TrustedLaunchSupported on V2, Standard on V1."""
    own = flavour.flavour.gallery.security_type
    if own is not None:
        return own
    return "TrustedLaunchSupported" if generation == "V2" else "Standard"


def image_features(flavour: FlavourBuild, generation: str) -> list[dict[str, str]]:
    """GalleryImage features (name/value strings, as the Compute API takes them)."""
    gallery = flavour.flavour.gallery
    kind = security_type(flavour, generation)
    if kind in SECURE_TYPES and generation != "V2":
        raise ValueError(f"flavour '{flavour.name}': security type {kind} needs Hyper-V generation V2 "
                         "(Secure Boot and vTPM exist on Gen2 VMs only)")
    features: list[dict[str, str]] = []
    if kind != "Standard":
        # Gen2 marketplace sources boot with Secure Boot and vTPM; 'Supported' lets
        # consumers launch either Trusted Launch or standard VMs from the image.
        features.append({"name": "SecurityType", "value": kind})
    if gallery.accelerated_networking is not None:
        features.append({"name": "IsAcceleratedNetworkSupported", "value": str(gallery.accelerated_networking)})
    if gallery.hibernation is not None:
        features.append({"name": "IsHibernateSupported", "value": str(gallery.hibernation)})
    if gallery.disk_controller_types:
        features.append({"name": "DiskControllerTypes", "value": ", ".join(gallery.disk_controller_types)})
    return features


def image_definition_args(flavour: FlavourBuild, azure: AzureSettings, names: FactoryNames) -> dict[str, Any]:
    """GalleryImage's arguments (without the gallery and its group). Consumers use its latest version."""
    # A layer's images boot like the image under its chain.
    source = marketplace_image(flavour.root)
    generation = hyper_v_generation(flavour)
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
        "architecture": "Arm64" if source.arm64 else "x64",
        "tags": dict(flavour.tags),
    }
    features = image_features(flavour, generation)
    if features:
        args["features"] = features
    return args


def render_image_definition(flavour: FlavourBuild, azure: AzureSettings, names: FactoryNames) -> dict[str, Any]:
    """The gallery image definition as the REST API spells it."""
    return {wire_name(key): value for key, value in image_definition_args(flavour, azure, names).items()}


def image_definition_id(subscription_id: str, names: FactoryNames, flavour: str) -> str:
    """The full resource id of a flavour's gallery image definition (GalleryImage's id; what an import names)."""
    return (f"/subscriptions/{subscription_id}/resourceGroups/{names.resource_group}/providers/"
            f"Microsoft.Compute/galleries/{names.gallery}/images/{flavour}")


def adopted_definition_id(flavour: FlavourBuild, azure: AzureSettings, names: FactoryNames) -> Optional[str]:
    """The id to import the flavour's definition from when the stack adopts it (azure.adopt), else None.

    A definition is retained on delete (the flavour's removal leaves it, with its versions); when the
    flavour comes back, creating it again fails because it exists: importing adopts it instead.
    """
    if flavour.name not in azure.adopt or azure.subscription_id is None:
        return None
    return image_definition_id(azure.subscription_id, names, flavour.name)
