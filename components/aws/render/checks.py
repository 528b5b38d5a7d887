"""Up-front checks: reported with the other problems, before anything is created."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ...model.build import SOURCE_COMMIT_TAG, FlavourBuild
from ...model.errors import Problem, RenderError
from ...model.flavour import AmiFilter
from ...model.settings import AwsSettings
from .component import DocumentCache
from .distribution import ami_name
from .keys import KmsKey, configured_key
from .names import RESOURCE_TAG_LIMIT, TAG_LIMIT, checked_tags, name_prefix
from .recipe import RecipePlan, parent_image, recipe_args, recipe_plan


def _parent_check(build: FlavourBuild, region: str) -> Callable[[], None]:
    def check() -> None:
        if build.base is None:
            parent_image(build, None, region=region)
    return check


@dataclass(frozen=True)
class AwsPlan:
    """Everything about the stack's AWS factory that is rendered before deployment, once."""

    prefix: str
    key: KmsKey  # placeholder ARNs when the stack creates the key
    recipes: Mapping[str, RecipePlan]  # flavour -> its recipe plan


def plan_aws(builds: Sequence[FlavourBuild], aws: AwsSettings, *, stack: str,
             settings_source: str) -> tuple[AwsPlan, list[Problem]]:
    """(AwsPlan, problems): every AWS limit a valid model can still exceed, found by rendering once.

    Key regions, tag counts, recipe size, AMI names. The recipes rendered here are
    the ones the components create: nothing is rendered again.
    """
    problems: list[Problem] = []
    key = KmsKey(identity="stack-key", arns={region: f"arn:aws:kms:{region}:000000000000:key/check"
                                              for region in aws.regions})
    if aws.kms_key_arn:
        try:
            key = configured_key(aws.kms_key_arn, aws.regions)
        except RenderError as err:
            problems.append(Problem(settings_source, "golden-images:aws.kms_key_arn", str(err)))
    prefix = name_prefix(stack)
    cache = DocumentCache()
    recipes: dict[str, RecipePlan] = {}
    for build in builds:
        if not build.builds_on("aws"):
            continue

        def render_recipe(build: FlavourBuild = build) -> None:
            plan = recipe_plan(build, prefix=prefix, region=aws.region, key=key,
                               base=recipes.get(build.base.name) if build.base else None, cache=cache)
            # Deploy-time values (an AMI filter's newest AMI, its root device) as placeholders.
            recipe_args(build, plan, ["arn"] * len(plan.entries), region=aws.region, key=key, tags={},
                        asset_bucket="bucket", root_device="/dev/placeholder",
                        parent_value="ami-00000000" if isinstance(plan.parent.value, AmiFilter) else None)
            recipes[build.name] = plan

        checks = (
            # The commit is known only in CI: count its tag whether or not this run has one.
            ("tags", lambda build=build: checked_tags({**build.tags, SOURCE_COMMIT_TAG: "0" * 40}, RESOURCE_TAG_LIMIT,
                                                      f"flavour '{build.name}' build instances")),
            ("tags", lambda build=build: checked_tags({**build.tags, **build.lineage("aws"), SOURCE_COMMIT_TAG: "0" * 40},
                                                      TAG_LIMIT, f"flavour '{build.name}' AMIs")),
            ("base_image.aws" if build.base is None else "steps", _parent_check(build, aws.region)),
            ("steps", render_recipe),
            ("name", lambda build=build: ami_name(prefix, build)),
        )
        for path, check in checks:
            try:
                check()
            except RenderError as err:
                problems.append(Problem(build.source, path, str(err)))
                if path == "base_image.aws":
                    break  # the recipe cannot be rendered without its parent
    return AwsPlan(prefix=prefix, key=key, recipes=recipes), problems
