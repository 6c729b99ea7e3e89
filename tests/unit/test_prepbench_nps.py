"""NPS of the PrepBench airline survey: Prep Air, at full precision."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.datasets import dataset_path

pytestmark = pytest.mark.dataset

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "examples" / "mappings" / "prepbench-airline-nps.yaml"
QUESTION = "How likely are you to recommend this airline?"


def run(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "streamproc.cli", *args],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout


def test_prep_air_nps(tmp_path: Path) -> None:
    """Prep Air gives NPS 21.196 (74 promoters, 35 detractors, 184 answers), 21 rounded down."""
    answers = dataset_path("nps-surveys", "airline_nps_prep_air.csv")
    with open(answers, newline="", encoding="utf-8") as source:
        scores = [int(row[QUESTION]) for row in csv.DictReader(source)]
    assert (len(scores), sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)) == (184, 74, 35)

    events = tmp_path / "nps.jsonl"
    events.write_text(run("import", "--mapping", str(MAPPING), str(answers)))
    records = [json.loads(line) for line in run("kpis", str(events), "--window", "all", "--format", "json").splitlines()]
    labels = {"channel": "other", "team": "Prep Air", "window": "all"}
    nps = [r["value"] for r in records if r["metric"] == "support_nps" and r["labels"] == labels]
    samples = [
        r["value"] for r in records
        if r["metric"] == "support_kpi_samples" and r["labels"] == {**labels, "kpi": "nps"}
    ]

    assert nps == [100 * (74 - 35) / 184]
    assert round(nps[0], 3) == 21.196
    assert math.floor(nps[0]) == 21
    assert samples == [184]
