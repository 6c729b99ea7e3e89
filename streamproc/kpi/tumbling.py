"""Fixed (tumbling) intervals of event time, in UTC or in a named time zone.

Intervals shorter than a day must divide a day and are aligned to local midnight, so
`1h` intervals in Asia/Kolkata start at :00 local time. Intervals of whole days follow
the zone's calendar, so a daylight-saving day lasts 23 or 25 hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streamproc.kpi.durations import parse_duration_us

US_PER_SECOND = 1_000_000
DAY_US = 86_400 * US_PER_SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class TumblingBuckets:
    """Maps event times to the start of their fixed interval."""

    def __init__(self, length: str, *, time_zone: str = "UTC") -> None:
        self.length_us = parse_duration_us(length)
        if self.length_us < DAY_US and DAY_US % self.length_us:
            raise ValueError(
                f"invalid bucket {length!r}: an interval shorter than a day must divide 24h "
                "evenly, such as 15m, 1h or 6h"
            )
        if self.length_us > DAY_US and self.length_us % DAY_US:
            raise ValueError(f"invalid bucket {length!r}: use whole days above 24h, such as 7d")
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"invalid time zone {time_zone!r}: use an IANA name such as UTC or Europe/Berlin"
            ) from exc

    def _local(self, occurred_us: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=occurred_us)).astimezone(self.zone)

    def bucket_start(self, occurred_us: int) -> int:
        """Return the start of the interval that contains `occurred_us`, in epoch microseconds."""
        local = self._local(occurred_us)
        midnight = datetime(local.year, local.month, local.day, tzinfo=self.zone)
        if self.length_us >= DAY_US:
            days = self.length_us // DAY_US
            ordinal = midnight.toordinal()
            start_day = ordinal - ordinal % days
            start = datetime.fromordinal(start_day).replace(tzinfo=self.zone)
            return _to_us(start)
        # Wall-clock offset since local midnight, floored to the interval length; the
        # fold of the event keeps the two repeated hours of a fall-back day apart.
        wall = local.replace(tzinfo=None) - midnight.replace(tzinfo=None)
        wall_us = (wall.days * 86_400 + wall.seconds) * US_PER_SECOND + wall.microseconds
        floored = midnight.replace(tzinfo=None) + timedelta(
            microseconds=wall_us - wall_us % self.length_us
        )
        start = floored.replace(tzinfo=self.zone, fold=local.fold)
        return min(_to_us(start), occurred_us)

    def bucket_end(self, occurred_us: int) -> int:
        """Return the end (exclusive) of the interval that contains `occurred_us`."""
        start = self.bucket_start(occurred_us)
        if self.length_us >= DAY_US:
            local = self._local(start)
            end = datetime(local.year, local.month, local.day, tzinfo=self.zone) + timedelta(
                days=self.length_us // DAY_US
            )
            return _to_us(end.replace(tzinfo=self.zone))
        return start + self.length_us

    def label(self, start_us: int) -> str:
        """Return an interval start as ISO 8601 with the zone's offset."""
        return self._local(start_us).isoformat()


def _to_us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds
