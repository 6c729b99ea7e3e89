"""Prometheus exporter: a custom collector over the latest KPI snapshot, and the counters.

The Faust event loop computes KPI values from its tables and hands the collector an
immutable snapshot; the HTTP server thread only reads that reference, so a scrape never
iterates a table while the loop changes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from streamproc.kpi.families import FAMILY_BY_NAME, KpiValue

logger = logging.getLogger(__name__)

US_PER_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class Snapshot:
    """KPI values and the event-time clock they were computed at."""

    values: tuple[KpiValue, ...] = ()
    clock_us: int | None = None


class KpiCollector(Collector):
    """Serves the latest `Snapshot` as gauge families."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot  # one read: the loop may swap it at any time
        yield from _families(snapshot.values)

        clock = GaugeMetricFamily(
            "streamproc_event_time_seconds",
            "Event-time clock: the latest occurred_at seen by any worker, as a Unix timestamp.",
        )
        if snapshot.clock_us is not None:
            clock.add_metric([], snapshot.clock_us / US_PER_SECOND)
        yield clock

    def describe(self) -> Iterable[Metric]:
        # Describing nothing lets the registry accept the collector without calling collect().
        return ()


def _families(values: Iterable[KpiValue]) -> Iterator[Metric]:
    grouped: dict[str, list[KpiValue]] = {}
    for value in values:
        grouped.setdefault(value.metric, []).append(value)
    for name, members in grouped.items():
        family = FAMILY_BY_NAME[name]
        label_names = [label for label, _ in members[0].labels]
        gauge = GaugeMetricFamily(name, family.help, labels=label_names)
        for member in members:
            gauge.add_metric([v for _, v in member.labels], member.value)
        yield gauge


class Exporter:
    """The registry, the KPI collector and the worker's counters, served over HTTP."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = KpiCollector()
        self.registry.register(self.collector)
        self.events = Counter(
            "streamproc_events",
            "Input messages by topic and outcome (accepted, duplicate, invalid).",
            labelnames=("topic", "outcome"),
            registry=self.registry,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def publish(self, snapshot: Snapshot) -> None:
        """Make `snapshot` the one the next scrape serves."""
        self.collector.snapshot = snapshot

    def start(self, *, host: str, port: int) -> None:
        """Serve /metrics on `host`:`port` in a background thread."""
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        logger.info("serving metrics on http://%s:%s/metrics", host, self._server.server_port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
