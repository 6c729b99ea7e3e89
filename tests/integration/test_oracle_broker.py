"""A worker on the real broker against the brute-force oracle, on a 10,000-ticket workload.

The workload (tests/workload.py) holds reopens, changed survey answers, re-sent lines and
lines moved later inside the grace period. It is replayed with `streamproc replay`, and
once the worker has handled every event and its values stop changing, every scraped KPI
series must equal the oracle's.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streamproc.events import parse_event
from streamproc.kpi.targets import Targets
from tests.integration.test_worker import settled
from tests.integration.worker import KafkaEnv, Worker, events_total, kpi_samples, wait_until
from tests.oracle import compare_values, oracle_values, scraped_key_values, summarize_problems
from tests.workload import generate_workload

pytestmark = pytest.mark.kafka

TICKETS = 10_000
SEED = 20_240_506
WINDOWS = ["1h", "24h", "7d"]  # the worker's default windows


def handled_events(worker: Worker) -> float:
    """Events the worker applied: accepted on time or late, duplicates left out."""
    samples = worker.samples()
    return events_total(samples, "accepted") + events_total(samples, "late")


def test_worker_matches_oracle(kafka_env: KafkaEnv, tmp_path: Path) -> None:
    """Every KPI series of the worker equals the oracle's after a 10,000-ticket replay."""
    workload = generate_workload(TICKETS, seed=SEED)
    path = workload.write(tmp_path / "workload.jsonl")
    events = [parse_event(line) for line in workload.lines]
    expected = oracle_values(events, targets=Targets(), windows=WINDOWS)
    clock_s = max(event.occurred_us for event in events) / 1_000_000

    worker = Worker(kafka_env, tmp_path).start()
    try:
        started = time.monotonic()
        kafka_env.run_cli("replay", str(path), "--no-progress")
        wait_until(
            lambda: handled_events(worker) >= workload.unique_events,
            timeout=240,
            interval=2,
            what=f"{workload.unique_events} handled events",
            worker=worker,
        )
        # The ticket stage has seen every event; wait for the aggregate stage to drain.
        samples = settled(worker, accepted=0)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()

    print(f"{len(workload.lines)} lines replayed and settled in {elapsed:.0f} s")
    assert samples[("streamproc_event_time_seconds", ())] == clock_s
    assert events_total(samples, "duplicate") == workload.duplicates
    problems = compare_values(scraped_key_values(kpi_samples(samples)), expected)
    assert not problems, "worker differs from the oracle: " + summarize_problems(problems)
