"""Image pipelines: the schedule, tests and scanning."""
from __future__ import annotations

import pytest

from components.aws import render
from components.model.settings import StackSettings
from tests.aws.samples import (
    PREFIX,
    make_flavour,
    make_settings,
)


class TestSchedule:
    @pytest.mark.parametrize("schedule, expected", [
        ({"every": "week", "on": "sunday", "at": "02:00"}, "cron(0 2 ? * SUN *)"),
        ({"every": "month", "on": 15, "at": "03:00"}, "cron(0 3 15 * ? *)"),
        ({"every": "day", "at": "23:45"}, "cron(45 23 * * ? *)"),
        ({"every": "week", "on": "Wednesday", "at": "00:05"}, "cron(5 0 ? * WED *)"),
    ])
    def test_six_field_cron(self, schedule, expected):
        settings = StackSettings.model_validate({"clouds": ["aws"], "schedule": schedule,
                                                 "aws": {"region": "eu-west-1"}})
        cron = render.schedule_expression(settings.schedule)
        assert cron == expected
        fields = cron[len("cron("):-1].split(" ")
        assert len(fields) == 6 and (fields[2] == "?") != (fields[4] == "?")

    def test_pipeline_runs_on_schedule_with_tests_and_scanning(self):
        settings = make_settings()
        flavour = make_flavour(tests={"timeout_minutes": 120}, build={"timeout_minutes": 90})
        args = render.pipeline_args(flavour, settings.aws, prefix=PREFIX, recipe_arn="r", infrastructure_arn="i",
                                    distribution_arn="d", tags={})
        assert args["schedule"] == {"schedule_expression": "cron(0 2 ? * SUN *)", "timezone": "Europe/Amsterdam",
                                    "pipeline_execution_start_condition": "EXPRESSION_MATCH_ONLY"}
        # The build timeout caps the test timeout; both stay within the API's 60..1440.
        assert args["image_tests_configuration"] == {"image_tests_enabled": True, "timeout_minutes": 90}
        assert args["image_scanning_configuration"] == {"image_scanning_enabled": True}
        assert args["enhanced_image_metadata_enabled"] is True
        assert (args["image_recipe_arn"], args["infrastructure_configuration_arn"],
                args["distribution_configuration_arn"]) == ("r", "i", "d")
        assert args["name"] == f"{PREFIX}-ubuntu-2404"

