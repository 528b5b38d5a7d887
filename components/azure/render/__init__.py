"""Azure VM Image Builder: a flavour's build rendered as request-shaped dicts, one module per thing rendered.

Pure: no Pulumi import. The *_args functions return the pulumi-azure-native resource's
keyword arguments, which the components pass on unchanged; every dict inside them
uses the REST API's wire names (camelCase, API 2024-02-01), exactly what the Image
Builder service receives, so tests and the offline plan read the same shapes as the
Azure documentation (render_template is the whole request body, the one the
template's name hashes). Resource ids that only
exist at deploy time (identity, gallery image, staging group) are passed in as
opaque values and placed where they belong; the component hands in Outputs, the
content hash hands in symbolic ids built from names.

names        factory names, ids, role actions, the run action
runners      a step's script as Shell or PowerShell lines
customizers  the steps in order, and the validations of their checks
gallery      the gallery image definition
template     the image template and its content hash
schedule     the Logic Apps rebuild schedule
checks       what Azure would reject, and the template names (plan_azure)
"""
from __future__ import annotations

import sys
import types
from typing import Any

from . import runners
from .checks import (
    AzurePlan,
    plan_azure,
)
from .customizers import (
    BLOB_API_VERSION,
    IMDS_TOKEN_URL,
    KB_PATTERN,
    LINUX_UPLOAD_DIR,
    REBOOT_CHECK_MINUTES,
    RESTART_TIMEOUT,
    SEARCH_CRITERIA,
    STORAGE_RESOURCE,
    UPDATE_LIMIT,
    artefact_fetch,
    artefact_token_url,
    render_customizers,
    render_pause,
    render_reboot,
    render_validations,
    render_windows_update,
    windows_update_exclusions,
)
from .gallery import (
    SECURE_TYPES,
    adopted_definition_id,
    hyper_v_generation,
    image_definition_args,
    image_definition_id,
    image_features,
    render_image_definition,
    security_type,
)
from .names import (
    API_VERSION,
    ARM_ENDPOINT,
    ASSET_CONTAINER,
    BLOB_READ_DATA_ACTION,
    GALLERY_ACTIONS,
    NETWORK_ACTIONS,
    PUBLISH_ACTIONS,
    RUNNER_ACTIONS,
    STORAGE_BLOB_DATA_READER,
    FactoryNames,
    builder_actions,
    built_in_role_id,
    derived,
    gallery_name_for,
    group_id,
    run_command,
    run_uri,
    stack_slug,
    staging_group_name,
    template_name,
    vnet_group_ids,
    vnet_ids,
    wire_name,
)
from .runners import (
    RETRY_DELAY_SECONDS,
    WINDOWS_TIMEOUT_EXIT_CODE,
    powershell_runner,
    ps_quote,
    sh_quote,
    shell_runner,
)
from .schedule import (
    RECURRENCE_START,
    WEEKDAY_NAMES,
    WINDOWS_TIME_ZONES,
    describe_schedule,
    render_recurrence,
    render_schedule_workflow,
    windows_time_zone,
    workflow_args,
)
from .secrets import (
    IDENTITY_ASSIGN_ACTIONS,
    KEY_VAULT_SECRETS_USER,
    MANAGED_IDENTITY_OPERATOR,
    reads_secrets,
    role_definition_id,
    secret_grants,
    vault_subscription,
)
from .template import (
    ASSET_STORE_PLACEHOLDER,
    BUILD_VM_CLIENT_PLACEHOLDER,
    STAGING_PLACEHOLDER,
    TOP_LEVEL_ARGUMENTS,
    TemplateRefs,
    marketplace_image,
    needs_build_vm_identity,
    reads_artefacts,
    render_distribution,
    render_error_handling,
    render_source,
    render_template,
    render_vm_profile,
    symbolic_refs,
    template_args,
    template_digest,
    template_tags,
)

__all__ = [
    "BLOB_API_VERSION",
    "IMDS_TOKEN_URL",
    "STORAGE_RESOURCE",
    "artefact_fetch",
    "artefact_token_url",
    "BUILD_VM_CLIENT_PLACEHOLDER",
    "needs_build_vm_identity",
    "reads_artefacts",
    "API_VERSION",
    "ARM_ENDPOINT",
    "ASSET_CONTAINER",
    "ASSET_STORE_PLACEHOLDER",
    "AzurePlan",
    "BLOB_READ_DATA_ACTION",
    "FactoryNames",
    "GALLERY_ACTIONS",
    "IDENTITY_ASSIGN_ACTIONS",
    "KEY_VAULT_SECRETS_USER",
    "MANAGED_IDENTITY_OPERATOR",
    "reads_secrets",
    "role_definition_id",
    "secret_grants",
    "vault_subscription",
    "PUBLISH_ACTIONS",
    "KB_PATTERN",
    "LINUX_UPLOAD_DIR",
    "NETWORK_ACTIONS",
    "RECURRENCE_START",
    "REBOOT_CHECK_MINUTES",
    "RESTART_TIMEOUT",
    "SEARCH_CRITERIA",
    "RETRY_DELAY_SECONDS",
    "RUNNER_ACTIONS",
    "STAGING_PLACEHOLDER",
    "TOP_LEVEL_ARGUMENTS",
    "TemplateRefs",
    "UPDATE_LIMIT",
    "WEEKDAY_NAMES",
    "WINDOWS_TIMEOUT_EXIT_CODE",
    "WINDOWS_TIME_ZONES",
    "builder_actions",
    "built_in_role_id",
    "STORAGE_BLOB_DATA_READER",
    "derived",
    "describe_schedule",
    "gallery_name_for",
    "group_id",
    "image_definition_args",
    "adopted_definition_id",
    "image_definition_id",
    "hyper_v_generation",
    "image_features",
    "security_type",
    "SECURE_TYPES",
    "marketplace_image",
    "plan_azure",
    "powershell_runner",
    "ps_quote",
    "render_customizers",
    "render_pause",
    "render_reboot",
    "render_distribution",
    "render_error_handling",
    "render_image_definition",
    "render_recurrence",
    "render_schedule_workflow",
    "render_source",
    "render_template",
    "render_validations",
    "render_vm_profile",
    "render_windows_update",
    "run_command",
    "run_uri",
    "sh_quote",
    "shell_runner",
    "stack_slug",
    "staging_group_name",
    "symbolic_refs",
    "template_args",
    "template_digest",
    "template_name",
    "template_tags",
    "vnet_group_ids",
    "vnet_ids",
    "windows_time_zone",
    "windows_update_exclusions",
    "wire_name",
    "workflow_args",
]


class _Package(types.ModuleType):
    """Settings read when a renderer runs live in the module that reads them; setting one on the
    package (as tests do to shorten retries) passes it on there, so both spellings agree."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FORWARDED:
            setattr(_FORWARDED[name], name, value)
        super().__setattr__(name, value)


_FORWARDED: dict[str, types.ModuleType] = {"RETRY_DELAY_SECONDS": runners}
sys.modules[__name__].__class__ = _Package
