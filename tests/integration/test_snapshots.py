"""The snapshot and breach topics, read back from the real broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from tests.integration.test_worker import late_resolutions, replay, settled, write_events
from tests.integration.worker import KafkaEnv, Worker, wait_until

pytestmark = pytest.mark.kafka


def read_topic(env: KafkaEnv, topic: str) -> list[tuple[str, dict]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=env.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3_000,
    )
    records = [(record.key.decode(), json.loads(record.value)) for record in consumer]
    consumer.close()
    return records


def latest_by_key(records: list[tuple[str, dict]]) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for key, value in records:
        latest[key] = value
    return latest


def test_final_hour_snapshot(kafka_env: KafkaEnv, tmp_path: Path) -> None:
    """The 09:00-10:00 hour's final snapshot contains 3 contacts, the late one included."""
    documents = late_resolutions()
    worker = Worker(kafka_env, tmp_path, extra={"STREAMPROC_SNAPSHOT_INTERVAL_SECONDS": "1"}).start()
    try:
        replay(kafka_env, write_events(tmp_path / "late.jsonl", documents))
        settled(worker, accepted=6)
        key = json.dumps(
            ["support_abandonment_ratio", "email", "none", "bucket_start", "2024-05-06T09:00:00+00:00"],
            separators=(",", ":"),
        )

        def final_snapshot() -> dict | None:
            latest = latest_by_key(read_topic(kafka_env, kafka_env.settings().topic_snapshots))
            record = latest.get(key)
            return record if record and record["final"] and record["samples"] == 3 else None

        record = wait_until(final_snapshot, timeout=60, what="the final 09:00 snapshot", worker=worker)
    finally:
        worker.stop()

    assert record["period_start"] == "2024-05-06T09:00:00Z"
    assert record["period_end"] == "2024-05-06T10:00:00Z"
    assert record["value"] == 0.0


def test_breach_and_recovery(kafka_env: KafkaEnv, tmp_path: Path) -> None:
    """Slow chat replies put first response in breach; fast ones bring it back."""
    def chat(ticket: str, opened: str, replied: str) -> list[dict]:
        return [
            {"type": "ticket_opened", "event_id": f"{ticket}-o", "ticket_id": ticket,
             "occurred_at": f"2024-05-06T{opened}Z", "channel": "chat", "team": "sales"},
            {"type": "first_reply", "event_id": f"{ticket}-r", "ticket_id": ticket,
             "occurred_at": f"2024-05-06T{replied}Z"},
        ]

    slow = [e for i in range(3) for e in chat(f"S{i}", f"10:0{i}:00", f"10:0{i}:50")]
    fast = [e for i in range(12) for e in chat(f"F{i}", f"10:1{i % 10}:0{i // 10}", f"10:1{i % 10}:1{i // 10}")]
    worker = Worker(
        kafka_env,
        tmp_path,
        extra={"STREAMPROC_SNAPSHOT_INTERVAL_SECONDS": "1", "STREAMPROC_BREACH_MIN_SAMPLES": "3"},
    ).start()
    breaches_topic = kafka_env.settings().topic_breaches
    key = json.dumps(["support_first_response_seconds", "chat", "sales", "window", "1h"], separators=(",", ":"))
    try:
        replay(kafka_env, write_events(tmp_path / "slow.jsonl", slow))
        wait_until(
            lambda: any(k == key and v["state"] == "breach" for k, v in read_topic(kafka_env, breaches_topic)),
            timeout=60, what="a breach record", worker=worker,
        )
        replay(kafka_env, write_events(tmp_path / "fast.jsonl", fast))
        wait_until(
            lambda: any(k == key and v["state"] == "recovered" for k, v in read_topic(kafka_env, breaches_topic)),
            timeout=60, what="a recovery record", worker=worker,
        )
    finally:
        worker.stop()

    states = [v for k, v in read_topic(kafka_env, breaches_topic) if k == key]
    assert [s["state"] for s in states] == ["breach", "recovered"]
    assert states[0]["value"] == 50.0
    assert states[0]["target"] == 30.0
    assert states[0]["samples"] == 3
