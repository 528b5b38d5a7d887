"""EC2 Image Builder rendering: the cloud-neutral model in, request-shaped data out.

Pure functions, no Pulumi. Every `*_args` function returns the keyword arguments
of one pulumi-aws resource, so the components only wire resources together.
Values that exist only after a deployment (ARNs of resources this stack
creates, the account id) are parameters placed as given: tests pass strings,
the components pass Outputs. Names of immutable objects (components, recipes)
are derived from static content only, never from such values, so a preview
knows them; the one exception is a recipe whose parent an AMI filter finds at
deploy time (deploy_time_recipe_name), whose lookup a preview runs too.

One module per thing rendered, in data-flow order: names (prefix, ARNs, tags),
keys (the KMS key), documents (AWSTOE), component (CreateComponent), recipe,
infrastructure, distribution, pipeline, lifecycle, policies (shared
infrastructure) and checks (plan_aws, run once before anything is created).
Each imports only modules before it; this package re-exports them all.
"""
from ...model.errors import RenderError
from .checks import AwsPlan, plan_aws
from .component import COMPONENT_VERSION, PLATFORMS, ComponentSpec, DocumentCache, component_specs
from .distribution import (
    AMI_DESCRIPTION_LIMIT,
    AMI_NAME_LIMIT,
    FAST_LAUNCH_PARALLEL_LAUNCHES,
    ami_name,
    distribution_args,
    distribution_regions,
    parameter_name,
    ssm_parameter_name,
)
from .documents import (
    ASSET_BUCKET_PARAMETER,
    CHECK_INTERVAL_SECONDS,
    INLINE_DOCUMENT_LIMIT,
    REBOOT_CHECK_MINUTES,
    SCRIPT_DIRS,
    component_document,
    component_phases,
    dump_document,
)
from .infrastructure import infrastructure_args, instance_types
from .keys import KmsKey, configured_key
from .lifecycle import lifecycle_policy_args
from .names import (
    LOG_PREFIX,
    NAME_LIMIT,
    RESOURCE_TAG_LIMIT,
    TAG_LIMIT,
    TAG_NAMESPACE,
    checked_tags,
    component_tags,
    flavour_resource_name,
    flavour_tags,
    image_arn,
    image_builder_service_role_arn,
    managed_component_arn,
    managed_policy_arn,
    name_prefix,
    partition,
)
from .pipeline import START_CONDITION, pipeline_args, schedule_expression, start_build_command
from .policies import (
    artifact_arns,
    artifact_read_policy,
    asset_read_policy,
    assume_role_policy,
    kms_key_policy,
    log_lifecycle_rules,
    log_write_policy,
    secret_arns,
    secret_read_policy,
    ssm_parameter_names,
    ssm_read_guard_policy,
    tls_only_bucket_policy,
)
from .recipe import (
    RECIPE_COMPONENT_LIMIT,
    WORKING_DIRECTORIES,
    ParentImage,
    RecipeEntry,
    RecipePlan,
    ami_filter_identity,
    ami_lookup_args,
    block_device_mappings,
    deploy_time_recipe_name,
    parent_image,
    recipe_args,
    recipe_entries,
    recipe_name,
    recipe_plan,
    root_device_name,
)
from .retirement import (
    DESCRIPTION_LIMIT,
    REPLACED_BY_TAG,
    RETIRED_TAG,
    delete_parameter_command,
    deprecated_parameter_args,
    deprecation_description,
    retired_regions,
)

__all__ = [
    "RenderError",
    # names
    "TAG_NAMESPACE", "NAME_LIMIT", "TAG_LIMIT", "RESOURCE_TAG_LIMIT", "LOG_PREFIX",
    "name_prefix", "partition", "managed_component_arn", "managed_policy_arn", "image_builder_service_role_arn",
    "image_arn", "flavour_resource_name", "flavour_tags", "component_tags", "checked_tags",
    # keys
    "KmsKey", "configured_key",
    # documents
    "INLINE_DOCUMENT_LIMIT", "SCRIPT_DIRS", "ASSET_BUCKET_PARAMETER", "REBOOT_CHECK_MINUTES",
    "CHECK_INTERVAL_SECONDS", "dump_document", "component_phases",
    "component_document",
    # component
    "COMPONENT_VERSION", "PLATFORMS", "ComponentSpec", "DocumentCache", "component_specs",
    # recipe
    "RECIPE_COMPONENT_LIMIT", "WORKING_DIRECTORIES", "RecipeEntry", "recipe_entries", "root_device_name",
    "ami_filter_identity", "ami_lookup_args", "block_device_mappings", "deploy_time_recipe_name",
    "ParentImage", "RecipePlan", "parent_image", "recipe_plan", "recipe_name", "recipe_args",
    # infrastructure, distribution, pipeline, lifecycle
    "instance_types", "infrastructure_args",
    "AMI_NAME_LIMIT", "AMI_DESCRIPTION_LIMIT", "FAST_LAUNCH_PARALLEL_LAUNCHES", "ami_name", "parameter_name", "ssm_parameter_name", "distribution_regions",
    "distribution_args",
    "START_CONDITION", "schedule_expression", "pipeline_args", "start_build_command",
    "lifecycle_policy_args",
    # retirement
    "DESCRIPTION_LIMIT", "REPLACED_BY_TAG", "RETIRED_TAG", "delete_parameter_command", "deprecated_parameter_args", "deprecation_description", "retired_regions",
    # policies
    "assume_role_policy", "log_write_policy", "ssm_parameter_names", "ssm_read_guard_policy", "asset_read_policy", "artifact_arns", "artifact_read_policy", "secret_arns", "secret_read_policy", "tls_only_bucket_policy", "log_lifecycle_rules",
    "kms_key_policy",
    # checks
    "AwsPlan", "plan_aws",
]
