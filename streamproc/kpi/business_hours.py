"""Business-hours schedules and the business time between two instants.

First response and resolution time are measured in calendar time and in business time, which
counts only the open hours of a schedule. A schedule in YAML (see `business_hours_config`)::

    name: night-desk
    time_zone: Europe/Berlin
    hours: {mon: ["09:00-12:00", "13:00-18:00"], fri: ["22:00-06:00"]}
    holidays: [2024-12-25]

Rules, also described in docs/business-hours.md:

- A shift `HH:MM-HH:MM` belongs to the weekday it starts on. An end at or before the start runs
  into the next day, so `22:00-06:00` lasts 8 h and `08:00-08:00` lasts 24 h. `00:00-24:00` is
  a whole day.
- Overlapping or touching shifts, also across midnight, are merged: open time is their union,
  and no second is counted twice.
- A holiday closes its whole local calendar day. Shifts that start on it do not run, not even
  their part after midnight, and an overnight shift from the day before closes at midnight.
- Shift edges are local wall-clock times, converted to UTC one by one. A shift that spans a
  daylight-saving change is therefore shorter or longer in real time: 00:00-08:00 in Berlin
  lasts 7 h on the day the clocks go forward and 9 h on the day they go back. An edge that falls in the
  repeated hour (fall back) is its first occurrence. An edge that falls in the skipped hour
  (spring forward) is the instant the clocks jump, when the wall clock first passes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
    model_validator,
)

MINUTES_PER_DAY = 1_440
_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_SHIFT_PATTERN = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*$")
_SHIFT_FIX = (
    "write it as 'HH:MM-HH:MM' in 24-hour time, such as '08:00-17:00', '22:00-06:00' (runs"
    " into the next day) or '00:00-24:00' (the whole day)"
)


class Weekday(StrEnum):
    """Day of the week, the key of `Schedule.hours`, with members in `date.weekday()` order."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_WEEKDAYS = tuple(Weekday)


class Shift(BaseModel):
    """One open period of a weekday, written `HH:MM-HH:MM`, which crosses midnight if end <= start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_minute: int = Field(ge=0, lt=MINUTES_PER_DAY, description="Opening, minutes after 00:00.")
    end_minute: int = Field(ge=0, le=MINUTES_PER_DAY, description="Closing, minutes after 00:00.")

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_shift(value)
        if isinstance(value, (dict, Shift)):
            return value
        raise ValueError(f"invalid shift {value!r}: {_SHIFT_FIX}")

    @model_serializer
    def _to_text(self) -> str:
        return str(self)

    @property
    def crosses_midnight(self) -> bool:
        """Whether the shift ends on the next day."""
        return self.end_minute <= self.start_minute

    @property
    def length_minutes(self) -> int:
        """Length in wall-clock minutes, from 1 to 1,440."""
        end = self.end_minute + (MINUTES_PER_DAY if self.crosses_midnight else 0)
        return end - self.start_minute

    def __str__(self) -> str:
        return f"{_format_minute(self.start_minute)}-{_format_minute(self.end_minute)}"


def parse_shift(text: str) -> dict[str, int]:
    """Parse `HH:MM-HH:MM` into start and end minutes, or raise ValueError naming the text."""
    match = _SHIFT_PATTERN.match(text)
    if match is None:
        raise ValueError(f"invalid shift {text!r}: {_SHIFT_FIX}")
    start_hour, start_min, end_hour, end_min = (int(group) for group in match.groups())

    if start_hour > 23 or start_min > 59:
        raise ValueError(f"invalid shift {text!r}: the start must be 00:00 to 23:59; {_SHIFT_FIX}")
    if end_min > 59 or end_hour > 24 or (end_hour == 24 and end_min != 0):
        raise ValueError(f"invalid shift {text!r}: the end must be 00:00 to 24:00; {_SHIFT_FIX}")
    return {"start_minute": start_hour * 60 + start_min, "end_minute": end_hour * 60 + end_min}


class Schedule(BaseModel):
    """Weekly open hours in one time zone, with whole-day holidays."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Name that assignments refer to.")
    time_zone: str = Field(description="IANA time zone of the shift times, such as Asia/Kolkata.")
    hours: dict[Weekday, list[Shift]] = Field(
        description="Shifts per weekday (mon to sun). A weekday left out is closed."
    )
    holidays: list[date] = Field(
        default_factory=list, description="Local calendar days closed all day."
    )

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA time zone name such as"
                " 'Europe/Berlin', 'America/New_York' or 'UTC'"
            ) from exc
        return value

    @field_validator("hours")
    @classmethod
    def _sort_shifts(cls, value: dict[Weekday, list[Shift]]) -> dict[Weekday, list[Shift]]:
        if not any(value.values()):
            raise ValueError(
                "the schedule has no shifts, so it is never open; add at least one shift,"
                " such as mon: ['09:00-17:00']"
            )
        # _open_intervals relies on shifts in start order to merge them in one pass.
        return {
            day: sorted(shifts, key=lambda shift: shift.start_minute)
            for day, shifts in value.items()
        }

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Return the seconds of open time in [start, end), or 0.0 when end <= start.

        Both instants must be timezone-aware. The sum is exact to the microsecond, and the
        work grows with the number of local days between them.
        """
        _require_aware(start, name="start")
        _require_aware(end, name="end")

        # Compare in UTC, because datetimes that share a tzinfo compare by wall time and
        # ignore `fold`, which misorders instants in the hour repeated when clocks go back.
        start_utc = start.astimezone(UTC)
        end_utc = end.astimezone(UTC)
        if end_utc <= start_utc:
            return 0.0

        total = timedelta(0)
        run_start: datetime | None = None
        run_end = start_utc

        # Intervals arrive sorted by opening, so overlapping ones form consecutive runs.
        for opening, closing in self._open_intervals(start_utc, end_utc):
            opening = max(opening, start_utc)
            closing = min(closing, end_utc)
            if closing <= opening:
                continue
            if run_start is not None and opening <= run_end:
                run_end = max(run_end, closing)
                continue
            if run_start is not None:
                total += run_end - run_start
            run_start, run_end = opening, closing

        if run_start is not None:
            total += run_end - run_start
        return total.total_seconds()

    def is_open(self, moment: datetime) -> bool:
        """Return whether `moment`, a timezone-aware instant, falls in open time."""
        _require_aware(moment, name="moment")

        # Add in UTC, because adding to a local time drops `fold` and can move it back an hour.
        instant = moment.astimezone(UTC)
        return self.business_seconds(instant, instant + _ONE_MICROSECOND) > 0.0

    def _open_intervals(
        self, start: datetime, end: datetime
    ) -> Iterator[tuple[datetime, datetime]]:
        """Yield the UTC open intervals of the shifts that may touch [start, end), by opening."""
        zone = ZoneInfo(self.time_zone)
        holidays = frozenset(self.holidays)

        # A shift lasts at most 24 h, so one that opened the local day before `start` may still run.
        day = start.astimezone(zone).date() - _ONE_DAY
        last_day = end.astimezone(zone).date()
        while day <= last_day:
            next_day = day + _ONE_DAY
            if day in holidays:
                day = next_day
                continue

            midnight = datetime.combine(day, time())
            for shift in self.hours.get(_WEEKDAYS[day.weekday()], ()):
                end_minute = shift.start_minute + shift.length_minutes
                if end_minute > MINUTES_PER_DAY and next_day in holidays:
                    end_minute = MINUTES_PER_DAY
                opening = midnight + timedelta(minutes=shift.start_minute)
                closing = midnight + timedelta(minutes=end_minute)
                yield _wall_time_to_utc(opening, zone), _wall_time_to_utc(closing, zone)
            day = next_day


def _wall_time_to_utc(wall_time: datetime, zone: ZoneInfo) -> datetime:
    """Convert a naive local time to the first UTC instant at which `zone`'s clocks reach it.

    A repeated wall time gives its first occurrence (fold 0). A skipped one gives the instant
    the clocks jump over it, because that is when the wall clock first passes it.
    """
    utc = wall_time.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall_time:
        return utc

    # In a gap, fold=1 applies the offset in force after the jump and gives an instant before the
    # jump, while fold=0 gives one after it. Bisect between the two for the jump itself.
    before = wall_time.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after_offset = utc.astimezone(zone).utcoffset()
    low, high = before, utc
    while high - low > _ONE_MICROSECOND:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high


def _require_aware(moment: datetime, *, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, not the naive {moment.isoformat()!r};"
            " attach a time zone, such as datetime(..., tzinfo=UTC)"
        )


def _format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
