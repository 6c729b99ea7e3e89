"""The KPI pipeline in one process: per-ticket state, aggregates and the event-time clock.

The offline `streamproc kpis` command runs this directly. The worker runs the same two
steps (`apply_event`, `Aggregator.apply`) in two Faust agents with tables as stores, and
reads values with the same `current_values`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from streamproc.events import AnyEvent
from streamproc.kpi.aggregate import Aggregator, rollup, total_contributions
from streamproc.kpi.families import KpiValue, kpi_values, target_values
from streamproc.kpi.ledger import apply_event, ledger_key, parse_dimension_key
from streamproc.kpi.live import live_values
from streamproc.kpi.samples import KpiOptions
from streamproc.kpi.targets import Targets
from streamproc.kpi.tumbling import TumblingBuckets
from streamproc.kpi.windows import Window

WHOLE_INPUT_WINDOW = "all"
US_PER_SECOND = 1_000_000


class Lateness:
    """Decides which events are late: those that arrive after their interval's end plus the grace period."""

    def __init__(self, *, grace_period_us: int, tumbling: TumblingBuckets) -> None:
        self.grace_period_us = grace_period_us
        self.tumbling = tumbling

    def is_late(self, occurred_us: int, clock_us: int | None) -> bool:
        if clock_us is None:
            return False
        return clock_us >= self.tumbling.bucket_end(occurred_us) + self.grace_period_us


class Pipeline:
    """Event-time KPI computation over in-memory stores."""

    def __init__(
        self,
        *,
        windows: tuple[Window, ...],
        targets: Targets | None = None,
        options: KpiOptions | None = None,
        lateness: Lateness | None = None,
        **option_fields: Any,
    ) -> None:
        if options is None:
            options = KpiOptions(targets=targets or Targets(), **option_fields)
        self.options = options
        self.windows = windows
        self.lateness = lateness
        self.ledgers: dict[str, Any] = {}
        # Offline input is finite, so nothing is pruned and the whole-input window works.
        self.aggregator = Aggregator(
            windows=windows, contributions={}, buckets={}, retention_us=2**62
        )
        self.clock_us: int | None = None
        self.outcomes: Counter[tuple[str, str]] = Counter()

    def process(self, event: AnyEvent) -> bool:
        """Apply one valid event; return False when it was a duplicate."""
        result = apply_event(self.ledgers, event, self.options, resend=False)
        kind = event.type.value
        if result.duplicate:
            self.outcomes[(kind, "duplicate")] += 1
            return False

        late = self.lateness is not None and self.lateness.is_late(event.occurred_us, self.clock_us)
        self.outcomes[(kind, "late" if late else "accepted")] += 1
        ticket = ledger_key(event)
        for dimension, samples in result.contributions.items():
            self.aggregator.apply(dimension, ticket, samples)
        if self.clock_us is None or event.occurred_us > self.clock_us:
            self.clock_us = event.occurred_us
        return True

    def values(self, *, whole_input: bool = False) -> list[KpiValue]:
        """Return every KPI value and live gauge at the current clock.

        With `whole_input`, the values of a window over the whole input come last.
        """
        if self.clock_us is None:
            return []
        result = current_values(
            self.aggregator.buckets.items(),
            windows=self.windows,
            clock_us=self.clock_us,
            targets=self.options.targets,
        )
        statuses = [entry["live"] for entry in self.ledgers.values() if entry.get("live")]
        result.extend(live_values(statuses, now_us=self.clock_us, pairs=dimensions_of(result)))
        if whole_input:
            totals = total_contributions(self.aggregator.contributions.items())
            for dimension in sorted(totals):
                channel, team = parse_dimension_key(dimension)
                period = ("window", WHOLE_INPUT_WINDOW)
                result.extend(kpi_values(totals[dimension], channel=channel, team=team, period=period))
        return result

    def tumbling_values(self, tumbling: TumblingBuckets) -> list[KpiValue]:
        """Return every KPI value of each fixed interval, labelled with its `bucket_start`."""
        totals: dict[tuple[str, int], dict[str, int]] = {}
        for key, entry in self.aggregator.contributions.items():
            dimension = parse_dimension_key_of_contribution(key)
            for _, occurred_us, counters in entry["s"]:
                total = totals.setdefault((dimension, tumbling.bucket_start(occurred_us)), {})
                for name, value in counters.items():
                    total[name] = total.get(name, 0) + value

        values: list[KpiValue] = []
        for dimension, start_us in sorted(totals, key=lambda k: (k[1], k[0])):
            channel, team = parse_dimension_key(dimension)
            period = ("bucket_start", tumbling.label(start_us))
            values.extend(kpi_values(totals[(dimension, start_us)], channel=channel, team=team, period=period))
        return values


def dimensions_of(values: Iterable[KpiValue]) -> set[tuple[str, str]]:
    """Return the (channel, team) pairs that windowed values name, for zero live gauges."""
    pairs = set()
    for value in values:
        labels = dict(value.labels)
        if "window" in labels:
            pairs.add((labels["channel"], labels["team"]))
    return pairs


def parse_dimension_key_of_contribution(key: str) -> str:
    dimension, _ = json.loads(key)
    return str(dimension)


def current_values(
    buckets: Iterable[tuple[str, Any]],
    *,
    windows: tuple[Window, ...],
    clock_us: int,
    targets: Targets,
    shards: set[int] | None = None,
) -> list[KpiValue]:
    """Compute every KPI value of every dimension and window at `clock_us`.

    The targets of each dimension that has values come last, as `support_kpi_target`.
    """
    totals = rollup(buckets, windows=windows, clock_us=clock_us, shards=shards)
    window_order = {w.name: i for i, w in enumerate(windows)}
    values: list[KpiValue] = []
    pairs = set()
    for dimension, window in sorted(totals, key=lambda k: (k[0], window_order[k[1]])):
        channel, team = parse_dimension_key(dimension)
        pairs.add((channel, team))
        values.extend(
            kpi_values(totals[(dimension, window)], channel=channel, team=team, period=("window", window))
        )
    values.extend(target_values(targets, pairs))
    return values
