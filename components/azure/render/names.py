"""Names and ids of the Azure factory, the build identities' role actions and the run action."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

from ...model.build import FlavourBuild
from ...model.settings import AzureSettings

API_VERSION = "2024-02-01"
ARM_ENDPOINT = "https://management.azure.com"

# The identity that runs builds: publish versions into this gallery, join the build
# subnets. Staging groups are created, permissioned and deleted by the Image Builder
# service itself (granted when the resource provider is registered), so the identity
# needs nothing at subscription scope. Platform images need no read permission.
# Reading is granted on the gallery (a layer reads its base's versions); writing versions
# only on each flavour's own image definition, one assignment per definition: Azure RBAC
# scopes reach individual resources and their children (.../galleries/<g>/images/<name>).
GALLERY_ACTIONS = (
    "Microsoft.Compute/galleries/read",
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
)
PUBLISH_ACTIONS = (
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
    "Microsoft.Compute/galleries/images/versions/write",
)
NETWORK_ACTIONS = (
    "Microsoft.Network/virtualNetworks/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
)
# The schedule's identity may start builds and nothing else.
RUNNER_ACTIONS = (
    "Microsoft.VirtualMachineImages/imageTemplates/read",
    "Microsoft.VirtualMachineImages/imageTemplates/run/action",
)

# The blob container of the stack's build assets; the builder identity may read its blobs.
ASSET_CONTAINER = "build-assets"
BLOB_READ_DATA_ACTION = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"

# The built-in role the build VM's identity reads the team's artefact container with (Azure RBAC
# "Azure built-in roles for Storage": Storage Blob Data Reader; role ids are the same in every tenant).
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


def built_in_role_id(subscription_id: str, role: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


@dataclass(frozen=True)
class FactoryNames:
    """Names of the shared per-stack objects; everything per flavour derives from these."""

    stack: str
    location: str
    resource_group: str
    gallery: str
    builder_identity: str
    scheduler_identity: str
    build_vm_identity: str = ""

    @classmethod
    def for_stack(cls, stack: str, azure: AzureSettings) -> "FactoryNames":
        slug = stack_slug(stack)
        return cls(
            stack=slug,
            location=azure.location,
            resource_group=azure.resource_group_name or f"golden-images-{slug}"[:90],
            gallery=azure.gallery_name or gallery_name_for(stack),
            builder_identity=f"golden-images-{slug}-builder"[:128],
            scheduler_identity=f"golden-images-{slug}-scheduler"[:128],
            build_vm_identity=f"golden-images-{slug}-build-vm"[:128],
        )

    def workflow(self, flavour: FlavourBuild) -> str:
        return f"golden-images-{self.stack}-{flavour.name}"[:80]

    def builder_role(self, subscription_id: str) -> str:
        """Custom role names are unique per tenant, so they name the group and subscription."""
        return f"golden-images image builder ({self.resource_group}, {subscription_id})"

    def publisher_role(self, subscription_id: str) -> str:
        return f"golden-images image publisher ({self.resource_group}, {subscription_id})"

    def runner_role(self, subscription_id: str) -> str:
        return f"golden-images image template runner ({self.resource_group}, {subscription_id})"

    def identity_assigner_role(self, subscription_id: str) -> str:
        return f"golden-images build VM identity assigner ({self.resource_group}, {subscription_id})"


def stack_slug(stack: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", stack).strip("-") or "stack"


def gallery_name_for(stack: str) -> str:
    """Compute Gallery names allow letters, digits, underscores and periods: no hyphens."""
    name = "golden_images_" + re.sub(r"[^A-Za-z0-9_.]", "_", stack)
    return name[:80].rstrip("_.") or "golden_images"


def template_name(flavour: FlavourBuild, digest: str) -> str:
    """`^[A-Za-z0-9-_.]{1,64}$`: flavour names are at most 40 characters, digests 10."""
    return f"{flavour.name}-{digest}"


def staging_group_name(names: FactoryNames, template: str) -> str:
    """A fresh, empty group per template: Image Builder refuses a group used before."""
    suffix = f"-staging-{template}"
    return names.resource_group[: 90 - len(suffix)] + suffix


def group_id(subscription_id: str, group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}"


def vnet_ids(azure: AzureSettings) -> list[str]:
    """The virtual networks of the build subnets (role assignments go on the network)."""
    found: list[str] = []
    for subnet in (azure.subnet_id, azure.container_instance_subnet_id):
        if subnet:
            vnet = subnet.split("/subnets/")[0]
            if vnet not in found:
                found.append(vnet)
    return found


def vnet_group_ids(azure: AzureSettings) -> list[str]:
    """Resource groups of those networks: custom roles are assignable at group level."""
    found: list[str] = []
    for vnet in vnet_ids(azure):
        group = vnet.split("/providers/")[0]
        if group not in found:
            found.append(group)
    return found


def builder_actions(azure: AzureSettings) -> list[str]:
    return [*GALLERY_ACTIONS, *(NETWORK_ACTIONS if azure.subnet_id else ())]


def run_command(template: str, group: str) -> str:
    # Quoted where the shell would read a character otherwise: resource group names take ( ).
    return f"az image builder run -n {shlex.quote(template)} -g {shlex.quote(group)} --no-wait"


def run_uri(template_id: str) -> str:
    """The template's run action; template ids start with /subscriptions/."""
    return f"{ARM_ENDPOINT}{template_id}/run?api-version={API_VERSION}"



def derived(value: Any, derive: Callable[[str], Any]) -> Any:
    """derive(value) for a string (tests, hashes); the same applied to an Output (the component)."""
    return derive(value) if isinstance(value, str) else value.apply(derive)


def wire_name(argument: str) -> str:
    """A provider argument's REST API name: `vm_profile` -> `vmProfile`, `hyper_v_generation` -> `hyperVGeneration`."""
    first, *rest = argument.split("_")
    return first + "".join(word.capitalize() for word in rest)
