"""Windowed KPI aggregates per dimension, maintained from ticket contributions.

Each message from the per-ticket stage carries the complete sample list of one ticket
under one dimension. The aggregator keeps the last list it applied per (dimension,
ticket), applies only the difference to the window buckets, and so is idempotent:
a repeated or replayed contribution changes nothing.

Both stores are plain mutable mappings with JSON-compatible values: dicts offline,
changelogged Faust tables in the worker. Values are always reassigned, never mutated
in place, because a Faust table writes its changelog only on assignment.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, MutableMapping
from typing import Any

from streamproc.kpi.ledger import ContributionSample
from streamproc.kpi.tumbling import TumblingBuckets
from streamproc.kpi.windows import Window

# Window name under which tumbling-bucket counters are kept beside the rolling windows.
TUMBLING = "tumbling"

CounterMap = dict[str, int]


class Aggregator:
    """Window buckets of KPI counters for many dimensions.

    `contributions` maps a (dimension, ticket) key to the samples last applied.
    `buckets` maps a (dimension, window, bucket start) key to its counters. `shard`
    arguments tag entries with the partition that owns them, so a worker can prune and
    export only what it owns.
    """

    def __init__(
        self,
        *,
        windows: tuple[Window, ...],
        contributions: MutableMapping[str, Any],
        buckets: MutableMapping[str, Any],
        retention_us: int,
        tumbling: TumblingBuckets | None = None,
    ) -> None:
        self.windows = windows
        self.tumbling = tumbling
        # Per window name, the oldest bucket start still kept after the last prune. A
        # change to an older bucket is dropped: recreating a pruned bucket from a
        # retraction alone would leave negative counts.
        self._horizons: dict[str, int] = {}
        self.contributions = contributions
        self.buckets = buckets
        # Contributions whose newest sample is older than this, relative to the clock,
        # lie outside every window and are dropped.
        self.retention_us = retention_us

    def apply(
        self, dimension: str, ticket: str, samples: list[ContributionSample], *, shard: int = 0
    ) -> None:
        """Replace what `ticket` contributes under `dimension` with `samples`."""
        key = json.dumps([dimension, ticket], separators=(",", ":"))
        previous = self.contributions.get(key)
        old = {s[0]: s for s in previous["s"]} if previous else {}
        new = {s[0]: s for s in samples}

        deltas: dict[str, list[tuple[int, CounterMap, int]]] = defaultdict(list)
        for sample_key, sample in old.items():
            if new.get(sample_key) != sample:
                deltas[sample_key].append((sample[1], sample[2], -1))
        for sample_key, sample in new.items():
            if old.get(sample_key) != sample:
                deltas[sample_key].append((sample[1], sample[2], +1))
        if not deltas and previous is not None:
            return

        for changes in deltas.values():
            for occurred_us, counters, sign in changes:
                self._add_to_buckets(dimension, occurred_us, counters, sign, shard)

        if samples:
            newest = max(s[1] for s in samples)
            self.contributions[key] = {"s": samples, "t": newest, "p": shard}
        elif previous is not None:
            del self.contributions[key]

    def _add_to_buckets(
        self, dimension: str, occurred_us: int, counters: CounterMap, sign: int, shard: int
    ) -> None:
        starts = [(w.name, w.bucket_start(occurred_us)) for w in self.windows]
        if self.tumbling is not None:
            starts.append((TUMBLING, self.tumbling.bucket_start(occurred_us)))
        for window_name, start in starts:
            if start < self._horizons.get(window_name, start):
                continue
            key = bucket_key(dimension, window_name, start)
            entry = self.buckets.get(key)
            merged: CounterMap = dict(entry["c"]) if entry else {}
            for name, increment in counters.items():
                value = merged.get(name, 0) + sign * increment
                if value:
                    merged[name] = value
                else:
                    merged.pop(name, None)
            if merged:
                self.buckets[key] = {"c": merged, "p": shard}
            elif entry is not None:
                del self.buckets[key]

    def prune(self, clock_us: int, *, shard: int | None = None) -> int:
        """Delete buckets and contributions that no window can reach any more.

        Only entries tagged with `shard` are touched when it is given. Returns the number
        of entries deleted.
        """
        by_name = {w.name: w for w in self.windows}
        for window in self.windows:
            self._horizons[window.name] = window.first_bucket(clock_us)
        self._horizons[TUMBLING] = clock_us - self.retention_us
        stale = []
        for key, entry in list(self.buckets.items()):
            if shard is not None and entry["p"] != shard:
                continue
            _, window_name, start = parse_bucket_key(key)
            window = by_name.get(window_name)
            if window_name == TUMBLING:
                if start < clock_us - self.retention_us:
                    stale.append(key)
            elif window is None or start < window.first_bucket(clock_us):
                stale.append(key)
        for key in stale:
            del self.buckets[key]

        horizon = clock_us - self.retention_us
        old = [
            key
            for key, entry in list(self.contributions.items())
            if (shard is None or entry["p"] == shard) and entry["t"] < horizon
        ]
        for key in old:
            del self.contributions[key]
        return len(stale) + len(old)


def bucket_key(dimension: str, window: str, start_us: int) -> str:
    return json.dumps([dimension, window, start_us], separators=(",", ":"))


def parse_bucket_key(key: str) -> tuple[str, str, int]:
    dimension, window, start = json.loads(key)
    return str(dimension), str(window), int(start)


def rollup(
    buckets: Iterable[tuple[str, Any]],
    *,
    windows: tuple[Window, ...],
    clock_us: int,
    shards: set[int] | None = None,
) -> dict[tuple[str, str], CounterMap]:
    """Sum bucket counters into one counter map per (dimension, window) at `clock_us`.

    `shards`, when given, limits the sum to buckets owned by those partitions.
    """
    by_name = {w.name: w for w in windows}
    totals: dict[tuple[str, str], CounterMap] = {}
    for key, entry in buckets:
        if shards is not None and entry["p"] not in shards:
            continue
        dimension, window_name, start = parse_bucket_key(key)
        window = by_name.get(window_name)
        if window is None or not window.contains(start, clock_us):
            continue
        total = totals.setdefault((dimension, window_name), {})
        for name, value in entry["c"].items():
            total[name] = total.get(name, 0) + value
    return totals


def total_contributions(contributions: Iterable[tuple[str, Any]]) -> dict[str, CounterMap]:
    """Sum every applied sample per dimension, ignoring windows (the `all` window offline)."""
    totals: dict[str, CounterMap] = {}
    for key, entry in contributions:
        dimension, _ = json.loads(key)
        total = totals.setdefault(dimension, {})
        for _, _, counters in entry["s"]:
            for name, value in counters.items():
                total[name] = total.get(name, 0) + value
    return totals


def tumbling_totals(
    buckets: Iterable[tuple[str, Any]], *, shards: set[int] | None = None
) -> dict[tuple[str, int], CounterMap]:
    """Return the counters of each (dimension, tumbling bucket start) kept beside the windows."""
    totals: dict[tuple[str, int], CounterMap] = {}
    for key, entry in buckets:
        if shards is not None and entry["p"] not in shards:
            continue
        dimension, window_name, start = parse_bucket_key(key)
        if window_name == TUMBLING:
            totals[(dimension, start)] = entry["c"]
    return totals
