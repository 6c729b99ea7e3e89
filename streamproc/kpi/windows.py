"""Rolling event-time windows kept as fixed buckets of counters.

A window of length L is split into `buckets_per_window` buckets aligned to the Unix
epoch (UTC). At event-time clock C the window holds the buckets from the one that
contains C back to L in total, so it reaches back between L - L/n and L from C, in steps
of one bucket. Buckets hold counters only, so windows merge and retract exactly and
memory is bounded by the bucket count, not by the number of events.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamproc.kpi.durations import parse_duration_us


@dataclass(frozen=True, slots=True)
class Window:
    """One rolling window: its label, its length and its bucket width, in microseconds."""

    name: str
    length_us: int
    bucket_us: int

    def bucket_start(self, occurred_us: int) -> int:
        """Return the start of the bucket that contains `occurred_us`."""
        return occurred_us - occurred_us % self.bucket_us

    def first_bucket(self, clock_us: int) -> int:
        """Return the start of the oldest bucket inside the window at `clock_us`."""
        return self.bucket_start(clock_us) - self.length_us + self.bucket_us

    def contains(self, bucket_start: int, clock_us: int) -> bool:
        """Return whether a bucket is inside the window at `clock_us`."""
        return self.first_bucket(clock_us) <= bucket_start <= self.bucket_start(clock_us)


def build_windows(names: list[str], *, buckets_per_window: int) -> tuple[Window, ...]:
    """Build windows from duration strings such as `1h`, `24h`, `7d`.

    Raises ValueError when a length does not split into whole-microsecond buckets or
    a name repeats.
    """
    if buckets_per_window < 1:
        raise ValueError(f"buckets_per_window must be 1 or more, got {buckets_per_window}")
    windows = []
    seen: set[int] = set()
    for name in names:
        length_us = parse_duration_us(name)
        if length_us % buckets_per_window:
            raise ValueError(
                f"window {name!r} does not split into {buckets_per_window} whole-microsecond "
                "buckets; pick a length divisible by that count"
            )
        if length_us in seen:
            raise ValueError(f"window {name!r} repeats a window length; list each length once")
        seen.add(length_us)
        windows.append(Window(name.strip(), length_us, length_us // buckets_per_window))
    return tuple(sorted(windows, key=lambda w: w.length_us))
