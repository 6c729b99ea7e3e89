"""Test helpers that run real `streamproc` processes against the real broker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

from streamproc.settings import Settings
from streamproc.stream.producer import create_topics

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class KafkaEnv:
    """Settings of one test's worker: unique app id and topics on the shared broker."""

    bootstrap_servers: str
    prefix: str
    partitions: int = 8

    def variables(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "STREAMPROC_APP_ID": self.prefix,
            "STREAMPROC_TOPIC_TICKET_OPENED": f"{self.prefix}-ticket-opened",
            "STREAMPROC_TOPIC_FIRST_REPLY": f"{self.prefix}-first-reply",
            "STREAMPROC_TOPIC_RESOLVED": f"{self.prefix}-resolved",
            "STREAMPROC_TOPIC_SURVEY": f"{self.prefix}-survey",
            "STREAMPROC_TOPIC_DEAD_LETTER": f"{self.prefix}-dead-letter",
            "STREAMPROC_TOPIC_SNAPSHOTS": f"{self.prefix}-kpi-snapshots",
            "STREAMPROC_TOPIC_BREACHES": f"{self.prefix}-breaches",
            "STREAMPROC_TOPIC_PARTITIONS": str(self.partitions),
            # A killed worker's partitions move to the next one after this many seconds.
            "STREAMPROC_KAFKA_SESSION_TIMEOUT_SECONDS": "8",
        }

    def settings(self) -> Settings:
        fields = {k.removeprefix("STREAMPROC_").lower(): v for k, v in self.variables().items()}
        return Settings(**fields)  # type: ignore[arg-type]

    def create_topics(self) -> None:
        create_topics(self.settings())

    def run_cli(self, *args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run `streamproc ARGS` with this environment; raise when it fails."""
        return subprocess.run(
            [sys.executable, "-m", "streamproc.cli", *args],
            env={**os.environ, **self.variables()},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            cwd=ROOT,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Worker:
    """A `streamproc worker` subprocess with its own metrics port and data directory."""

    env: KafkaEnv
    workdir: Path
    extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"worker-{self.port}.log"

    def start(self) -> Worker:
        variables = {
            **os.environ,
            **self.env.variables(),
            "STREAMPROC_METRICS_PORT": str(self.port),
            "STREAMPROC_DATA_DIR": str(self.workdir / f"data-{self.port}"),
            **self.extra,
        }
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamproc.cli", "worker"],
            env=variables,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        wait_until(lambda: self._answers(), timeout=60, what=f"worker metrics on port {self.port}", worker=self)
        return self

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            self.scrape_text()
        except OSError:
            return False
        return True

    def scrape_text(self) -> str:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    def samples(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Scrape /metrics into {(sample name, sorted labels): value}."""
        result = {}
        for family in text_string_to_metric_families(self.scrape_text()):
            for sample in family.samples:
                result[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return result

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_until(
    check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.5, worker: Worker | None = None
) -> T:
    """Call `check` until it returns a true value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    detail = f"\nworker log:\n{worker.log_tail()}" if worker else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value {last!r}{detail}")


def events_total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], outcome: str) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "streamproc_events_total" and dict(labels).get("outcome") == outcome
    )


def kpi_samples(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Keep the `support_*` gauges, the series that `streamproc kpis` also computes.

    Processing-time histograms and counters depend on arrival order and restarts, so
    they have no offline counterpart.
    """
    processing = ("support_survey_responses", "support_resolutions", "_duration_seconds")
    return {
        key: value
        for key, value in samples.items()
        if key[0].startswith("support_") and not any(part in key[0] for part in processing)
    }


def offline_values(env: KafkaEnv, path: Path, *extra: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Run `streamproc kpis --format json` on `path` and index the values like `samples`."""
    output = env.run_cli("kpis", str(path), "--format", "json", *extra).stdout
    result = {}
    for line in output.splitlines():
        record = json.loads(line)
        result[(record["metric"], tuple(sorted(record["labels"].items())))] = record["value"]
    return result
