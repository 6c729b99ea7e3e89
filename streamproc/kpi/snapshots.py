"""KPI snapshot and breach records for the downstream topics.

A snapshot record carries one KPI value of one channel, team and period, with its
sample count, Wilson bounds, target and whether the period is final. Records are keyed
so that a compacted topic keeps the latest of each. Prometheus receives only
processing-time increments, so the snapshot topic is the corrected event-time record.
A late event or a changed rating that alters a closed period re-emits its snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from streamproc.kpi.families import KpiValue
from streamproc.kpi.targets import TARGET_KPIS, Direction, Targets

US_PER_SECOND = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# KPI family -> (the `kpi` label of its sample count, the `kpi` label of its target).
SNAPSHOT_KPIS: dict[str, tuple[str, str | None]] = {
    "support_first_response_seconds": ("first_response", "first_response_seconds"),
    "support_first_response_target_met_ratio": ("first_response", None),
    "support_response_after_reopen_seconds": ("response_after_reopen", None),
    "support_resolution_seconds": ("resolution", "resolution_seconds"),
    "support_resolution_target_met_ratio": ("resolution", None),
    "support_full_resolution_seconds": ("full_resolution", None),
    "support_handle_seconds": ("handle", "handle_seconds"),
    "support_abandonment_ratio": ("abandonment", None),
    "support_first_contact_resolution_ratio": ("first_contact_resolution", "first_contact_resolution_ratio"),
    "support_csat_mean": ("csat", None),
    "support_csat_top_box_ratio": ("csat", "csat_top_box_ratio"),
    "support_csat_satisfied_ratio": ("csat", None),
    "support_ces_mean": ("ces", "ces_mean"),
    "support_ces_easy_ratio": ("ces", None),
    "support_nps": ("nps", "nps"),
}
_PERIOD_LABELS = ("window", "bucket_start")


@dataclass(frozen=True, slots=True)
class Period:
    """Start and end of the event time a value covers, and whether it can still change."""

    start_us: int
    end_us: int
    final: bool


def snapshot_records(
    values: Iterable[KpiValue],
    *,
    targets: Targets,
    periods: dict[str, Period],
    clock_us: int,
) -> dict[str, dict[str, Any]]:
    """Build one snapshot record per KPI value, keyed for a compacted topic.

    `periods` maps each `window` or `bucket_start` label value to the time it covers.
    Only the mean of duration KPIs gets a record; percentiles stay on /metrics.
    """
    values = list(values)
    samples: dict[tuple[str, str, str, str], float] = {}
    bounds: dict[tuple[str, ...], float] = {}
    for value in values:
        labels = dict(value.labels)
        period = next((labels[name] for name in _PERIOD_LABELS if name in labels), "")
        if value.metric == "support_kpi_samples":
            samples[(labels["channel"], labels["team"], period, labels["kpi"])] = value.value
        elif value.metric.endswith(("_ratio_lower", "_ratio_upper")):
            bounds[(value.metric, labels["channel"], labels["team"], period)] = value.value

    records: dict[str, dict[str, Any]] = {}
    for value in values:
        labels = dict(value.labels)
        kpi = SNAPSHOT_KPIS.get(value.metric)
        if kpi is None or labels.get("stat", "mean") != "mean" or labels.get("clock", "calendar") != "calendar":
            continue
        period_name = next(name for name in _PERIOD_LABELS if name in labels)
        period_value = labels[period_name]
        period = periods[period_value]
        channel, team = labels["channel"], labels["team"]
        sample_kpi, target_kpi = kpi
        record: dict[str, Any] = {
            "kpi": value.metric,
            "channel": channel,
            "team": team,
            period_name: period_value,
            "value": value.value,
            "samples": samples.get((channel, team, period_value, sample_kpi)),
            "lower": bounds.get((value.metric + "_lower", channel, team, period_value)),
            "upper": bounds.get((value.metric + "_upper", channel, team, period_value)),
            "target": targets.target(target_kpi, channel=channel, team=team) if target_kpi else None,
            "target_direction": TARGET_KPIS[target_kpi].value if target_kpi else None,
            "period_start": _iso(period.start_us),
            "period_end": _iso(period.end_us),
            "final": period.final,
            "event_time": _iso(clock_us),
        }
        records[snapshot_key(value.metric, channel, team, period_name, period_value)] = record
    return records


def snapshot_key(metric: str, channel: str, team: str, period_name: str, period_value: str) -> str:
    """Return the message key of a snapshot: KPI, channel, team and period."""
    return json.dumps([metric, channel, team, period_name, period_value], separators=(",", ":"))


def is_breached(record: dict[str, Any], *, min_samples: int) -> bool | None:
    """Tell whether a snapshot breaches its target; None when it has no target or too few samples.

    Ratios are judged by their Wilson bound, not the point estimate: a KPI that must stay
    at least at its target breaches only when even the upper bound is below it.
    """
    target = record.get("target")
    samples = record.get("samples")
    if target is None or samples is None or samples < min_samples:
        return None
    at_least = record["target_direction"] == Direction.AT_LEAST.value
    if at_least:
        value = record["upper"] if record.get("upper") is not None else record["value"]
        return bool(value < target)
    value = record["lower"] if record.get("lower") is not None else record["value"]
    return bool(value > target)


@dataclass
class SnapshotEmitter:
    """Decides which snapshot and breach records to send, and when.

    A snapshot is sent when its content changed and its key was last sent at least
    `min_interval_s` ago (a change held back is sent at a later call). A breach record
    is sent when a rolling-window KPI enters breach and when it recovers.
    """

    min_interval_s: float
    min_samples: int
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    breached: dict[str, bool] = field(default_factory=dict)

    def changes(
        self, records: dict[str, dict[str, Any]], *, now_s: float
    ) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
        """Return (snapshots to send, breach records to send) for the current records."""
        snapshots = []
        breaches = []
        for key, record in records.items():
            comparable = {k: v for k, v in record.items() if k != "event_time"}
            previous = self.sent.get(key)
            if previous != comparable and now_s - self.sent_at.get(key, float("-inf")) >= self.min_interval_s:
                if previous is not None and previous.get("final"):
                    record = {**record, "corrected": True}
                snapshots.append((key, record))
                self.sent[key] = comparable
                self.sent_at[key] = now_s

            if "window" not in record:
                continue
            state = is_breached(record, min_samples=self.min_samples)
            if state is None or state == self.breached.get(key, False):
                continue
            self.breached[key] = state
            breach = {**record, "state": "breach" if state else "recovered"}
            breaches.append((key, breach))
        return snapshots, breaches


def _iso(value_us: int) -> str:
    seconds, micros = divmod(value_us, US_PER_SECOND)
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc).replace(microsecond=micros)
    return moment.isoformat().replace("+00:00", "Z")
