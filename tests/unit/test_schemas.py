"""The published JSON Schemas of the events match the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamproc.events import event_json_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(event_json_schemas()))
def test_schema_file_current(name: str) -> None:
    """docs/schemas contains what `streamproc schemas docs/schemas` writes today."""
    committed = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))

    assert committed == event_json_schemas()[name], "run: streamproc schemas docs/schemas"


@pytest.mark.parametrize("name", ["kpi_snapshot", "breach"])
def test_record_schema_current(name: str) -> None:
    """docs/schemas contains the JSON Schema of the snapshot and breach record models."""
    from streamproc.kpi.records import BreachRecord, SnapshotRecord

    model = {"kpi_snapshot": SnapshotRecord, "breach": BreachRecord}[name]
    committed = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))

    assert committed == model.model_json_schema()


def test_snapshot_records_validate() -> None:
    """Records built from real values validate against the snapshot and breach models."""
    from streamproc.kpi.pipeline import Pipeline
    from streamproc.kpi.records import BreachRecord, SnapshotRecord
    from streamproc.kpi.snapshots import Period, SnapshotEmitter, snapshot_records
    from streamproc.kpi.targets import Targets
    from streamproc.kpi.windows import build_windows
    from tests.unit.kpi.helpers import event

    windows = build_windows(["1h"], buckets_per_window=60)
    pipeline = Pipeline(windows=windows)
    for index in range(3):
        pipeline.process(event("ticket_opened", f"o{index}", "10:00:00", ticket=f"T{index}", channel="chat"))
        pipeline.process(event("first_reply", f"r{index}", "10:01:00", ticket=f"T{index}"))
        pipeline.process(event("resolved", f"s{index}", "10:02:00", ticket=f"T{index}", contacts=1))
    clock = pipeline.clock_us
    assert clock is not None
    records = snapshot_records(
        pipeline.values(), targets=Targets(), periods={"1h": Period(clock - 3_600_000_000, clock, False)},
        clock_us=clock,
    )
    snapshots, breaches = SnapshotEmitter(min_interval_s=0, min_samples=2).changes(records, now_s=0)

    assert len(snapshots) == len(records)
    for _, record in snapshots:
        SnapshotRecord.model_validate(record)
    assert breaches
    for _, record in breaches:
        assert BreachRecord.model_validate(record).state == "breach"
