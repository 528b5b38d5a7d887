"""The rebuild schedule: a Logic Apps recurrence in the stack's time zone that runs the template."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...model.build import FlavourBuild
from ...model.settings import Schedule
from .names import ARM_ENDPOINT, FactoryNames

# IANA -> Windows time zone names (CLDR windowsZones), which Logic Apps recurrences
# require. A fixed UTC offset would drift by an hour at every daylight-saving change.
WINDOWS_TIME_ZONES: dict[str, str] = json.loads((Path(__file__).parent / "windows_time_zones.json").read_text())

WEEKDAY_NAMES = {
    "monday": "Monday",
    "tuesday": "Tuesday",
    "wednesday": "Wednesday",
    "thursday": "Thursday",
    "friday": "Friday",
    "saturday": "Saturday",
    "sunday": "Sunday",
}


def windows_time_zone(iana: str) -> str:
    try:
        return WINDOWS_TIME_ZONES[iana]
    except KeyError:
        raise ValueError(
            f"time zone '{iana}' has no known Windows name, which Azure Logic Apps schedules need; "
            f"use one of: {', '.join(sorted(WINDOWS_TIME_ZONES))}"
        ) from None


RECURRENCE_START = "2025-01-01T00:00:00"


def render_recurrence(schedule: Schedule) -> dict[str, Any]:
    """The Logic Apps recurrence equal to the stack schedule, in its own time zone."""
    frequency = {"day": "Day", "week": "Week", "month": "Month"}[schedule.every]
    when: dict[str, Any] = {"hours": [schedule.hour], "minutes": [schedule.minute]}
    # The model guarantees a weekday for weekly and a day 1-28 for monthly schedules.
    if schedule.every == "week" and schedule.weekday is not None:
        when["weekDays"] = [WEEKDAY_NAMES[schedule.weekday]]
    elif schedule.every == "month" and isinstance(schedule.on, int):
        when["monthDays"] = [schedule.on]
    return {
        "frequency": frequency,
        "interval": 1,
        # Logic Apps apply timeZone only together with a startTime (local time, no
        # offset); without one the hours are read as UTC. Any past date starts it now.
        "startTime": RECURRENCE_START,
        "timeZone": windows_time_zone(schedule.timezone),
        "schedule": when,
    }


def render_schedule_workflow(schedule: Schedule, *, run_uri: Any, identity_id: Any) -> dict[str, Any]:
    """A Logic App definition: on the schedule, POST the template's run action.

    The call authenticates as a user-assigned identity that may only run templates.
    It follows the run's asynchronous operation, so a failed build shows as a failed
    Logic App run.
    """
    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/"
        "2016-06-01/workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {},
        "triggers": {"Recurrence": {"type": "Recurrence", "recurrence": render_recurrence(schedule)}},
        "actions": {
            "Run_image_template": {
                "type": "Http",
                "runAfter": {},
                "inputs": {
                    "method": "POST",
                    "uri": run_uri,
                    "authentication": {
                        "type": "ManagedServiceIdentity",
                        "identity": identity_id,
                        "audience": f"{ARM_ENDPOINT}/",
                    },
                },
            }
        },
        "outputs": {},
    }


def describe_schedule(schedule: Schedule) -> str:
    return f"{schedule.describe()} ({windows_time_zone(schedule.timezone)})"



def workflow_args(build: FlavourBuild, names: FactoryNames, *, run_uri: Any, identity_id: Any) -> dict[str, Any]:
    """Logic Apps Workflow's arguments (without the resource group): the build's schedule, run as identity_id."""
    if build.schedule is None:
        raise ValueError(f"flavour '{build.name}' has no schedule ({build.schedule_off_reason}): no workflow")
    return {
        "workflow_name": names.workflow(build),
        "location": names.location,
        "state": "Enabled",
        "identity": {"type": "UserAssigned", "user_assigned_identities": [identity_id]},
        "definition": render_schedule_workflow(build.schedule, run_uri=run_uri, identity_id=identity_id),
        "tags": dict(build.tags),
    }
