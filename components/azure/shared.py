"""Per-stack Azure infrastructure shared by every flavour's template."""
from __future__ import annotations

import shlex
from typing import Mapping, Optional, Sequence

import pulumi
from pulumi_azure_native import authorization, compute, managedidentity, resources, storage
from pulumi_command import local

from ..model.secret_refs import SecretRef
from ..model.settings import AzureSettings
from ..model.vocabulary import AZURE_SHARED_TYPE
from .render import (
    ASSET_CONTAINER,
    BLOB_READ_DATA_ACTION,
    IDENTITY_ASSIGN_ACTIONS,
    PUBLISH_ACTIONS,
    RUNNER_ACTIONS,
    STORAGE_BLOB_DATA_READER,
    FactoryNames,
    builder_actions,
    built_in_role_id,
    secret_grants,
    vnet_group_ids,
    vnet_ids,
)

# Azure documents that role assignments can take up to ten minutes to take effect;
# in practice a few minutes. Image Builder acts with its identity when a template is
# created and when it builds, so templates wait this long after the builder's
# assignments are first made (and again whenever they change), never on later applies.
ROLE_PROPAGATION_SECONDS = 300


class AzureSharedInfrastructure(pulumi.ComponentResource):
    """Resource group, gallery, identities and least-privilege roles, once per stack."""

    def __init__(self, name: str, *, settings: AzureSettings, tags: Mapping[str, str], protect: bool,
                 names: FactoryNames, assets: Optional[dict] = None, secrets: Sequence[SecretRef] = (),
                 reads_artefacts: bool = False, opts: Optional[pulumi.ResourceOptions] = None):
        """assets: blob name -> file path of each build asset the stack's steps fetch on Azure.
        secrets: each Key Vault secret a step reads on Azure (the build VM identity reads exactly these).
        reads_artefacts: a flavour's build reads the stack's artefact container (settings.artefacts)."""
        super().__init__(AZURE_SHARED_TYPE, name, None, opts)
        azure = settings
        self.names = names
        tags = dict(tags)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=protect)

        self.subscription_id = authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).subscription_id

        self.resource_group = resources.ResourceGroup(
            "factory",
            resource_group_name=names.resource_group,
            location=azure.location,
            tags=tags,
            opts=kept,
        )
        sharing = {"permissions": "Groups"} if azure.share_with_subscriptions else None
        self.gallery = compute.Gallery(
            "gallery",
            gallery_name=names.gallery,
            resource_group_name=self.resource_group.name,
            location=azure.location,
            description=f"Golden images of stack {names.stack}, built by Azure VM Image Builder",
            sharing_profile=sharing,
            tags=tags,
            opts=kept,
        )
        self.builder_identity = managedidentity.UserAssignedIdentity(
            "builder",
            resource_name_=names.builder_identity,
            resource_group_name=self.resource_group.name,
            location=azure.location,
            tags=tags,
            opts=child,
        )
        self.scheduler_identity = managedidentity.UserAssignedIdentity(
            "scheduler",
            resource_name_=names.scheduler_identity,
            resource_group_name=self.resource_group.name,
            location=azure.location,
            tags=tags,
            opts=child,
        )

        reads = reads_artefacts and azure.artefacts is not None
        # Builds: publish versions into this gallery and join the build subnets. Custom
        # roles are assignable at group level, so the definition names the factory group
        # and the networks' groups while each assignment stays on the gallery or network.
        builder_role = authorization.RoleDefinition(
            "builder-role",
            scope=self.resource_group.id,
            role_name=self.subscription_id.apply(names.builder_role),
            description="Azure VM Image Builder builds: read the golden-images gallery, join the build "
            "subnets and read build assets; nothing else (versions are written by the publisher role).",
            role_type="CustomRole",
            permissions=[{"actions": builder_actions(azure),
                          "not_actions": [],
                          # Reading build assets is a data action, granted on their container only.
                          **({"data_actions": [BLOB_READ_DATA_ACTION]} if assets else {})}],
            assignable_scopes=[self.resource_group.id, *vnet_group_ids(azure)],
            opts=child,
        )
        self.builder_assignments = [
            self._assign("builder-gallery", builder_role, self.builder_identity, self.gallery.id,
                         "Image Builder reads this gallery's image definitions and versions")
        ]
        # Writing versions is assigned per image definition (components/azure/template.py).
        self.publisher_role = authorization.RoleDefinition(
            "publisher-role",
            scope=self.resource_group.id,
            role_name=self.subscription_id.apply(names.publisher_role),
            description="Azure VM Image Builder builds: write versions of one golden-images image "
            "definition (assigned on each definition); nothing else.",
            role_type="CustomRole",
            permissions=[{"actions": list(PUBLISH_ACTIONS), "not_actions": []}],
            assignable_scopes=[self.resource_group.id],
            opts=child,
        )
        for vnet in vnet_ids(azure):
            self.builder_assignments.append(
                self._assign(f"builder-network-{vnet.rsplit('/', 1)[-1]}", builder_role, self.builder_identity,
                             vnet, "Image Builder places build VMs in this network")
            )

        self.asset_store = None
        if assets:
            self._assets(assets, azure.location, tags, builder_role)

        self.build_vm_identity = None
        if secrets or reads:
            self._build_vm_identity(azure, tags)
        if secrets:
            self._secret_reads(list(secrets), azure)
        if reads:
            self._artefact_reader(azure)

        # Schedules: start builds of templates in the factory group, nothing more.
        runner_role = authorization.RoleDefinition(
            "runner-role",
            scope=self.resource_group.id,
            role_name=self.subscription_id.apply(names.runner_role),
            description="Start Azure VM Image Builder builds of the golden-images templates; nothing else.",
            role_type="CustomRole",
            permissions=[{"actions": list(RUNNER_ACTIONS), "not_actions": []}],
            assignable_scopes=[self.resource_group.id],
            opts=child,
        )
        self.runner_assignment = self._assign("scheduler-runner", runner_role, self.scheduler_identity,
                                              self.resource_group.id, "Scheduled rebuilds run image templates")

        # Ordering that Azure does not enforce: a role assignment exists at once but is
        # honoured only after it has propagated, and a template created (or run) before
        # then fails its permission check. Templates therefore depend on this wait, which
        # depends on every builder assignment and is replaced whenever one of them is.
        self.builder_ready = local.Command(
            "builder-roles-propagated",
            create=f"sleep {ROLE_PROPAGATION_SECONDS}",
            triggers=[assignment.id for assignment in self.builder_assignments],
            # Build assets are uploaded before any template that fetches them exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.builder_assignments,
                                                                 *getattr(self, "asset_blobs", [])]),
        )

        if azure.share_with_subscriptions:
            # The gallery's group membership is set by its `share` action, which no
            # resource type models. Reset before re-adding so removals take effect.
            self.sharing = local.Command(
                "gallery-sharing",
                create=pulumi.Output.all(self.subscription_id, self.gallery.name).apply(
                    lambda args: f"az sig share add --subscription {shlex.quote(args[0])} "
                    f"--resource-group {shlex.quote(names.resource_group)} --gallery-name {shlex.quote(args[1])} "
                    f"--subscription-ids {' '.join(shlex.quote(s) for s in azure.share_with_subscriptions)}"
                ),
                delete=pulumi.Output.all(self.subscription_id, self.gallery.name).apply(
                    lambda args: f"az sig share reset --subscription {shlex.quote(args[0])} "
                    f"--resource-group {shlex.quote(names.resource_group)} --gallery-name {shlex.quote(args[1])}"
                ),
                triggers=list(azure.share_with_subscriptions),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gallery], delete_before_replace=True),
            )

        self.register_outputs(
            {
                "resource_group": self.resource_group.name,
                "gallery_id": self.gallery.id,
                "builder_identity_id": self.builder_identity.id,
                "scheduler_identity_id": self.scheduler_identity.id,
            }
        )

    def _assets(self, assets: dict, location: str, tags: dict, builder_role) -> None:
        """A private blob container of build assets that only the builder identity reads."""
        account = storage.StorageAccount(
            "assets",  # generated name: storage account names are global
            resource_group_name=self.resource_group.name,
            location=location,
            kind="StorageV2",
            sku={"name": "Standard_LRS"},
            allow_blob_public_access=False,
            # Shared key stays on, said here rather than left to the default: azure-native's
            # Blob uploads with the account key and fails with KeyBasedAuthenticationNotPermitted
            # on an account without it (pulumi/pulumi-azure-native#2015, open). The builder
            # identity reads with Entra ID through its role assignment, never with the key.
            allow_shared_key_access=True,
            allow_cross_tenant_replication=False,
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        container = storage.BlobContainer(
            "assets",
            account_name=account.name,
            resource_group_name=self.resource_group.name,
            container_name=ASSET_CONTAINER,
            public_access="None",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.asset_blobs = [
            storage.Blob(
                f"asset-{key.rsplit('/', 1)[-1][:16]}",
                account_name=account.name,
                container_name=ASSET_CONTAINER,
                resource_group_name=self.resource_group.name,
                blob_name=key,
                type="Block",
                content_type="application/gzip",
                source=pulumi.FileAsset(str(path)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[container]),
            )
            for key, path in assets.items()
        ]
        scope = pulumi.Output.concat(account.id, "/blobServices/default/containers/", ASSET_CONTAINER)
        self.builder_assignments.append(
            self._assign("builder-assets", builder_role, self.builder_identity, scope,
                         "Image Builder downloads build assets of the golden-images steps"))
        # The public cloud's blob endpoint (sovereign clouds have other suffixes).
        self.asset_store = pulumi.Output.concat("https://", account.name, f".blob.core.windows.net/{ASSET_CONTAINER}")

    def _build_vm_identity(self, azure: AzureSettings, tags: dict) -> None:
        """The build VM's own identity (on the build VMs of flavours that read secrets or artefacts,
        never the template's), and the template identity's right to put it there: a custom role with
        exactly the identity's read and assign actions, assigned on that identity alone."""
        self.build_vm_identity = managedidentity.UserAssignedIdentity(
            "build-vm",
            resource_name_=self.names.build_vm_identity,
            resource_group_name=self.resource_group.name,
            location=azure.location,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        assigner = authorization.RoleDefinition(
            "build-vm-identity-assigner-role",
            scope=self.resource_group.id,
            role_name=self.subscription_id.apply(self.names.identity_assigner_role),
            description="Azure VM Image Builder builds: put the golden-images build VM identity on build VMs "
            "(assigned on that identity only); nothing else.",
            role_type="CustomRole",
            permissions=[{"actions": list(IDENTITY_ASSIGN_ACTIONS), "not_actions": []}],
            assignable_scopes=[self.resource_group.id],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.builder_assignments.append(self._assign(
            "builder-assigns-build-vm-identity", assigner, self.builder_identity, self.build_vm_identity.id,
            "Image Builder puts the build VM identity on the build VMs of flavours that read secrets or artefacts"))

    def _secret_reads(self, secrets: list[SecretRef], azure: AzureSettings) -> None:
        """Key Vault Secrets User for the build VM identity on exactly each referenced secret
        (components/azure/render/secrets.py)."""
        assert self.build_vm_identity is not None
        for scope, role in secret_grants(secrets, azure.key_vaults):
            vault, secret = scope.split("/providers/Microsoft.KeyVault/vaults/", 1)[1].split("/secrets/")
            self.builder_assignments.append(authorization.RoleAssignment(
                f"build-vm-reads-{vault}-{secret}",
                scope=scope,
                role_definition_id=role,
                principal_id=self.build_vm_identity.principal_id,
                principal_type="ServicePrincipal",
                description=f"Build VMs read the secret {secret} of Key Vault {vault} with their own identity",
                opts=pulumi.ResourceOptions(parent=self),
            ))

    def _artefact_reader(self, azure: AzureSettings) -> None:
        """Storage Blob Data Reader for the build VM identity on exactly the team's artefact container
        (not the account, not the group); the builder identity itself has no read on it."""
        artefacts = azure.artefacts
        assert artefacts is not None and self.build_vm_identity is not None
        self.builder_assignments.append(authorization.RoleAssignment(
            "build-vm-reads-artefacts",
            scope=artefacts.container_scope,
            # Named in the container's own subscription, which may be another than the factory's.
            role_definition_id=built_in_role_id(artefacts.subscription_id, STORAGE_BLOB_DATA_READER),
            principal_id=self.build_vm_identity.principal_id,
            principal_type="ServicePrincipal",
            description=f"Build VMs read the team's artefacts in container {artefacts.container}",
            opts=pulumi.ResourceOptions(parent=self),
        ))

    def _assign(self, name: str, role: authorization.RoleDefinition,
                identity: managedidentity.UserAssignedIdentity, scope, description: str,
                parent: Optional[pulumi.Resource] = None):
        # principalType spares the assignment Entra ID's replication delay for new identities.
        return authorization.RoleAssignment(
            name,
            scope=scope,
            role_definition_id=role.id,
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            description=description,
            opts=pulumi.ResourceOptions(parent=parent or self),
        )

    def publisher(self, name: str, image: compute.GalleryImage, parent: pulumi.Resource) -> local.Command:
        """The builder may write versions of this image definition: the assignment and its propagation wait."""
        assignment = self._assign(f"{name}-publisher", self.publisher_role, self.builder_identity, image.id,
                                  "Image Builder publishes versions of this golden image definition", parent)
        return local.Command(
            f"{name}-publisher-propagated",
            create=f"sleep {ROLE_PROPAGATION_SECONDS}",
            triggers=[assignment.id],
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[assignment]),
        )
