"""Builders of contract events for KPI unit tests."""

from __future__ import annotations

from typing import Any

from streamproc.events import AnyEvent, parse_event
from streamproc.kpi.families import KpiValue
from streamproc.kpi.pipeline import Pipeline
from streamproc.kpi.targets import Targets
from streamproc.kpi.windows import build_windows

import json

DAY = "2024-05-06"


def event(kind: str, event_id: str, at: str, ticket: str | None = "T1", **fields: Any) -> AnyEvent:
    """Build and validate one event; `at` is a UTC time of day on a fixed date, or a full timestamp."""
    occurred_at = at if "T" in at else f"{DAY}T{at}Z"
    document: dict[str, Any] = {"type": kind, "event_id": event_id, "occurred_at": occurred_at}
    if ticket is not None:
        document["ticket_id"] = ticket
    document.update(fields)
    return parse_event(json.dumps(document))


def run(events: list[AnyEvent], *, windows: list[str] | None = None) -> Pipeline:
    pipeline = Pipeline(
        targets=Targets(), windows=build_windows(windows or ["1h", "24h", "7d"], buckets_per_window=60)
    )
    for item in events:
        pipeline.process(item)
    return pipeline


def value_of(values: list[KpiValue], metric: str, **labels: str) -> float | None:
    """Return the single value of `metric` whose labels include `labels`, or None."""
    matches = [v for v in values if v.metric == metric and labels.items() <= dict(v.labels).items()]
    if not matches:
        return None
    assert len(matches) == 1, f"{len(matches)} series of {metric} match {labels}"
    return matches[0].value
