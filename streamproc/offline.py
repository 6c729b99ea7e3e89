"""`streamproc kpis`: the KPIs of a JSON Lines file, computed with the worker's KPI code."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import TextIO

from streamproc.errors import InvalidEventError
from streamproc.events import check_not_future
from streamproc.jsonl import read_lines
from streamproc.kpi.families import KpiValue
from streamproc.kpi.pipeline import Lateness, Pipeline
from streamproc.kpi.samples import KpiOptions
from streamproc.kpi.tumbling import TumblingBuckets
from streamproc.kpi.windows import Window


@dataclass(frozen=True, slots=True)
class OfflineResult:
    values: list[KpiValue]
    events: int
    duplicates: int
    late: int
    invalid: int
    clock_us: int | None


def compute_kpis(
    source: TextIO,
    *,
    options: KpiOptions,
    windows: tuple[Window, ...],
    max_future_us: int | None = None,
    whole_input: bool,
    lateness: Lateness | None = None,
    tumbling: TumblingBuckets | None = None,
    errors: TextIO = sys.stderr,
) -> OfflineResult:
    """Run every line of `source` through the pipeline; report invalid lines to `errors`.

    With `tumbling`, the values are those of each fixed interval instead of the windows.
    """
    pipeline = Pipeline(windows=windows, options=options, lateness=lateness)
    events = duplicates = invalid = 0
    now_us = int(time.time() * 1_000_000)
    for line in read_lines(source):
        error = line.error
        if line.event is not None and max_future_us is not None:
            try:
                check_not_future(line.event, now_us=now_us, max_ahead_us=max_future_us)
            except InvalidEventError as exc:
                error = exc
        if line.event is None or error is not None:
            invalid += 1
            print(f"line {line.number}: {error}", file=errors)
            continue
        events += 1
        if not pipeline.process(line.event):
            duplicates += 1
    if tumbling is not None:
        values = pipeline.tumbling_values(tumbling)
    else:
        values = pipeline.values(whole_input=whole_input)
    return OfflineResult(
        values=values,
        events=events,
        duplicates=duplicates,
        late=sum(n for (_, outcome), n in pipeline.outcomes.items() if outcome == "late"),
        invalid=invalid,
        clock_us=pipeline.clock_us,
    )


def value_to_json(value: KpiValue) -> str:
    """Format one value as a JSON Lines record: family name, labels and value, as on /metrics."""
    return json.dumps({"metric": value.metric, "labels": dict(value.labels), "value": value.value})


def write_json(values: list[KpiValue], out: TextIO) -> None:
    for value in values:
        out.write(value_to_json(value) + "\n")


def write_table(values: list[KpiValue], out: TextIO) -> None:
    """Print values as a table, one row per series, with the labels as columns."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for column in ("metric", "channel", "team", "window", "clock", "stat/kpi", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for value in values:
        labels = dict(value.labels)
        extra = labels.get("stat") or labels.get("kpi") or labels.get("outcome") or labels.get("survey") or ""
        table.add_row(
            value.metric.removeprefix("support_"),
            labels.get("channel", ""),
            labels.get("team", ""),
            labels.get("window") or labels.get("bucket_start", ""),
            labels.get("clock", ""),
            extra,
            f"{value.value:.6g}",
        )
    Console(file=out, width=140).print(table)
