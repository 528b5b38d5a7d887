"""The Logic Apps rebuild schedule and its Windows time zones."""
from __future__ import annotations

import pytest

from components.azure import render
from tests.azure.samples import settings


class TestSchedule:
    def test_weekly(self):
        assert render.render_recurrence(settings().schedule) == {
            "frequency": "Week",
            "interval": 1,
            "startTime": "2025-01-01T00:00:00",
            "timeZone": "W. Europe Standard Time",
            "schedule": {"hours": [2], "minutes": [30], "weekDays": ["Sunday"]},
        }

    def test_monthly_and_daily(self):
        monthly = settings().schedule.model_copy(update={"every": "month", "on": 15, "timezone": "America/New_York"})
        assert render.render_recurrence(monthly)["schedule"] == {"hours": [2], "minutes": [30], "monthDays": [15]}
        assert render.render_recurrence(monthly)["timeZone"] == "Eastern Standard Time"
        daily = settings().schedule.model_copy(update={"every": "day", "on": None, "timezone": "UTC"})
        assert render.render_recurrence(daily) == {
            "frequency": "Day", "interval": 1, "startTime": "2025-01-01T00:00:00", "timeZone": "UTC",
            "schedule": {"hours": [2], "minutes": [30]}}

    def test_unknown_zone_is_a_clear_error(self):
        with pytest.raises(ValueError, match="Asia/Kathmandu.*Windows"):
            render.windows_time_zone("Asia/Kathmandu")

    def test_every_mapped_zone_is_a_real_iana_zone(self):
        from zoneinfo import available_timezones

        assert set(render.WINDOWS_TIME_ZONES) - available_timezones() == set()

    def test_workflow_posts_the_run_action_as_the_runner_identity(self):
        definition = render.render_schedule_workflow(settings().schedule, run_uri="URI", identity_id="ID")
        action = definition["actions"]["Run_image_template"]
        assert action["type"] == "Http"
        assert action["inputs"]["method"] == "POST" and action["inputs"]["uri"] == "URI"
        assert action["inputs"]["authentication"] == {
            "type": "ManagedServiceIdentity", "identity": "ID", "audience": "https://management.azure.com/"}
        assert definition["triggers"]["Recurrence"]["type"] == "Recurrence"
        assert render.run_uri("/subscriptions/s/resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/t") == (
            "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/"
            "Microsoft.VirtualMachineImages/imageTemplates/t/run?api-version=2024-02-01"
        )


