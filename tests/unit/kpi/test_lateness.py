"""Late events and tumbling buckets: applied in full, counted as late, reported per interval."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streamproc.kpi.pipeline import Lateness, Pipeline
from streamproc.kpi.tumbling import TumblingBuckets
from streamproc.kpi.windows import build_windows
from tests.unit.kpi.helpers import event, value_of

ROOT = Path(__file__).resolve().parents[3]

# Arrival order of scenario 11: 09:58 is within the grace of its hour, 09:55 is not.
ARRIVALS = ["09:50:00", "10:05:00", "09:58:00", "10:30:00", "09:55:00"]


def resolutions() -> list:
    events = [event("ticket_opened", "o1", "09:00:00", channel="email")]
    for index, at in enumerate(ARRIVALS):
        events.append(event("resolved", f"r{index}", at, handle_seconds=60, contacts=1))
    return events


def late_pipeline() -> Pipeline:
    lateness = Lateness(grace_period_us=600_000_000, tumbling=TumblingBuckets("1h"))
    pipeline = Pipeline(windows=build_windows(["1h", "24h"], buckets_per_window=60), lateness=lateness)
    for item in resolutions():
        pipeline.process(item)
    return pipeline


def test_late_event_counted_late() -> None:
    """Only the 09:55 resolution, after 10:10 in event time, counts as late."""
    pipeline = late_pipeline()

    assert pipeline.outcomes[("resolved", "late")] == 1
    assert pipeline.outcomes[("resolved", "accepted")] == 4


def test_late_event_still_in_windows() -> None:
    """Every resolution counts once in the 24h window, the late one included."""
    values = late_pipeline().values()

    day = {"channel": "email", "team": "all", "window": "24h"}
    assert value_of(values, "support_kpi_samples", kpi="abandonment", **day) == 5.0


def test_hour_bucket_holds_three() -> None:
    """The 09:00-10:00 interval ends with the 09:50, 09:58 and 09:55 resolutions."""
    values = late_pipeline().tumbling_values(TumblingBuckets("1h"))

    nine = {"channel": "email", "team": "all", "bucket_start": "2024-05-06T09:00:00+00:00"}
    ten = {"channel": "email", "team": "all", "bucket_start": "2024-05-06T10:00:00+00:00"}
    assert value_of(values, "support_kpi_samples", kpi="abandonment", **nine) == 3.0
    assert value_of(values, "support_kpi_samples", kpi="abandonment", **ten) == 2.0


def test_bucket_follows_time_zone() -> None:
    """Hour buckets in Asia/Kolkata start at :00 local time, :30 in UTC."""
    buckets = TumblingBuckets("1h", time_zone="Asia/Kolkata")
    ten_utc = 1714989600 * 1_000_000  # 2024-05-06T10:00:00Z, 15:30 in Kolkata

    assert buckets.label(buckets.bucket_start(ten_utc)) == "2024-05-06T15:00:00+05:30"


def test_day_bucket_across_dst() -> None:
    """The day of the spring-forward change in Berlin is a 23-hour bucket."""
    buckets = TumblingBuckets("1d", time_zone="Europe/Berlin")
    noon = 1711879200 * 1_000_000  # 2024-03-31T10:00:00Z, noon in Berlin

    start = buckets.bucket_start(noon)
    assert buckets.label(start) == "2024-03-31T00:00:00+01:00"
    assert buckets.bucket_end(noon) - start == 23 * 3600 * 1_000_000


def test_kpis_command_buckets(tmp_path: Path) -> None:
    """`streamproc kpis --bucket 1h` reports the 09:00 hour with 3 resolutions."""
    path = tmp_path / "late.jsonl"
    lines = [item.model_dump_json() for item in resolutions()]
    path.write_text("\n".join(lines) + "\n")

    result = subprocess.run(
        [sys.executable, "-m", "streamproc.cli", "kpis", str(path), "--bucket", "1h", "--format", "json"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    nine = [
        r for r in records
        if r["metric"] == "support_kpi_samples"
        and r["labels"] == {"channel": "email", "team": "none", "bucket_start": "2024-05-06T09:00:00+00:00", "kpi": "abandonment"}
    ]
    assert [r["value"] for r in nine] == [3]
    assert "1 late" in result.stderr
