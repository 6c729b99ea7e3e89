"""Parsing of CSV cell text into typed field values: timestamps, durations, numbers, booleans.

Every parser raises ValueError with a message that reads after the cell, such as
"does not match the timestamp format '%H:%M:%S'", so callers can prefix the column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The `format` value that selects ISO 8601 parsing instead of a strptime pattern.
ISO_8601 = "iso8601"

_HMS = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
# strptime directives that set the date; `%%` is a literal percent sign.
_DATE_DIRECTIVE = re.compile(r"%[YymdjbBhaAcxGVuwUW]")

Scalar = str | int | float | bool


class ValueKind(StrEnum):
    """Kind of a field value, which selects the parser of its cell text."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DURATION = "duration"


class DurationFormat(StrEnum):
    """Notation of a duration cell: a number of seconds, or hours, minutes and seconds."""

    SECONDS = "seconds"
    HMS = "h:mm:ss"


def has_date_directive(strptime_format: str) -> bool:
    """Return whether a strptime format reads any part of the date (year, month, day, weekday)."""
    return _DATE_DIRECTIVE.search(strptime_format.replace("%%", "")) is not None


def has_offset_directive(strptime_format: str) -> bool:
    """Return whether a strptime format reads a UTC offset (`%z`), which makes the result aware."""
    return "%z" in strptime_format.replace("%%", "")


@lru_cache(maxsize=64)
def load_zone(name: str) -> ZoneInfo:
    """Return the IANA time zone `name`, raising ValueError when the tz database lacks it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Rome or Asia/Jerusalem"
        ) from exc


def parse_timestamp(
    text: str,
    *,
    strptime_format: str,
    time_zone: str | None,
    date: dt.date | None,
) -> dt.datetime:
    """Parse a timestamp cell into an aware datetime.

    `date` replaces the date part, for columns that carry only a time of day. A naive
    result is placed in `time_zone`. A wall time repeated when the clocks go back gets
    the first of its two offsets (fold 0), and one skipped when they go forward is invalid.
    """
    if strptime_format == ISO_8601:
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                "is not an ISO 8601 timestamp, such as 2024-05-01T10:00:00+02:00"
            ) from None
    else:
        try:
            parsed = dt.datetime.strptime(text, strptime_format)
        except ValueError:
            raise ValueError(f"does not match the timestamp format {strptime_format!r}") from None

    if date is not None:
        parsed = dt.datetime.combine(date, parsed.timetz())
    if parsed.tzinfo is not None:
        return parsed
    if time_zone is None:
        raise ValueError("has no UTC offset, and the mapping sets no time_zone to place it in")
    return _localize(parsed, load_zone(time_zone))


def _localize(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    aware = naive.replace(tzinfo=zone)

    # A wall time inside a daylight-saving gap does not survive the round trip through UTC.
    round_trip = aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise ValueError(
            f"does not exist in {zone.key}: the clocks skipped it when daylight saving time began"
        )
    return aware


def parse_duration(text: str, duration_format: DurationFormat) -> float:
    """Parse a duration cell into seconds: `17`, `17.5` (seconds) or `0:00:17` (h:mm:ss)."""
    if duration_format is DurationFormat.HMS:
        match = _HMS.match(text)
        if match is None:
            raise ValueError("is not a duration in H:MM:SS form, such as 0:03:15")
        hours, minutes, seconds = match.groups()
        return int(hours) * 3_600 + int(minutes) * 60 + float(seconds)

    try:
        seconds_value = float(text)
    except ValueError:
        raise ValueError("is not a number of seconds, such as 17 or 17.5") from None
    if not math.isfinite(seconds_value):
        raise ValueError("is not a finite number of seconds")
    return seconds_value


def parse_integer(text: str) -> int:
    """Parse a whole number written in decimal digits, with an optional sign."""
    try:
        return int(text)
    except ValueError:
        raise ValueError("is not a whole number") from None


def parse_number(text: str) -> float:
    """Parse a finite decimal number."""
    try:
        number = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(number):
        raise ValueError("is not a finite number")
    return number


def parse_boolean(text: str) -> bool:
    """Parse true/false, yes/no, t/f, y/n or 1/0, in any letter case."""
    folded = text.lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError("is not a boolean: use true or false (yes/no and 1/0 also work)")


def coerce_constant(value: Scalar, kind: ValueKind) -> Scalar:
    """Convert a constant from the mapping file to `kind`, for every kind except timestamp.

    Text is parsed as a cell would be. A duration may be given in seconds or as H:MM:SS.
    Raises ValueError when the constant does not fit the kind.
    """
    if isinstance(value, str):
        notation = DurationFormat.HMS if ":" in value else DurationFormat.SECONDS
        return parse_text(value, kind, duration_format=notation)

    if kind is ValueKind.STRING:
        return str(value).lower() if isinstance(value, bool) else str(value)
    if kind is ValueKind.BOOLEAN and isinstance(value, bool):
        return value
    # ValueError, not TypeError, because callers turn ValueError into mapping and row errors.
    if isinstance(value, bool):
        raise ValueError(f"is a boolean, but the field takes a {kind.value}")  # noqa: TRY004
    if kind is ValueKind.INTEGER and isinstance(value, int):
        return value
    if kind in (ValueKind.NUMBER, ValueKind.DURATION):
        return float(value)
    raise ValueError(f"is a {type(value).__name__}, but the field takes a {kind.value}")


def parse_text(
    text: str, kind: ValueKind, *, duration_format: DurationFormat = DurationFormat.SECONDS
) -> Scalar:
    """Parse text into `kind`, for every kind except timestamp (which needs a format and zone)."""
    if kind is ValueKind.INTEGER:
        return parse_integer(text)
    if kind is ValueKind.NUMBER:
        return parse_number(text)
    if kind is ValueKind.BOOLEAN:
        return parse_boolean(text)
    if kind is ValueKind.DURATION:
        return parse_duration(text, duration_format)
    if kind is ValueKind.TIMESTAMP:
        raise ValueError("is a timestamp constant, which must be parsed with a timestamp rule")
    return text
