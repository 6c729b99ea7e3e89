"""Business-hours schedules: business seconds, open moments, DST, properties and the YAML config."""

from __future__ import annotations

import bisect
import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from streamproc.errors import ConfigurationError
from streamproc.kpi.business_hours import Schedule, Shift, Weekday
from streamproc.kpi.business_hours_config import (
    Assignment,
    BusinessHoursConfig,
    load_business_hours,
)

HOUR = 3_600.0
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = tuple(day.value for day in Weekday)

EXAMPLE_YAML = """\
schedules:
  - name: india-support
    time_zone: Asia/Kolkata
    hours: {mon: ["08:00-17:00"], tue: ["08:00-17:00"], wed: ["08:00-17:00"], thu: ["08:00-17:00"], fri: ["08:00-17:00"]}
    holidays: [2024-08-15]
  - name: night-desk
    time_zone: Europe/Berlin
    hours: {mon: ["09:00-12:00", "13:00-18:00"], fri: ["22:00-06:00"]}
assign:
  - {schedule: india-support, channel: email}
  - {schedule: night-desk, team: nights}
"""


def schedule(
    hours: dict[str, list[str]],
    *,
    time_zone: str = "Asia/Kolkata",
    holidays: tuple[date, ...] = (),
) -> Schedule:
    """Build a schedule from shift texts, as the YAML file gives them."""
    return Schedule.model_validate(
        {"name": "test", "time_zone": time_zone, "hours": hours, "holidays": list(holidays)}
    )


def local(time_zone: str, year: int, month: int, day: int, *clock: int) -> datetime:
    """Build an aware datetime from a local date and wall-clock parts (hour, minute, ...)."""
    hour, minute, second, microsecond = (*clock, 0, 0, 0, 0)[:4]
    return datetime(year, month, day, hour, minute, second, microsecond, ZoneInfo(time_zone))


def calendar_seconds(start: datetime, end: datetime) -> float:
    """Return the real seconds between two instants.

    Subtracting two datetimes that share a tzinfo gives the wall-clock difference, which is
    off by the DST change between them, so both go to UTC first.
    """
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def india(year: int, month: int, day: int, *clock: int) -> datetime:
    return local("Asia/Kolkata", year, month, day, *clock)


def berlin(year: int, month: int, day: int, *clock: int) -> datetime:
    return local("Europe/Berlin", year, month, day, *clock)


OFFICE = schedule({day: ["08:00-17:00"] for day in WORKDAYS})
ALWAYS = schedule({day: ["00:00-24:00"] for day in ALL_DAYS})
SPLIT = schedule({"mon": ["09:00-12:00", "13:00-18:00"]}, time_zone="Europe/Berlin")
NIGHT = schedule({"fri": ["22:00-06:00"]}, time_zone="Europe/Berlin")


# --- the weekend ticket ---------------------------------------------------------------------


def test_weekend_ticket_business_seconds() -> None:
    """A ticket opened Saturday 11:00 with a first reply Monday 08:30 waited 30 business minutes."""
    opened = india(2024, 5, 4, 11, 0)
    replied = india(2024, 5, 6, 8, 30)

    assert opened.strftime("%a") == "Sat"
    assert OFFICE.business_seconds(opened, replied) == 1_800.0


def test_weekend_ticket_calendar_seconds() -> None:
    """The same ticket waited 163,800 calendar seconds, which a 24/7 schedule also counts."""
    opened = india(2024, 5, 4, 11, 0)
    replied = india(2024, 5, 6, 8, 30)

    assert calendar_seconds(opened, replied) == 163_800.0
    assert ALWAYS.business_seconds(opened, replied) == 163_800.0


# --- shifts ---------------------------------------------------------------------------------


def test_split_shift_skips_lunch() -> None:
    """Monday 10:00 to 14:00 with a 12:00-13:00 break counts 3 hours."""
    assert SPLIT.business_seconds(berlin(2024, 5, 6, 10), berlin(2024, 5, 6, 14)) == 3 * HOUR


def test_split_shift_whole_day() -> None:
    """A whole split-shift Monday counts both shifts, 8 hours."""
    assert SPLIT.business_seconds(berlin(2024, 5, 6), berlin(2024, 5, 7)) == 8 * HOUR


def test_split_shift_break_closed() -> None:
    """The break between two shifts is closed, and both shift edges are half-open."""
    assert not SPLIT.is_open(berlin(2024, 5, 6, 12, 30))
    assert not SPLIT.is_open(berlin(2024, 5, 6, 12, 0))
    assert SPLIT.is_open(berlin(2024, 5, 6, 11, 59, 59, 999_999))
    assert SPLIT.is_open(berlin(2024, 5, 6, 13, 0))


def test_overnight_shift_into_weekend() -> None:
    """Friday 22:00-06:00 runs into Saturday and counts 8 hours in total."""
    friday_evening = berlin(2024, 5, 3, 20)
    saturday_noon = berlin(2024, 5, 4, 12)

    assert NIGHT.business_seconds(friday_evening, saturday_noon) == 8 * HOUR


def test_overnight_shift_start_after_midnight() -> None:
    """A span that starts in the after-midnight part of Friday's shift counts the rest of it."""
    assert NIGHT.business_seconds(berlin(2024, 5, 4, 2), berlin(2024, 5, 4, 12)) == 4 * HOUR


def test_overnight_shift_open_moments() -> None:
    """Friday's shift is open on Saturday until 06:00 and closed from 06:00."""
    assert NIGHT.is_open(berlin(2024, 5, 4, 5, 59))
    assert not NIGHT.is_open(berlin(2024, 5, 4, 6, 0))
    assert NIGHT.is_open(berlin(2024, 5, 3, 22, 0))
    assert not NIGHT.is_open(berlin(2024, 5, 3, 21, 59))


def test_overnight_shift_into_holiday() -> None:
    """A holiday the morning after cuts the overnight shift at midnight."""
    night = schedule(
        {"fri": ["22:00-06:00"]}, time_zone="Europe/Berlin", holidays=(date(2024, 5, 4),)
    )

    assert night.business_seconds(berlin(2024, 5, 3), berlin(2024, 5, 5)) == 2 * HOUR


def test_overnight_shift_from_holiday() -> None:
    """A shift that starts on a holiday does not run, not even after midnight."""
    night = schedule(
        {"fri": ["22:00-06:00"]}, time_zone="Europe/Berlin", holidays=(date(2024, 5, 3),)
    )

    assert night.business_seconds(berlin(2024, 5, 3), berlin(2024, 5, 5)) == 0.0


def test_holiday_closes_day() -> None:
    """Independence Day (Thursday 2024-08-15) adds no open time between Wednesday and Friday."""
    office = schedule({day: ["08:00-17:00"] for day in WORKDAYS}, holidays=(date(2024, 8, 15),))

    assert office.business_seconds(india(2024, 8, 14, 17), india(2024, 8, 16, 9)) == HOUR
    assert not office.is_open(india(2024, 8, 15, 10))


def test_whole_day_shift() -> None:
    """A Monday with 00:00-24:00 is open for all of its 86,400 seconds and no more."""
    monday = schedule({"mon": ["00:00-24:00"]})

    assert monday.business_seconds(india(2024, 5, 5, 23), india(2024, 5, 7, 1)) == 86_400.0


def test_shift_equal_edges_lasts_day() -> None:
    """A shift whose end equals its start, such as 08:00-08:00, lasts 24 hours."""
    monday = schedule({"mon": ["08:00-08:00"]})

    assert monday.business_seconds(india(2024, 5, 6), india(2024, 5, 8)) == 24 * HOUR


def test_overlapping_shifts_merged() -> None:
    """Overlapping shifts of one day count their union, 08:00-14:00."""
    monday = schedule({"mon": ["10:00-14:00", "08:00-12:00", "08:00-12:00"]})

    assert monday.business_seconds(india(2024, 5, 6), india(2024, 5, 7)) == 6 * HOUR


def test_overlap_across_midnight_merged() -> None:
    """Sunday 22:00-06:00 and Monday 00:00-04:00 overlap and count 8 hours."""
    nights = schedule({"sun": ["22:00-06:00"], "mon": ["00:00-04:00"]})

    assert nights.business_seconds(india(2024, 5, 5), india(2024, 5, 7)) == 8 * HOUR


# --- edges of the span ----------------------------------------------------------------------


def test_start_equals_end() -> None:
    """An empty span has no business time, even inside a shift."""
    moment = india(2024, 5, 6, 10)

    assert OFFICE.business_seconds(moment, moment) == 0.0


def test_end_before_start() -> None:
    """A span that ends before it starts has no business time."""
    assert OFFICE.business_seconds(india(2024, 5, 6, 12), india(2024, 5, 6, 10)) == 0.0


def test_span_in_closed_time() -> None:
    """A span from Saturday to Sunday evening has no business time."""
    assert OFFICE.business_seconds(india(2024, 5, 4, 9), india(2024, 5, 5, 20)) == 0.0


def test_span_edges_in_closed_time() -> None:
    """A span from 06:00 to 20:00 on Monday counts the whole 9-hour shift."""
    assert OFFICE.business_seconds(india(2024, 5, 6, 6), india(2024, 5, 6, 20)) == 9 * HOUR


def test_span_edges_inside_shift() -> None:
    """A span from 09:15 to 16:45 inside one shift counts 7.5 hours."""
    assert (
        OFFICE.business_seconds(india(2024, 5, 6, 9, 15), india(2024, 5, 6, 16, 45)) == 7.5 * HOUR
    )


def test_span_microsecond_exact() -> None:
    """Business time is exact to the microsecond at a shift opening."""
    start = india(2024, 5, 6, 7, 59, 59, 999_999)
    end = india(2024, 5, 6, 8, 0, 0, 3)

    assert OFFICE.business_seconds(start, end) == 0.000_003


def test_span_in_other_zone() -> None:
    """Instants given in UTC count the same as the same instants in local time."""
    opened = india(2024, 5, 4, 11, 0).astimezone(UTC)
    replied = india(2024, 5, 6, 8, 30).astimezone(UTC)

    assert OFFICE.business_seconds(opened, replied) == 1_800.0


def test_naive_datetime_rejected() -> None:
    """A naive datetime raises ValueError naming the parameter."""
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        OFFICE.business_seconds(datetime(2024, 5, 6, 8), india(2024, 5, 6, 9))


def test_span_full_year() -> None:
    """2024 has 262 weekdays, so Mon-Fri 08:00-17:00 counts 262 x 9 hours."""
    assert OFFICE.business_seconds(india(2024, 1, 1), india(2025, 1, 1)) == 262 * 9 * HOUR


def test_span_decades_counts() -> None:
    """A 30-year span of a 24/7 schedule equals calendar time, one day at a time."""
    start = berlin(2000, 1, 1)
    end = berlin(2030, 1, 1)
    always = schedule({day: ["00:00-24:00"] for day in ALL_DAYS}, time_zone="Europe/Berlin")

    assert always.business_seconds(start, end) == calendar_seconds(start, end)


# --- daylight saving time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_zone", "sunday", "hours"),
    [
        ("Europe/Berlin", date(2024, 3, 31), 3),
        ("Europe/Berlin", date(2024, 10, 27), 5),
        ("America/New_York", date(2024, 3, 10), 3),
        ("America/New_York", date(2024, 11, 3), 5),
    ],
)
def test_dst_shift_real_length(time_zone: str, sunday: date, hours: int) -> None:
    """A 01:00-05:00 shift lasts 3 real hours when clocks go forward and 5 when they go back."""
    early = schedule({"sun": ["01:00-05:00"]}, time_zone=time_zone)
    start = local(time_zone, sunday.year, sunday.month, sunday.day)

    assert early.business_seconds(start, start + timedelta(days=1)) == hours * HOUR


@pytest.mark.parametrize(("sunday", "hours"), [(date(2024, 3, 31), 7), (date(2024, 10, 27), 9)])
def test_dst_eight_hour_shift(sunday: date, hours: int) -> None:
    """An 8-hour shift 00:00-08:00 lasts 7 or 9 real hours on a Berlin DST Sunday."""
    early = schedule({"sun": ["00:00-08:00"]}, time_zone="Europe/Berlin")
    start = berlin(sunday.year, sunday.month, sunday.day)

    assert early.business_seconds(start, start + timedelta(days=1)) == hours * HOUR


def test_dst_gap_edge_opens_at_jump() -> None:
    """A shift opening at a skipped 02:30 opens when the clocks jump to 03:00."""
    skipped = schedule({"sun": ["02:30-03:15"]}, time_zone="Europe/Berlin")
    jump = datetime(2024, 3, 31, 1, 0, tzinfo=UTC)

    assert skipped.business_seconds(berlin(2024, 3, 31), berlin(2024, 4, 1)) == 15 * 60.0
    assert skipped.is_open(jump)
    assert not skipped.is_open(jump - timedelta(microseconds=1))


def test_dst_gap_whole_shift_empty() -> None:
    """A shift entirely inside the skipped hour has no open time that day."""
    skipped = schedule({"sun": ["02:10-02:50"]}, time_zone="Europe/Berlin")

    assert skipped.business_seconds(berlin(2024, 3, 31), berlin(2024, 4, 1)) == 0.0


def test_dst_fold_edge_first_occurrence() -> None:
    """A shift closing at a repeated 02:30 closes at its first occurrence, 00:30 UTC."""
    repeated = schedule({"sun": ["00:00-02:30"]}, time_zone="Europe/Berlin")
    first_0230 = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)

    assert repeated.business_seconds(berlin(2024, 10, 27), berlin(2024, 10, 28)) == 2.5 * HOUR
    assert repeated.is_open(first_0230 - timedelta(microseconds=1))
    assert not repeated.is_open(first_0230)


def test_dst_fold_split_additive() -> None:
    """Shifts 00:00-02:30 and 02:30-04:00 on the fall-back day add up to 00:00-04:00."""
    split = schedule({"sun": ["00:00-02:30", "02:30-04:00"]}, time_zone="Europe/Berlin")

    assert split.business_seconds(berlin(2024, 10, 27), berlin(2024, 10, 28)) == 5 * HOUR


def test_dst_fold_span_order() -> None:
    """A span from 02:50 CEST to the later 02:10 CET counts its 20 real minutes."""
    always = schedule({day: ["00:00-24:00"] for day in ALL_DAYS}, time_zone="Europe/Berlin")
    start = berlin(2024, 10, 27, 2, 50)
    end = berlin(2024, 10, 27, 2, 10).replace(fold=1)

    assert always.business_seconds(start, end) == 20 * 60.0


def test_dst_fold_second_pass_open() -> None:
    """The second 02:10 of the fall-back day is open in a shift from the first 02:30 to 04:00."""
    late = schedule({"sun": ["02:30-04:00"]}, time_zone="Europe/Berlin")
    first_pass = berlin(2024, 10, 27, 2, 10)
    second_pass = first_pass.replace(fold=1)

    assert not late.is_open(first_pass)
    assert late.is_open(second_pass)


def test_dst_midnight_jump_continuous() -> None:
    """A 24/7 schedule in Santiago, whose clocks jump at midnight, equals calendar time."""
    always = schedule({day: ["00:00-24:00"] for day in ALL_DAYS}, time_zone="America/Santiago")
    start = local("America/Santiago", 2024, 9, 6)
    end = local("America/Santiago", 2024, 9, 10)

    assert always.business_seconds(start, end) == calendar_seconds(start, end)


def test_skipped_day_continuous() -> None:
    """A 24/7 schedule in Samoa, which skipped 2011-12-30, equals calendar time across it."""
    always = schedule({day: ["00:00-24:00"] for day in ALL_DAYS}, time_zone="Pacific/Apia")
    start = local("Pacific/Apia", 2011, 12, 29, 12)
    end = local("Pacific/Apia", 2011, 12, 31, 12)

    assert calendar_seconds(start, end) == 24 * HOUR
    assert always.business_seconds(start, end) == 24 * HOUR


# --- shift and schedule validation ----------------------------------------------------------


def test_shift_text_round_trip() -> None:
    """A shift prints as the text it was parsed from."""
    assert str(Shift.model_validate("22:00-06:00")) == "22:00-06:00"


def test_shift_one_digit_hour() -> None:
    """An hour written with one digit is accepted and printed with two."""
    assert str(Shift.model_validate("8:00-17:00")) == "08:00-17:00"


def test_shift_whole_day_minutes() -> None:
    """00:00-24:00 ends at minute 1,440 and does not cross midnight."""
    whole = Shift.model_validate("00:00-24:00")

    assert whole.end_minute == 1_440
    assert not whole.crosses_midnight


@pytest.mark.parametrize("text", ["8-17", "08:00", "24:00-06:00", "08:60-17:00", "08:00-24:01"])
def test_shift_invalid_text(text: str) -> None:
    """Malformed or out-of-range shift text raises an error that names it and the format."""
    with pytest.raises(ValidationError) as caught:
        Shift.model_validate(text)

    assert repr(text) in str(caught.value)
    assert "HH:MM-HH:MM" in str(caught.value)


def test_schedule_dump_shift_text() -> None:
    """A dumped schedule writes shifts back as text."""
    assert NIGHT.model_dump()["hours"] == {Weekday.FRI: ["22:00-06:00"]}


def test_schedule_without_shifts_rejected() -> None:
    """A schedule that is never open raises a validation error."""
    with pytest.raises(ValidationError, match="no shifts"):
        schedule({"mon": []})


def test_schedule_bad_time_zone() -> None:
    """An unknown time zone raises an error naming the value and an IANA example."""
    with pytest.raises(ValidationError) as caught:
        schedule({"mon": ["08:00-17:00"]}, time_zone="Mars/Base")

    assert "unknown time zone 'Mars/Base'" in str(caught.value)
    assert "IANA time zone name" in str(caught.value)


# --- properties -----------------------------------------------------------------------------

# Local dates on which each zone's clocks change, so that drawn spans cross the changes. Santiago
# changes at midnight, Lord Howe by 30 minutes, and Samoa skipped all of 2011-12-30.
CLOCK_CHANGES: dict[str, list[date]] = {
    "UTC": [date(2024, 5, 6)],
    "Asia/Kolkata": [date(2024, 5, 6)],
    "Europe/Berlin": [date(2024, 3, 31), date(2024, 10, 27)],
    "America/New_York": [date(2024, 3, 10), date(2024, 11, 3)],
    "America/Santiago": [date(2024, 4, 7), date(2024, 9, 8)],
    "Australia/Lord_Howe": [date(2024, 4, 7), date(2024, 10, 6)],
    "Pacific/Apia": [date(2011, 12, 30)],
}
FIXED_ZONES = ("UTC", "Asia/Kolkata")

# Shift edges near the clock changes above (00:00, 02:00, 03:00 and 23:00), so that edges inside
# a skipped or repeated hour are common.
NEAR_CHANGES = st.sampled_from([0, 30, 60, 90, 120, 135, 150, 180, 210, 1_380, 1_410])


def format_shift(start: int, end: int) -> str:
    """Format start and end minutes as shift text."""
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


shift_texts = st.builds(
    format_shift,
    st.one_of(st.integers(0, 1_439), NEAR_CHANGES),
    st.one_of(st.integers(0, 1_440), NEAR_CHANGES, st.just(1_440)),
)
spans = st.timedeltas(timedelta(0), timedelta(days=6))


@st.composite
def plans(
    draw: st.DrawFn, zones: tuple[str, ...] = tuple(CLOCK_CHANGES)
) -> tuple[Schedule, datetime]:
    """Draw a schedule and a start instant from two days before one of its zone's clock changes.

    The weekday of the change always has a shift whose edges lie near the change.
    """
    time_zone = draw(st.sampled_from(zones))
    change = draw(st.sampled_from(CLOCK_CHANGES[time_zone]))
    first_day = change - timedelta(days=2)

    hours = draw(st.dictionaries(st.sampled_from(ALL_DAYS), st.lists(shift_texts, max_size=3)))
    near_change = draw(st.builds(format_shift, NEAR_CHANGES, NEAR_CHANGES))
    hours.setdefault(ALL_DAYS[change.weekday()], []).append(near_change)
    holidays = draw(st.lists(st.dates(first_day, change + timedelta(days=3)), max_size=2))
    start = draw(
        st.datetimes(
            datetime.combine(first_day, datetime.min.time()),
            datetime.combine(change + timedelta(days=1), datetime.min.time()),
            timezones=st.just(UTC),
        )
    )
    return schedule(hours, time_zone=time_zone, holidays=tuple(holidays)), start


def to_us(seconds: float) -> int:
    """Convert float seconds to whole microseconds, exactly for spans of days to years."""
    return round(seconds * 1_000_000)


@settings(deadline=None)
@given(plans(), spans, spans)
def test_property_additive(
    plan_and_start: tuple[Schedule, datetime], ab: timedelta, bc: timedelta
) -> None:
    """Business time over [a, c) is the sum over [a, b) and [b, c)."""
    plan, a = plan_and_start
    b = a + ab
    c = b + bc

    whole = to_us(plan.business_seconds(a, c))
    parts = to_us(plan.business_seconds(a, b)) + to_us(plan.business_seconds(b, c))
    assert whole == parts


@settings(deadline=None)
@given(plans(), spans)
def test_property_bounded(plan_and_start: tuple[Schedule, datetime], span: timedelta) -> None:
    """Business time is between zero and calendar time."""
    plan, start = plan_and_start
    seconds = plan.business_seconds(start, start + span)

    assert seconds >= 0.0
    assert seconds <= span.total_seconds()


@settings(deadline=None)
@given(plans(), spans)
def test_property_always_open(plan_and_start: tuple[Schedule, datetime], span: timedelta) -> None:
    """A 24/7 schedule counts calendar time in every zone, across DST and skipped days."""
    plan, start = plan_and_start
    always = schedule({day: ["00:00-24:00"] for day in ALL_DAYS}, time_zone=plan.time_zone)

    assert always.business_seconds(start, start + span) == span.total_seconds()


@settings(deadline=None)
@given(plans(), spans, spans)
def test_property_monotonic_end(
    plan_and_start: tuple[Schedule, datetime], first: timedelta, extra: timedelta
) -> None:
    """Moving the end later never lowers business time."""
    plan, start = plan_and_start
    shorter = plan.business_seconds(start, start + first)
    longer = plan.business_seconds(start, start + first + extra)

    assert shorter <= longer


@settings(deadline=None)
@given(plans(), spans)
def test_property_is_open_agrees(
    plan_and_start: tuple[Schedule, datetime], span: timedelta
) -> None:
    """An instant is open exactly when the microsecond after it has business time."""
    plan, start = plan_and_start
    moment = start + span
    tick = timedelta(microseconds=1)

    assert plan.is_open(moment) == (plan.business_seconds(moment, moment + tick) == 1e-6)


def is_open_by_wall_clock(plan: Schedule, moment: datetime) -> bool:
    """Decide openness from the local wall clock, valid for zones without DST."""
    wall = moment.astimezone(ZoneInfo(plan.time_zone))
    day = wall.date()
    minute = wall.hour * 60 + wall.minute
    weekdays = list(Weekday)
    if day in plan.holidays:
        return False

    for shift in plan.hours.get(weekdays[day.weekday()], []):
        if shift.start_minute <= minute < shift.start_minute + shift.length_minutes:
            return True
    yesterday = day - timedelta(days=1)
    if yesterday in plan.holidays:
        return False
    for shift in plan.hours.get(weekdays[yesterday.weekday()], []):
        if minute < shift.start_minute + shift.length_minutes - 1_440:
            return True
    return False


@settings(deadline=None, max_examples=50)
@given(plans(FIXED_ZONES))
def test_property_matches_wall_clock(plan_and_start: tuple[Schedule, datetime]) -> None:
    """Over two days, business time is 60 s per open minute of a plain wall-clock check."""
    plan, start = plan_and_start
    start = start.replace(second=0, microsecond=0)
    minutes = [start + timedelta(minutes=index) for index in range(2 * 1_440)]

    open_minutes = sum(is_open_by_wall_clock(plan, minute) for minute in minutes)
    assert plan.business_seconds(start, minutes[-1] + timedelta(minutes=1)) == 60.0 * open_minutes


def count_open_minutes_by_scan(plan: Schedule, start: datetime, minutes: int) -> int:
    """Count the open minutes from `start` by scanning the wall clock minute by minute.

    A shift edge opens or closes at the first minute whose wall-clock reading, or an earlier
    one, reached the edge. That is the schedule's DST rule, derived here without converting
    local times to UTC. It assumes that edges and clock changes fall on whole minutes.
    """
    zone = ZoneInfo(plan.time_zone)
    margin = 3 * 1_440
    instants = [start + timedelta(minutes=index - margin) for index in range(minutes + 2 * margin)]
    walls = [instant.astimezone(zone).replace(tzinfo=None) for instant in instants]
    reached = list(itertools.accumulate(walls, max))
    is_open = [False] * len(instants)

    day = walls[0].date()
    while day <= walls[-1].date():
        next_day = day + timedelta(days=1)
        midnight = datetime.combine(day, datetime.min.time())
        shifts = [] if day in plan.holidays else plan.hours.get(list(Weekday)[day.weekday()], [])
        for shift in shifts:
            end_minute = shift.start_minute + shift.length_minutes
            if end_minute > 1_440 and next_day in plan.holidays:
                end_minute = 1_440
            first = bisect.bisect_left(reached, midnight + timedelta(minutes=shift.start_minute))
            last = bisect.bisect_left(reached, midnight + timedelta(minutes=end_minute))
            is_open[first:last] = [True] * (last - first)
        day = next_day

    return sum(is_open[margin : margin + minutes])


@settings(deadline=None, max_examples=50)
@given(plans())
def test_property_matches_minute_scan(plan_and_start: tuple[Schedule, datetime]) -> None:
    """Over two days, business time is 60 s per open minute of a wall-clock scan, DST included."""
    plan, start = plan_and_start
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(days=2)

    assert plan.business_seconds(start, end) == 60.0 * count_open_minutes_by_scan(
        plan, start, 2_880
    )


# --- configuration --------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "business-hours.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def build_config(assign: list[dict[str, Any]]) -> BusinessHoursConfig:
    """Build a config of schedules a, b, c and d with the given assignments."""
    schedules_ = [
        {"name": name, "time_zone": "UTC", "hours": {"mon": ["08:00-17:00"]}} for name in "abcd"
    ]
    return BusinessHoursConfig.model_validate({"schedules": schedules_, "assign": assign})


def test_config_load_example(tmp_path: Path) -> None:
    """The documented example loads with both schedules and their fields."""
    config = load_business_hours(write(tmp_path, EXAMPLE_YAML))
    india_support, night_desk = config.schedules

    assert india_support.name == "india-support"
    assert india_support.holidays == [date(2024, 8, 15)]
    assert night_desk.hours[Weekday.FRI] == [Shift.model_validate("22:00-06:00")]
    assert config.assign[1] == Assignment(schedule="night-desk", team="nights")


def test_config_example_lookup(tmp_path: Path) -> None:
    """In the example, email uses india-support and team nights uses night-desk."""
    config = load_business_hours(write(tmp_path, EXAMPLE_YAML))

    assert config.schedule_for(channel="email", team="billing") is config.schedules[0]
    assert config.schedule_for(channel="chat", team="nights") is config.schedules[1]
    assert config.schedule_for(channel="chat", team="billing") is None


def test_config_most_specific_wins() -> None:
    """Channel and team beat team, which beats channel, which beats the default."""
    config = build_config(
        [
            {"schedule": "d"},
            {"schedule": "c", "channel": "email"},
            {"schedule": "b", "team": "vip"},
            {"schedule": "a", "channel": "email", "team": "vip"},
        ]
    )
    names = {
        (channel, team): config.schedule_for(channel=channel, team=team)
        for channel in ("email", "chat")
        for team in ("vip", "billing")
    }

    assert names[("email", "vip")] is config.schedules[0]
    assert names[("chat", "vip")] is config.schedules[1]
    assert names[("email", "billing")] is config.schedules[2]
    assert names[("chat", "billing")] is config.schedules[3]


def test_config_unknown_schedule() -> None:
    """An assignment to a schedule that does not exist raises an error listing the names."""
    with pytest.raises(ValidationError) as caught:
        build_config([{"schedule": "z", "channel": "email"}])

    assert "assign[0].schedule: unknown schedule 'z'" in str(caught.value)
    assert "use one of 'a', 'b', 'c', 'd'" in str(caught.value)


def test_config_duplicate_assignment() -> None:
    """Two assignments for the same channel and team raise an error."""
    with pytest.raises(ValidationError, match=r"assign\[1\] repeats .* assign\[0\]"):
        build_config([{"schedule": "a", "team": "vip"}, {"schedule": "b", "team": "vip"}])


def test_config_duplicate_schedule_name() -> None:
    """Two schedules with the same name raise an error."""
    schedules_ = [{"name": "a", "time_zone": "UTC", "hours": {"mon": ["08:00-17:00"]}}] * 2

    with pytest.raises(ValidationError, match="duplicate schedule name 'a'"):
        BusinessHoursConfig.model_validate({"schedules": schedules_, "assign": []})


def test_load_unknown_schedule(tmp_path: Path) -> None:
    """Loading a file with an unknown schedule name raises ConfigurationError naming the file."""
    path = write(tmp_path, EXAMPLE_YAML.replace("schedule: night-desk", "schedule: nightdesk"))

    with pytest.raises(ConfigurationError) as caught:
        load_business_hours(path)

    assert str(path) in str(caught.value)
    assert "assign[1].schedule: unknown schedule 'nightdesk'" in str(caught.value)


def test_load_bad_time_zone(tmp_path: Path) -> None:
    """A bad time zone names the file, the key, the value and the fix."""
    path = write(tmp_path, EXAMPLE_YAML.replace("Europe/Berlin", "Europe/Berlln"))

    with pytest.raises(ConfigurationError) as caught:
        load_business_hours(path)

    message = str(caught.value)
    assert str(path) in message
    assert "schedules[1].time_zone: unknown time zone 'Europe/Berlln'" in message
    assert "use an IANA time zone name such as 'Europe/Berlin'" in message


def test_load_bad_shift(tmp_path: Path) -> None:
    """A bad shift names the file, the key, the value and the format."""
    path = write(tmp_path, EXAMPLE_YAML.replace('"13:00-18:00"', '"1pm-6pm"'))

    with pytest.raises(ConfigurationError) as caught:
        load_business_hours(path)

    message = str(caught.value)
    assert str(path) in message
    assert "schedules[1].hours.mon[1]: invalid shift '1pm-6pm'" in message
    assert "write it as 'HH:MM-HH:MM'" in message


def test_load_unknown_key(tmp_path: Path) -> None:
    """A misspelt key is reported with its path."""
    path = write(tmp_path, EXAMPLE_YAML.replace("time_zone: Asia", "timezone: Asia"))

    with pytest.raises(ConfigurationError) as caught:
        load_business_hours(path)

    assert "schedules[0].timezone: unknown key" in str(caught.value)
    assert "schedules[0].time_zone: is missing" in str(caught.value)


def test_load_bad_weekday(tmp_path: Path) -> None:
    """A weekday key other than mon to sun is reported with the accepted keys."""
    path = write(tmp_path, EXAMPLE_YAML.replace('fri: ["22', 'friday: ["22'))

    with pytest.raises(ConfigurationError) as caught:
        load_business_hours(path)

    assert "schedules[1].hours.friday: invalid key 'friday'" in str(caught.value)
    assert "'mon', 'tue'" in str(caught.value)


def test_load_bad_holiday(tmp_path: Path) -> None:
    """A holiday that is no real date is reported with the date format."""
    path = write(tmp_path, EXAMPLE_YAML.replace("[2024-08-15]", '["2024-02-30"]'))

    with pytest.raises(ConfigurationError) as caught:
        load_business_hours(path)

    assert "schedules[0].holidays[0] = '2024-02-30'" in str(caught.value)
    assert "YYYY-MM-DD" in str(caught.value)


def test_load_invalid_yaml_date(tmp_path: Path) -> None:
    """An unquoted date that YAML cannot build is reported, not raised as ValueError."""
    path = write(tmp_path, EXAMPLE_YAML.replace("[2024-08-15]", "[2024-13-01]"))

    with pytest.raises(ConfigurationError, match="contains an invalid date"):
        load_business_hours(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "is empty"), ("[1, 2]", "must contain a mapping"), ("schedules: [", "is not valid YAML")],
)
def test_load_bad_document(tmp_path: Path, text: str, expected: str) -> None:
    """An empty file, a list or broken YAML raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match=expected):
        load_business_hours(write(tmp_path, text))


def test_load_missing_file(tmp_path: Path) -> None:
    """A missing file raises ConfigurationError naming it."""
    path = tmp_path / "absent.yaml"

    with pytest.raises(ConfigurationError, match="cannot read business hours file"):
        load_business_hours(path)
