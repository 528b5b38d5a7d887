"""Image pipelines: the schedule that rebuilds a flavour, with tests and scanning."""
from __future__ import annotations

import shlex
from typing import Any

from ...model.build import FlavourBuild
from ...model.settings import AwsSettings, Schedule
from .names import flavour_resource_name

START_CONDITION = "EXPRESSION_MATCH_ONLY"


def schedule_expression(schedule: Schedule) -> str:
    """Image Builder's six-field cron: minute hour day-of-month month day-of-week year."""
    weekday = schedule.weekday  # set exactly when every: week
    if schedule.every == "day":
        day_of_month, day_of_week = "*", "?"
    elif weekday is not None:
        day_of_month, day_of_week = "?", weekday[:3].upper()
    else:
        day_of_month, day_of_week = str(schedule.on), "?"
    return f"cron({schedule.minute} {schedule.hour} {day_of_month} * {day_of_week} *)"


def pipeline_args(build: FlavourBuild, aws: AwsSettings, *, prefix: str, recipe_arn: Any,
                  infrastructure_arn: Any, distribution_arn: Any, tags: dict[str, str]) -> dict[str, Any]:
    """CreateImagePipeline: a schedule that always runs, tests, scanning, enhanced metadata.

    A layered flavour's pipeline runs after its base's, on the same rule, and
    always (not only when its base produced a new image): it re-runs updates
    itself, so a late or failed base build never leaves it unpatched.
    """
    schedule = build.schedule
    after = f", after {build.base.name}" if build.base else ""
    when = schedule.describe() if schedule is not None else f"no schedule ({build.schedule_off_reason})"
    tests: dict[str, Any] = {"image_tests_enabled": build.tests_enabled}
    if build.tests_enabled:
        tests["timeout_minutes"] = min(build.tests.timeout_minutes, build.machine.timeout_minutes)
    args: dict[str, Any] = {
        "name": flavour_resource_name(prefix, build),
        "description": f"{build.name}: {when}{after}"[:1024],
        "image_recipe_arn": recipe_arn,
        "infrastructure_configuration_arn": infrastructure_arn,
        "distribution_configuration_arn": distribution_arn,
        "image_tests_configuration": tests,
        "image_scanning_configuration": {"image_scanning_enabled": True},
        "enhanced_image_metadata_enabled": True,
        "status": "ENABLED",
        "tags": tags,
        "region": aws.region,
    }
    if schedule is not None:
        # Without a schedule the pipeline runs only when started (make build, build_on_deploy).
        args["schedule"] = {
            "schedule_expression": schedule_expression(schedule),
            "timezone": schedule.timezone,
            # The default start condition skips runs when no component or parent image
            # changed, so the month's OS patches would never be picked up.
            "pipeline_execution_start_condition": START_CONDITION,
        }
    return args


def start_build_command(pipeline_arn: str, region: str) -> str:
    return (f"aws imagebuilder start-image-pipeline-execution --image-pipeline-arn {shlex.quote(pipeline_arn)} "
            f"--region {shlex.quote(region)}")
