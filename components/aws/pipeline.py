"""One flavour's EC2 Image Builder factory: recipe, configurations, pipeline, lifecycle."""
from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from ..model.build import FlavourBuild
from ..model.settings import AwsSettings
from ..model.vocabulary import AWS_PIPELINE_TYPE
from . import render
from .shared import AwsSharedInfrastructure


class AwsImagePipeline(pulumi.ComponentResource):
    """Every Image Builder resource of one flavour; components come from the shared registry."""

    def __init__(
        self,
        name: str,
        *,
        build: FlavourBuild,
        settings: AwsSettings,
        recipe: render.RecipePlan,
        shared: AwsSharedInfrastructure,
        base: Optional["AwsImagePipeline"] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(AWS_PIPELINE_TYPE, name, None, opts)
        aws_settings = settings
        region = aws_settings.region
        prefix = shared.prefix
        tags = render.flavour_tags(build)
        child = pulumi.ResourceOptions(parent=self)

        # A layered flavour starts from its base flavour's newest Image Builder image, whose
        # ARN holds the account id (known only once deployed) and the base's recipe name (an
        # Output too when the base's parent is found at deploy time).
        base_name: Any = base.recipe_name if base is not None else recipe.base_recipe
        parent = (recipe.parent.value if build.base is None else
                  pulumi.Output.all(shared.account_id, base_name).apply(
                      lambda values: render.image_arn(region, values[0], values[1])))
        # An AMI filter's newest match, and the root device of a parent AMI its name does not
        # describe, are read when the stack deploys.
        root_device = None
        # The content-derived name; a parent found at deploy time adds itself (a recipe is
        # immutable: a newer AMI under the same name and version would be refused as existing).
        self.recipe_name: Any = recipe.name
        lookup = render.ami_lookup_args(build, region)
        if lookup is not None:
            ami = aws.ec2.get_ami_output(**lookup, opts=pulumi.InvokeOutputOptions(parent=self))
            root_device = ami.root_device_name
            if lookup.get("most_recent"):
                found = ami.id if build.base is None or base is None else pulumi.Output.from_input(base_name)
                if build.base is None:
                    parent = ami.id
                self.recipe_name = found.apply(lambda resolved: render.deploy_time_recipe_name(
                    build, recipe, prefix=prefix, resolved_parent=str(resolved)))
        arns = [entry.managed_arn or shared.component(entry.component) for entry in recipe.entries]
        # The name carries the content hash (and a parent found at deploy time): a changed recipe
        # is created next to the old one, the pipeline is switched to it, and only then is the old
        # one deleted.
        recipe_args = render.recipe_args(build, recipe, arns, region=region, key=shared.kms_key, tags=tags,
                                         parent_value=parent, root_device=root_device, name=self.recipe_name,
                                         asset_bucket=shared.asset_bucket.bucket if shared.asset_bucket else None)
        # A layer's parent is named, not referenced: order it after its base's recipe explicitly.
        self.recipe = aws.imagebuilder.ImageRecipe(
            f"{name}-recipe", **recipe_args,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[base.recipe] if base is not None else None))
        infrastructure = aws.imagebuilder.InfrastructureConfiguration(
            f"{name}-infrastructure",
            **render.infrastructure_args(build, aws_settings, prefix=prefix,
                                         instance_profile_name=shared.instance_profile.name,
                                         log_bucket=shared.log_bucket.bucket, topic_arn=shared.topic.arn, tags=tags),
            opts=child,
        )
        distribution = aws.imagebuilder.DistributionConfiguration(
            f"{name}-distribution",
            **render.distribution_args(build, aws_settings, prefix=prefix, key=shared.kms_key,
                                       account_id=shared.account_id, tags=tags),
            opts=child,
        )
        self.pipeline = aws.imagebuilder.ImagePipeline(
            f"{name}-pipeline",
            **render.pipeline_args(build, aws_settings, prefix=prefix, recipe_arn=self.recipe.arn,
                                   infrastructure_arn=infrastructure.arn, distribution_arn=distribution.arn,
                                   tags=tags),
            opts=child,
        )
        aws.imagebuilder.LifecyclePolicy(
            f"{name}-lifecycle",
            **render.lifecycle_policy_args(build, aws_settings, prefix=prefix, recipe=recipe_args["name"],
                                           execution_role_arn=shared.lifecycle_role.arn, tags=tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=shared.build_prerequisites),
        )
        start = self.pipeline.arn.apply(lambda arn: render.start_build_command(arn, region))
        # A layer's first build needs an image of its base, which a deploy-time build of the base
        # has only produced hours later; layers therefore build on their (later) schedule.
        if aws_settings.build_on_deploy and build.base is None:
            command.local.Command(
                f"{name}-build-on-deploy",
                create=start,
                triggers=[self.recipe.arn],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.pipeline, *shared.build_prerequisites]),
            )

        self.summary = {
            "pipeline_arn": self.pipeline.arn,
            "recipe_arn": self.recipe.arn,
            "regions": render.distribution_regions(build, aws_settings),
            "ssm_parameters": {r: render.ssm_parameter_name(aws_settings, build)
                               for r in render.distribution_regions(build, aws_settings)},
            "parent_image": parent,
            **({"schedule": render.schedule_expression(build.schedule), "timezone": build.schedule.timezone}
               if build.schedule is not None else {"schedule": f"none ({build.schedule_off_reason})"}),
            **({"image_tests": f"off ({build.tests.reason})"} if not build.tests_enabled else {}),
            **({"parent_lookup": "newest AMI matching the filter at deploy time: a newer AMI creates a new "
                                 "recipe, then the pipeline switches to it"} if lookup is not None and lookup.get("most_recent")
               else {}),
            "start_build_command": start,
            "build_on_deploy": aws_settings.build_on_deploy and build.base is None,
        }
        self.register_outputs({"summary": self.summary})
