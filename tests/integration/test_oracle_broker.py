"""A worker on the real broker against the brute-force oracle, on a 10,000-ticket workload.

The workload (tests/workload.py) contains reopens, changed survey answers, re-sent lines and
lines moved later inside the grace period. It is replayed with `streamproc replay`, and
once the worker has handled every event and its values stop changing, every scraped KPI
series must equal the oracle's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from streamproc.events import parse_event
from streamproc.kpi.targets import Targets
from tests.integration.test_worker import settled
from tests.integration.worker import KafkaEnv, Worker, kpi_samples, wait_until
from tests.oracle import compare_values, oracle_values, scraped_key_values, summarize_problems
from tests.workload import generate_workload

pytestmark = pytest.mark.kafka

# The size of the generated workload; STREAMPROC_TEST_TICKETS lowers it for a quick run.
TICKETS = int(os.environ.get("STREAMPROC_TEST_TICKETS", "10000"))
SEED = 20_240_506
WINDOWS = ["1h", "24h", "7d"]  # the worker's default windows


class GroupLag:
    """Messages of the input and contributions topics that the worker's group has not committed."""

    def __init__(self, env: KafkaEnv) -> None:
        settings = env.settings()
        topics = [*settings.input_topics(), settings.aggregate_topic()]
        self.group = settings.app_id
        self.partitions = [TopicPartition(t, p) for t in topics for p in range(env.partitions)]
        self.admin = KafkaAdminClient(bootstrap_servers=env.bootstrap_servers)
        self.consumer = KafkaConsumer(bootstrap_servers=env.bootstrap_servers)

    def __call__(self) -> int:
        committed = self.admin.list_group_offsets({self.group: None})[self.group]
        ends = self.consumer.end_offsets(self.partitions)
        return sum(
            end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items()
        )

    def close(self) -> None:
        self.admin.close()
        self.consumer.close()


def drained(worker: Worker, lag: GroupLag) -> bool:
    """Return whether the group has committed every message, failing at once if the worker died."""
    process = worker.process
    if process is not None and process.poll() is not None:
        raise AssertionError(f"worker exited with {process.returncode}:\n{worker.log_tail()}")
    return lag() == 0


@pytest.mark.timeout(2400)  # about 10 to 20 minutes on 2 cores; the suite default is 600 s
def test_worker_matches_oracle(kafka_env: KafkaEnv, tmp_path: Path) -> None:
    """Every KPI series of the worker equals the oracle's after a 10,000-ticket replay."""
    workload = generate_workload(TICKETS, seed=SEED)
    path = workload.write(tmp_path / "workload.jsonl")
    events = [parse_event(line) for line in workload.lines]
    expected = oracle_values(events, targets=Targets(), windows=WINDOWS)
    clock_s = max(event.occurred_us for event in events) / 1_000_000

    worker = Worker(kafka_env, tmp_path).start()
    lag = GroupLag(kafka_env)
    try:
        started = time.monotonic()
        kafka_env.run_cli("replay", str(path), "--no-progress")
        # Event counters overcount when a rebalance redelivers messages, so completion is
        # detected from the committed offsets of both stages instead.
        wait_until(
            lambda: drained(worker, lag),
            timeout=1800,
            interval=3,
            what="no consumer lag",
            worker=worker,
        )
        # settled() then waits until two scrapes in a row give the same KPI values.
        samples = settled(worker, accepted=0)
        elapsed = time.monotonic() - started
    finally:
        lag.close()
        worker.stop()

    print(f"{len(workload.lines)} lines replayed and settled in {elapsed:.0f} s")
    assert samples[("streamproc_event_time_seconds", ())] == clock_s
    problems = compare_values(scraped_key_values(kpi_samples(samples)), expected)
    assert not problems, "worker differs from the oracle: " + summarize_problems(problems)
