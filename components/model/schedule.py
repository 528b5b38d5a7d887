"""Rebuild schedules: the stack's, and a flavour's own (model/flavour.py)."""
from __future__ import annotations

import re
from typing import Any, Literal, Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, field_validator, model_validator

from .vocabulary import StrictModel, did_you_mean

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_Strict = StrictModel
_closest = did_you_mean


class Schedule(_Strict):
    """When pipelines rebuild to pick up the latest patches."""

    every: Literal["day", "week", "month"]
    on: Optional[Union[int, str]] = Field(default=None, description="weekday (week) or day 1-28 (month)")
    at: str = Field(default="02:00", description="24-hour local time HH:MM")
    timezone: str = Field(default="UTC", description="IANA time zone, e.g. Europe/Amsterdam")
    layer_delay_hours: int = Field(
        default=4, ge=1, le=12,
        description="A layered flavour rebuilds this many hours after its base flavour (per layer)",
    )

    @field_validator("on", mode="before")
    @classmethod
    def _not_boolean(cls, value: Any) -> Any:
        # YAML `on: yes` would otherwise become day 1 of the month.
        if isinstance(value, bool):
            raise ValueError(f"'on' must be a weekday or a day of the month, got {value!r}")
        return value

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
            raise ValueError(f"'{value}' is not a 24-hour time HH:MM (e.g. 02:30)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}'{_closest(value, available_timezones())}; use an IANA "
                "name such as Europe/Amsterdam or UTC"
            ) from None
        return value

    @model_validator(mode="after")
    def _on(self) -> "Schedule":
        if self.every == "day" and self.on is not None:
            raise ValueError("'on' is not used with every: day; remove it")
        if self.every == "week" and str(self.on).lower() not in WEEKDAYS:
            raise ValueError(f"every: week needs 'on' to be a weekday ({', '.join(WEEKDAYS)}), got {self.on!r}")
        if self.every == "month" and not (isinstance(self.on, int) and 1 <= self.on <= 28):
            raise ValueError(
                f"every: month needs 'on' to be a day of the month 1-28 (exists in every month), got {self.on!r}"
            )
        return self

    @property
    def hour(self) -> int:
        return int(self.at.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.at.split(":")[1])

    @property
    def weekday(self) -> Optional[str]:
        return str(self.on).lower() if self.every == "week" else None

    def describe(self) -> str:
        when = {"day": "every day", "week": f"every {self.weekday}", "month": f"on day {self.on} of every month"}
        return f"{when[self.every]} at {self.at} {self.timezone}"

    def for_layer(self, depth: int) -> "Schedule":
        """The schedule of a flavour `depth` layers above a marketplace-based one: the same rule,
        `layer_delay_hours` later per layer, so it rebuilds after its base has (local time, so
        daylight saving time moves every layer alike). Raises ValueError when a monthly run
        would move past day 28."""
        if depth == 0:
            return self
        total = self.hour * 60 + self.minute + depth * self.layer_delay_hours * 60
        days, minutes = divmod(total, 24 * 60)
        on = self.on
        if days and self.every == "week":
            on = WEEKDAYS[(WEEKDAYS.index(self.weekday) + days) % 7]
        elif days and self.every == "month":
            assert isinstance(self.on, int)  # _on: every: month has a day of the month
            on = self.on + days
            if on > 28:
                raise ValueError(
                    f"a flavour {depth} layer(s) above its marketplace image rebuilds {depth * self.layer_delay_hours} "
                    f"hours after day {self.on} {self.at}, on day {on}, which not every month has; choose an "
                    "earlier day or time, or a smaller layer_delay_hours"
                )
        return self.model_copy(update={"at": f"{minutes // 60:02d}:{minutes % 60:02d}", "on": on})
