"""Prometheus exporter: a custom collector over the latest KPI snapshot, and the counters.

The Faust event loop computes KPI values from its tables and hands the collector an
immutable snapshot. The HTTP server thread only reads that reference, so a scrape never
iterates a table while the loop changes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from streamproc.kpi.families import FAMILY_BY_NAME, KpiValue
from streamproc.kpi.live import HISTOGRAM_EDGES, LIVE_FAMILIES, Observation

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
        family = FAMILY_BY_NAME.get(name)
        help_text = family.help if family is not None else LIVE_FAMILIES[name]
        label_names = [label for label, _ in members[0].labels]
        gauge = GaugeMetricFamily(name, help_text, labels=label_names)
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
        where = ("channel", "team")
        self.histograms = {
            name: Histogram(name, text, labelnames=where, buckets=HISTOGRAM_EDGES, registry=self.registry)
            for name, text in (
                ("support_first_response_duration_seconds",
                 "First response times, observed when the first response happens."),
                ("support_resolution_duration_seconds",
                 "Resolution times, observed when the first resolution happens."),
                ("support_handle_duration_seconds",
                 "Handle time per contact, observed once per contact when a resolution arrives."),
            )
        }
        self.counters = {
            "support_survey_responses_total": Counter(
                "support_survey_responses",
                "Survey responses by survey and score ('none' for no score), counted once per response.",
                labelnames=(*where, "survey", "score"),
                registry=self.registry,
            ),
            "support_resolutions_total": Counter(
                "support_resolutions",
                "Resolutions that state contacts, by whether they were first contact resolutions "
                "when they arrived.",
                labelnames=(*where, "first_contact"),
                registry=self.registry,
            ),
        }
        self.last_processed = Gauge(
            "streamproc_last_event_processed_timestamp_seconds",
            "Wall-clock time at which this worker last processed an input message.",
            registry=self.registry,
        )
        self.assigned_partitions = Gauge(
            "streamproc_assigned_partitions",
            "Partitions of the input and aggregate topics this worker owns now.",
            registry=self.registry,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def observe(self, observations: list[Observation]) -> None:
        """Apply processing-time increments to the histograms and counters."""
        for item in observations:
            histogram = self.histograms.get(item.metric)
            if histogram is not None:
                child = histogram.labels(item.channel, item.team)
                for _ in range(item.weight):
                    child.observe(item.value)
                continue
            labels = [item.channel, item.team, *(value for _, value in item.extra)]
            self.counters[item.metric].labels(*labels).inc(item.weight)

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
