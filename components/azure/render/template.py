"""The image template: source, customizers, validation, distribution, build VM, and its content hash."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...model.build import SOURCE_COMMIT_TAG, FlavourBuild
from ...model.flavour import AzureImageRef
from ...model.settings import AzureSettings
from ...model.vocabulary import content_hash
from .customizers import render_customizers, render_validations
from .names import FactoryNames, derived, group_id, wire_name
from .secrets import reads_secrets


def template_tags(build: FlavourBuild) -> dict[str, str]:
    """The build's tags without the source commit: a template is replaced by any change, so a
    tag that changes with every commit would rebuild it (and its name) on every deploy."""
    return build.tags_without_commit


@dataclass(frozen=True)
class TemplateRefs:
    """Ids the template points at: strings in tests and hashes, Outputs in the component."""

    identity_id: Any
    gallery_image_id: Any
    staging_resource_group_id: Any
    base_image_id: Any = None  # a layered flavour's base: that flavour's gallery image definition
    asset_store: Any = None  # URL of the blob container with the stack's build assets
    build_vm_identity_id: Any = None  # the build VM's own identity: it reads secrets and the artefact container
    build_vm_client_id: Any = None  # its client id, which the VM's token request for the artefacts names


STAGING_PLACEHOLDER = "{stagingResourceGroup}"
ASSET_STORE_PLACEHOLDER = "{assetStore}"
BUILD_VM_CLIENT_PLACEHOLDER = "{buildVmClientId}"


def symbolic_refs(names: FactoryNames, flavour: FlavourBuild) -> TemplateRefs:
    """Ids spelled from names, for hashing: the staging group is derived from the hash."""
    group = group_id("{subscriptionId}", names.resource_group)
    images = f"{group}/providers/Microsoft.Compute/galleries/{names.gallery}/images"
    return TemplateRefs(
        identity_id=f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{names.builder_identity}",
        gallery_image_id=f"{images}/{flavour.name}",
        staging_resource_group_id=STAGING_PLACEHOLDER,
        base_image_id=f"{images}/{flavour.base.name}" if flavour.base else None,
        # The account's name is generated; the blob names hash the assets' content.
        asset_store=ASSET_STORE_PLACEHOLDER,
        build_vm_identity_id=(f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                              f"{names.build_vm_identity}" if needs_build_vm_identity(flavour) else None),
        # A client id is generated: the identity's name stands for it in the hash.
        build_vm_client_id=BUILD_VM_CLIENT_PLACEHOLDER if reads_artefacts(flavour) else None,
    )


def reads_artefacts(flavour: FlavourBuild) -> bool:
    """Whether the flavour's Azure build reads the team's artefact container (with the build VM's identity)."""
    return any(d.store == "azure" for step in flavour.steps_on("azure") for d in step.downloads)


def needs_build_vm_identity(flavour: FlavourBuild) -> bool:
    """Whether the flavour's Azure build VM carries the build VM identity: its steps read secrets or artefacts."""
    return reads_secrets(flavour) or reads_artefacts(flavour)


def render_source(flavour: FlavourBuild, base_image_id: Any = None) -> dict[str, Any]:
    """The marketplace image, or for a layered flavour the newest version of its base's gallery image
    ('latest' is resolved when the build starts, so the template never changes with the base)."""
    if flavour.base is not None:
        if base_image_id is None:
            raise ValueError(f"flavour '{flavour.name}' is layered on '{flavour.base.name}': its source needs "
                             "that flavour's gallery image id")
        return {"type": "SharedImageVersion", "imageVersionId": _versions_latest(base_image_id)}
    image = marketplace_image(flavour)
    if image.image_version_id is not None:
        # Another gallery's image version (e.g. a team's own base image), by its resource id.
        return {"type": "SharedImageVersion", "imageVersionId": image.image_version_id}
    source: dict[str, Any] = {
        "type": "PlatformImage",
        "publisher": image.publisher,
        "offer": image.offer,
        "sku": image.sku,
        "version": image.version,
    }
    if image.plan is not None:
        # Marketplace images with a purchase plan deploy only with it (PlatformImagePurchasePlan).
        source["planInfo"] = {"planName": image.plan.name, "planProduct": image.plan.product,
                              "planPublisher": image.plan.publisher}
    return source


def marketplace_image(flavour: FlavourBuild) -> AzureImageRef:
    """The Azure Marketplace image a flavour (or the root of a layered one) starts from."""
    image = flavour.base_image.azure
    if image is None:
        raise ValueError(f"flavour '{flavour.name}' builds on Azure but has no base_image.azure")
    return image


def _versions_latest(image_id: Any) -> Any:
    return derived(image_id, lambda value: f"{value}/versions/latest")


def render_distribution(flavour: FlavourBuild, azure: AzureSettings, gallery_image_id: Any) -> list[dict[str, Any]]:
    """One gallery distribution, replicated where the flavour says (distribution.azure.replication),
    else per stack settings.

    Gallery versions are generated by Image Builder under the flavour's major version
    ({scheme: Latest, major}), so every rebuild gets a new, strictly higher version and
    "latest" stays meaningful; the flavour's full x.y.z travels as an artifact tag.
    """
    return [
        {
            "type": "SharedImage",
            "galleryImageId": gallery_image_id,
            "runOutputName": flavour.name,
            # Lineage on every gallery image version; the commit stays off the template (template_tags).
            "artifactTags": {**template_tags(flavour), **{key: value for key, value in flavour.lineage("azure").items()
                                                          if key != SOURCE_COMMIT_TAG}},
            "targetRegions": [
                {
                    "name": replica.region,
                    "replicaCount": replica.replica_count,
                    "storageAccountType": replica.storage_account_type,
                }
                for replica in azure.replicas_of(flavour.flavour.distribution.azure.replication)
            ],
            "versioning": {"scheme": "Latest", "major": int(flavour.version.split(".")[0])},
            "excludeFromLatest": False,
        }
    ]


def render_vm_profile(flavour: FlavourBuild, azure: AzureSettings, build_vm_identity_id: Any = None) -> dict[str, Any]:
    """The build VM; a flavour whose steps read secrets or the artefact container gives it the build
    VM identity (only then), which reads them through the instance metadata service."""
    profile: dict[str, Any] = {
        "vmSize": flavour.machine.vm_size or getattr(azure.vm_size, flavour.os),
        "osDiskSizeGB": flavour.machine.disk_size_on("azure", flavour.os),
    }
    if build_vm_identity_id is None and needs_build_vm_identity(flavour):
        raise ValueError(f"flavour '{flavour.name}' reads secrets or artefacts on Azure: its build VM needs the "
                         "build VM identity")
    if build_vm_identity_id is not None:
        # On the build and validation VMs only (ImageTemplateVmProfile.userAssignedIdentities); the
        # template's own identity stays off the VM, so a step cannot act as the builder.
        profile["userAssignedIdentities"] = [build_vm_identity_id]
    if azure.subnet_id:
        vnet = {"subnetId": azure.subnet_id}
        if azure.container_instance_subnet_id:
            vnet["containerInstanceSubnetId"] = azure.container_instance_subnet_id
        profile["vnetConfig"] = vnet
    return profile


def render_error_handling(azure: AzureSettings) -> dict[str, Any]:
    """'abort' keeps the failed build VM for debugging; 'cleanup' removes it."""
    action = "abort" if azure.keep_failed_vm else "cleanup"
    return {"onCustomizerError": action, "onValidationError": action}


# Arguments that sit beside `properties` in the request body; the rest are its properties.
TOP_LEVEL_ARGUMENTS = ("location", "tags", "identity")


def template_args(flavour: FlavourBuild, azure: AzureSettings, refs: TemplateRefs, *, name: str) -> dict[str, Any]:
    """VirtualMachineImageTemplate's arguments (without the resource group, which is the stack's).

    Nested values keep the REST API's wire names, which the provider accepts as they are.
    """
    return {"image_template_name": name, **_template_fields(flavour, azure, refs)}


def render_template(flavour: FlavourBuild, azure: AzureSettings, refs: TemplateRefs) -> dict[str, Any]:
    """The complete image template request (wire names): location, tags, identity and properties.

    Its hash names the template (template_digest), so it holds everything but the name.
    """
    fields = _template_fields(flavour, azure, refs)
    body: dict[str, Any] = {key: fields.pop(key) for key in TOP_LEVEL_ARGUMENTS}
    body["properties"] = {wire_name(key): value for key, value in fields.items()}
    return body


def _template_fields(flavour: FlavourBuild, azure: AzureSettings, refs: TemplateRefs) -> dict[str, Any]:
    tags = template_tags(flavour)
    steps = flavour.steps_on("azure")
    if not flavour.tests_enabled:
        # Image tests off (tests.enabled: false): the image-test steps neither run nor validate.
        steps = tuple(step for step in steps if not step.image_test)
    return {
        "location": azure.location,
        "tags": tags,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [refs.identity_id]},
        "source": render_source(flavour, refs.base_image_id),
        "customize": render_customizers(steps, refs.asset_store, refs.build_vm_client_id),
        "validate": {
            "continueDistributeOnFailure": False,
            "sourceValidationOnly": False,
            "inVMValidations": render_validations(steps, refs.asset_store),
        },
        "distribute": render_distribution(flavour, azure, refs.gallery_image_id),
        "vm_profile": render_vm_profile(flavour, azure, refs.build_vm_identity_id),
        "build_timeout_in_minutes": flavour.machine.timeout_minutes,
        "optimize": {"vmBoot": {"state": "Enabled"}},
        "error_handling": render_error_handling(azure),
        "staging_resource_group": refs.staging_resource_group_id,
        "managed_resource_tags": tags,
    }


def template_digest(body: dict[str, Any]) -> str:
    """Short hash of a template rendered with symbolic refs: any input change renames it."""
    return content_hash(body, compact=True)

