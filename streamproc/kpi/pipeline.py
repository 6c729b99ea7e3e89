"""The KPI pipeline in one process: per-ticket state, aggregates and the event-time clock.

The offline `streamproc kpis` command runs this directly. The worker runs the same two
steps (`apply_event`, `Aggregator.apply`) in two Faust agents with tables as stores, and
reads values with the same `current_values`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from streamproc.events import AnyEvent
from streamproc.kpi.aggregate import Aggregator, rollup, total_contributions
from streamproc.kpi.families import KpiValue, kpi_values, target_values
from streamproc.kpi.ledger import apply_event, ledger_key, parse_dimension_key
from streamproc.kpi.targets import Targets
from streamproc.kpi.windows import Window

WHOLE_INPUT_WINDOW = "all"


class Pipeline:
    """Event-time KPI computation over in-memory stores."""

    def __init__(self, *, targets: Targets, windows: tuple[Window, ...]) -> None:
        self.targets = targets
        self.windows = windows
        self.ledgers: dict[str, Any] = {}
        # Offline input is finite, so nothing is pruned and the whole-input window works.
        self.aggregator = Aggregator(
            windows=windows, contributions={}, buckets={}, retention_us=2**62
        )
        self.clock_us: int | None = None
        self.outcomes: Counter[tuple[str, str]] = Counter()

    def process(self, event: AnyEvent) -> bool:
        """Apply one valid event; return False when it was a duplicate."""
        result = apply_event(self.ledgers, event, self.targets, resend=False)
        self.outcomes[(event.type.value, "duplicate" if result.duplicate else "accepted")] += 1
        if result.duplicate:
            return False

        ticket = ledger_key(event)
        for dimension, samples in result.contributions.items():
            self.aggregator.apply(dimension, ticket, samples)
        if self.clock_us is None or event.occurred_us > self.clock_us:
            self.clock_us = event.occurred_us
        return True

    def values(self, *, whole_input: bool = False) -> list[KpiValue]:
        """Return every KPI value at the current clock, optionally with the `all` window."""
        if self.clock_us is None:
            return []
        result = current_values(
            self.aggregator.buckets.items(),
            windows=self.windows,
            clock_us=self.clock_us,
            targets=self.targets,
        )
        if whole_input:
            totals = total_contributions(self.aggregator.contributions.items())
            for dimension in sorted(totals):
                channel, team = parse_dimension_key(dimension)
                result.extend(
                    kpi_values(
                        totals[dimension], channel=channel, team=team, window=WHOLE_INPUT_WINDOW
                    )
                )
        return result


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
            kpi_values(totals[(dimension, window)], channel=channel, team=team, window=window)
        )
    values.extend(target_values(targets, pairs))
    return values

