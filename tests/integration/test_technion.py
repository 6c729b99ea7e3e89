"""End to end on real input: the Technion bank calls, imported, replayed and scraped."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from tests.datasets import dataset_path
from tests.integration.test_worker import settled
from tests.integration.worker import KafkaEnv, Worker, kpi_samples, offline_values

pytestmark = [pytest.mark.kafka, pytest.mark.dataset]

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "examples" / "mappings" / "technion-bank-oneday.yaml"


def seconds(text: str) -> int:
    moment = datetime.strptime(text, "%H:%M:%S")
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def plain_kpis(path: Path) -> dict[tuple[str, str], dict[str, float]]:
    """Compute the phone KPIs straight from the CSV, per service type and in total.

    Independent of streamproc: a served call waits q_time (0 when never queued), talks
    ser_time and is resolved when service ends; a queued call that hung up is abandoned.
    """
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with open(path, newline="", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            queued = row["q_start"] != "0:00:00"
            for team in (row["type"], "all"):
                total = sums[team]
                if row["outcome"] == "AGENT":
                    opened = seconds(row["q_start"] if queued else row["vru_exit"])
                    ended = row["ser_exit"] if row["ser_exit"] != "0:00:00" else row["q_exit"]
                    wait = int(row["q_time"])
                    total["served"] += 1
                    total["wait"] += wait
                    total["wait_met"] += wait <= 30
                    total["talk"] += int(row["ser_time"])
                    total["resolution"] += seconds(ended) - opened
                    total["contacts"] += 1
                elif row["outcome"] == "HANG" and queued:
                    total["contacts"] += 1
                    total["abandoned"] += 1

    result = {}
    for team, total in sums.items():
        result[("phone" if team != "all" else "all", team)] = {
            "support_first_response_seconds": total["wait"] / total["served"],
            "support_first_response_target_met_ratio": total["wait_met"] / total["served"],
            "support_handle_seconds": total["talk"] / total["served"],
            "support_resolution_seconds": total["resolution"] / total["served"],
            "support_abandonment_ratio": total["abandoned"] / total["contacts"],
        }
    return result


def value(samples: dict, metric: str, **labels: str) -> float:
    for (name, label_items), found in samples.items():
        if name == metric and labels.items() <= dict(label_items).items():
            return found
    raise AssertionError(f"no series {metric}{labels}")


def test_technion_calls_end_to_end(kafka_env: KafkaEnv, tmp_path: Path) -> None:
    """Imported and replayed calls give on /metrics what `kpis` and a plain calculation give."""
    calls = dataset_path("technion-bank-oneday", "calls_one_day.csv")
    events = tmp_path / "technion.jsonl"
    events.write_text(kafka_env.run_cli("import", "--mapping", str(MAPPING), str(calls)).stdout)
    event_count = sum(1 for line in events.read_text().splitlines() if line.strip())

    worker = Worker(kafka_env, tmp_path).start()
    try:
        kafka_env.run_cli("replay", str(events), "--no-progress")  # file order, not time order
        samples = settled(worker, accepted=event_count)
    finally:
        worker.stop()

    live = kpi_samples(samples)
    offline = offline_values(kafka_env, events)
    assert live == offline

    # No series carries a ticket, customer or agent id as a label.
    label_names = {name for _, labels in samples for name, _ in labels}
    allowed = {
        "channel", "team", "window", "clock", "stat", "kpi", "topic", "outcome", "reason",
        "survey", "score", "first_contact", "le",
    }
    assert label_names <= allowed

    expected = plain_kpis(calls)
    assert len(expected) == 7  # six service types and the total
    for (channel, team), metrics in expected.items():
        for metric, wanted in metrics.items():
            labels = {"channel": channel, "team": team, "window": "7d"}
            if metric.endswith("_seconds"):
                labels["stat"] = "mean"
            if metric in ("support_first_response_seconds", "support_resolution_seconds"):
                labels["clock"] = "calendar"
            assert value(live, metric, **labels) == pytest.approx(wanted, rel=1e-12), (metric, labels)

