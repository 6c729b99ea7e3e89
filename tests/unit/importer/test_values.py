"""Parsing of cell text: timestamps with zones and fixed dates, durations, numbers, booleans."""

from __future__ import annotations

import datetime as dt

import pytest

from streamproc.importer.values import (
    ISO_8601,
    DurationFormat,
    ValueKind,
    coerce_constant,
    has_date_directive,
    parse_boolean,
    parse_duration,
    parse_integer,
    parse_timestamp,
)


def test_timestamp_naive_gets_zone() -> None:
    """A naive value is placed in the mapping's IANA zone."""
    parsed = parse_timestamp(
        "2012/10/09 14:50:17.000",
        strptime_format="%Y/%m/%d %H:%M:%S.%f",
        time_zone="Europe/Rome",
        date=None,
    )

    assert parsed.utcoffset() == dt.timedelta(hours=2)
    assert parsed.replace(tzinfo=None) == dt.datetime(2012, 10, 9, 14, 50, 17)


def test_timestamp_time_only_fixed_date() -> None:
    """A time-of-day value with a one-digit hour takes the fixed date."""
    parsed = parse_timestamp(
        "0:10:10", strptime_format="%H:%M:%S", time_zone="Asia/Jerusalem", date=dt.date(1999, 1, 1)
    )

    assert parsed.isoformat() == "1999-01-01T00:10:10+02:00"


def test_timestamp_offset_kept() -> None:
    """A value with its own UTC offset keeps it and ignores the zone."""
    parsed = parse_timestamp(
        "2024-05-01 10:00:00 +0100",
        strptime_format="%Y-%m-%d %H:%M:%S %z",
        time_zone="Asia/Tokyo",
        date=None,
    )

    assert parsed.utcoffset() == dt.timedelta(hours=1)


def test_timestamp_iso() -> None:
    """The iso8601 format reads RFC 3339 values."""
    parsed = parse_timestamp(
        "2024-05-01T10:00:00Z", strptime_format=ISO_8601, time_zone=None, date=None
    )

    assert parsed == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)


def test_timestamp_gap_rejected() -> None:
    """A wall time skipped at the start of daylight saving time is invalid."""
    with pytest.raises(ValueError, match="does not exist in Europe/Rome"):
        parse_timestamp(
            "2013-03-31 02:30:00",
            strptime_format="%Y-%m-%d %H:%M:%S",
            time_zone="Europe/Rome",
            date=None,
        )


def test_timestamp_fold_takes_first() -> None:
    """A wall time repeated when the clocks go back takes the daylight-time offset."""
    parsed = parse_timestamp(
        "2013-10-27 02:30:00",
        strptime_format="%Y-%m-%d %H:%M:%S",
        time_zone="Europe/Rome",
        date=None,
    )

    assert parsed.utcoffset() == dt.timedelta(hours=2)


def test_timestamp_format_mismatch() -> None:
    """A value that does not fit the format names the format."""
    with pytest.raises(ValueError, match="does not match the timestamp format '%H:%M:%S'"):
        parse_timestamp("25:00:00", strptime_format="%H:%M:%S", time_zone="UTC", date=None)


def test_timestamp_needs_zone() -> None:
    """A naive ISO value without a mapping zone is rejected."""
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_timestamp("2024-05-01T10:00:00", strptime_format=ISO_8601, time_zone=None, date=None)


def test_date_directive_detected() -> None:
    """Formats that read a date are distinguished from time-only ones."""
    assert has_date_directive("%Y/%m/%d %H:%M")
    assert not has_date_directive("%H:%M:%S")
    assert not has_date_directive("%%d %H")


@pytest.mark.parametrize(
    ("text", "notation", "seconds"),
    [
        ("17", DurationFormat.SECONDS, 17.0),
        ("17.5", DurationFormat.SECONDS, 17.5),
        ("0:00:17", DurationFormat.HMS, 17.0),
        ("1:02:03", DurationFormat.HMS, 3723.0),
        ("26:00:00", DurationFormat.HMS, 93600.0),
        ("0:01:02.5", DurationFormat.HMS, 62.5),
    ],
)
def test_duration_parses(text: str, notation: DurationFormat, seconds: float) -> None:
    """Durations in seconds and in H:MM:SS give seconds."""
    assert parse_duration(text, notation) == seconds


@pytest.mark.parametrize(
    ("text", "notation"),
    [
        ("0:00:17", DurationFormat.SECONDS),
        ("17", DurationFormat.HMS),
        ("0:61:00", DurationFormat.HMS),
        ("nan", DurationFormat.SECONDS),
    ],
)
def test_duration_rejects(text: str, notation: DurationFormat) -> None:
    """Text in the other notation, or not a finite number, is invalid."""
    with pytest.raises(ValueError):
        parse_duration(text, notation)


def test_integer_rejects_fraction() -> None:
    """An integer field does not accept a decimal fraction."""
    with pytest.raises(ValueError, match="not a whole number"):
        parse_integer("1.5")


def test_boolean_words() -> None:
    """Yes/no words parse in any letter case."""
    assert parse_boolean("Yes") is True
    assert parse_boolean("f") is False


def test_constant_duration_hms() -> None:
    """A duration constant may be written as H:MM:SS."""
    assert coerce_constant("0:05:00", ValueKind.DURATION) == 300.0


def test_constant_bool_not_integer() -> None:
    """A boolean constant is not taken as an integer."""
    with pytest.raises(ValueError, match="boolean"):
        coerce_constant(True, ValueKind.INTEGER)
