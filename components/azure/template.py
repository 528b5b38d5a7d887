"""One flavour's Azure VM Image Builder factory: image definition, template, schedule."""
from __future__ import annotations

from typing import Optional

import pulumi
from pulumi_azure_native import compute, logic, virtualmachineimages
from pulumi_command import local

from ..model.build import FlavourBuild
from ..model.settings import AzureSettings
from ..model.vocabulary import AZURE_TEMPLATE_TYPE
from .render import (
    TemplateRefs,
    adopted_definition_id,
    describe_schedule,
    image_definition_args,
    needs_build_vm_identity,
    reads_artefacts,
    run_command,
    run_uri,
    staging_group_name,
    template_args,
    workflow_args,
)
from .shared import AzureSharedInfrastructure


def describe_source(image) -> str:  # type: ignore[no-untyped-def]
    if image.image_version_id is not None:
        return f"gallery image version {image.image_version_id}"
    plan = f" (purchase plan {image.plan.name})" if image.plan is not None else ""
    return f"marketplace image {image.publisher}:{image.offer}:{image.sku}:{image.version}{plan}"


class AzureImageTemplate(pulumi.ComponentResource):
    """Gallery image definition, content-named image template and its scheduled rebuild."""

    def __init__(
        self,
        name: str,
        *,
        build: FlavourBuild,
        settings: AzureSettings,
        template_name: str,
        shared: AzureSharedInfrastructure,
        base: Optional["AzureImageTemplate"] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(AZURE_TEMPLATE_TYPE, name, None, opts)
        azure = settings
        flavour = build
        names = shared.names
        child = pulumi.ResourceOptions(parent=self)

        # Removing a flavour must not fail the apply: Azure refuses to delete a definition
        # that still holds versions, and VMs may still be built from them. A flavour that comes
        # back (azure.adopt) imports the definition it left instead of failing to create it;
        # once imported, the option is a no-op (same id) and may stay.
        self.image = compute.GalleryImage(
            f"{name}-image",
            gallery_name=shared.gallery.name,
            resource_group_name=shared.resource_group.name,
            **image_definition_args(build, azure, names),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True,
                                        import_=adopted_definition_id(build, azure, names)),
        )

        # Only this flavour's definition takes versions from the builder (the gallery is read-only to it).
        publisher_ready = shared.publisher(name, self.image, self)

        # Templates cannot be updated in place, so the name carries a hash of everything
        # the template is made of (azure.render.plan_azure). A change is a new template
        # in a new, empty staging group, created before the old one goes.
        self.template_name = template_name
        self.staging_group = staging_group_name(names, self.template_name)
        refs = TemplateRefs(
            identity_id=shared.builder_identity.id,
            gallery_image_id=self.image.id,
            staging_resource_group_id=pulumi.Output.concat(
                "/subscriptions/", shared.subscription_id, "/resourceGroups/", self.staging_group
            ),
            base_image_id=base.image.id if base is not None else None,
            asset_store=shared.asset_store,
            build_vm_identity_id=(shared.build_vm_identity.id
                                  if needs_build_vm_identity(build) and shared.build_vm_identity is not None else None),
            build_vm_client_id=(shared.build_vm_identity.client_id
                                if reads_artefacts(build) and shared.build_vm_identity is not None else None),
        )
        self.template = virtualmachineimages.VirtualMachineImageTemplate(
            f"{name}-template",
            resource_group_name=shared.resource_group.name,
            **template_args(build, azure, refs, name=self.template_name),
            # Waiting on builder_ready orders the template after its identity's role
            # assignments have propagated (see AzureSharedInfrastructure). Any change
            # replaces the template, new one first, so the schedule switches before the
            # old template and its staging group are deleted.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[shared.builder_ready, publisher_ready],
                replace_on_changes=["*"],
                delete_before_replace=False,
            ),
        )

        if azure.source_image_trigger:
            # Needs the subscription feature Microsoft.VirtualMachineImages/Triggers.
            virtualmachineimages.Trigger(
                f"{name}-source-image-trigger",
                image_template_name=self.template.name,
                resource_group_name=shared.resource_group.name,
                kind="SourceImage",
                trigger_name="source",
                opts=child,
            )

        # A layered flavour rebuilds after its base (layer_delay_hours later), on the newest base image.
        # A flavour without a schedule has no workflow: it builds when started (make build).
        schedule = None
        self.schedule = None
        if build.schedule is not None:
            schedule = workflow_args(build, names, run_uri=self.template.id.apply(run_uri),
                                     identity_id=shared.scheduler_identity.id)
            self.schedule = logic.Workflow(
                f"{name}-schedule",
                resource_group_name=shared.resource_group.name,
                **schedule,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[shared.runner_assignment]),
            )

        # A layer's first build needs a version of its base's image, which a deploy-time build of
        # the base has only published hours later; layers therefore build on their (later) schedule.
        if azure.build_on_deploy and flavour.base is None:
            # Runs on the machine that deploys (needs a signed-in Azure CLI), once per
            # template: a new template is a new trigger value and so a new run.
            local.Command(
                f"{name}-build-on-deploy",
                create=shared.subscription_id.apply(
                    lambda subscription: f"{run_command(self.template_name, names.resource_group)} "
                    f"--subscription {subscription}"
                ),
                triggers=[self.template.id],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.template]),
            )

        self.summary = {
            "gallery_image_id": self.image.id,
            "template_name": self.template_name,
            "run_command": run_command(self.template_name, names.resource_group),
            "regions": [replica.region for replica in azure.replicas],
            "source": "newest version of gallery image " + flavour.base.name if flavour.base else
            describe_source(flavour.base_image.azure),
            "schedule": (f"{describe_schedule(build.schedule)} by Logic App {schedule['workflow_name']}"
                         if build.schedule is not None and schedule is not None else
                         f"none ({build.schedule_off_reason})"),
        }
        self.register_outputs(
            {
                "gallery_image_id": self.image.id,
                "template_id": self.template.id,
                "template_name": self.template_name,
                "schedule_id": self.schedule.id if self.schedule is not None else None,
            }
        )
