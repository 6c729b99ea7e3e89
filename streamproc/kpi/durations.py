"""Parsing of duration strings such as `90s`, `15m`, `1h`, `7d` into microseconds."""

from __future__ import annotations

import re

US_PER_SECOND = 1_000_000

_UNITS_US = {
    "ms": 1_000,
    "s": US_PER_SECOND,
    "m": 60 * US_PER_SECOND,
    "h": 3_600 * US_PER_SECOND,
    "d": 86_400 * US_PER_SECOND,
    "w": 7 * 86_400 * US_PER_SECOND,
}
_PATTERN = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration_us(text: str) -> int:
    """Parse `<whole number><unit>` (units ms, s, m, h, d, w) into microseconds.

    Raises ValueError naming the text and the accepted form.
    """
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(
            f"invalid duration {text!r}: use a whole number and a unit, such as 30s, 15m, 1h or 7d"
        )
    amount, unit = match.groups()
    value = int(amount) * _UNITS_US[unit]
    if value <= 0:
        raise ValueError(f"invalid duration {text!r}: it must be longer than zero")
    return value


def format_duration_us(value_us: int) -> str:
    """Format microseconds with the largest unit that divides them exactly."""
    for unit in ("d", "h", "m", "s", "ms"):
        size = _UNITS_US[unit]
        if value_us % size == 0:
            return f"{value_us // size}{unit}"
    return f"{value_us}us"
