"""The Faust worker: a thin layer that runs the pure KPI steps over Kafka and tables.

Two agents in one consumer group:

1. The ticket agent reads the four input topics (co-partitioned by `ticket_id`), keeps
   each ticket's events in the `tickets` table and sends the ticket's complete sample
   list per dimension to the contributions topic, keyed by dimension.
2. The aggregate agent reads the contributions topic and keeps window buckets in the
   `kpi-buckets` table. Each dimension lives in exactly one partition, so every value
   is the same whether one worker or several share the partitions.

The event-time clock is the latest `occurred_at` seen by any ticket agent: each one
sends its clock to every contributions partition, and each aggregate partition keeps
the maximum. Importing this module imports Faust, which reads the command line; only
`streamproc worker` imports it.
"""

from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import EventT, StreamT

from streamproc.errors import InvalidEventError
from streamproc.events import check_message_key, check_not_future, parse_event
from streamproc.kpi.aggregate import Aggregator, tumbling_totals
from streamproc.kpi.families import kpi_values
from streamproc.kpi.durations import parse_duration_us
from streamproc.kpi.ledger import apply_event, expire_closed, ledger_key, parse_dimension_key
from streamproc.kpi.live import live_values, observations
from streamproc.kpi.pipeline import current_values, dimensions_of
from streamproc.kpi.snapshots import Period, SnapshotEmitter, snapshot_records
from streamproc.kpi.tumbling import TumblingBuckets
from streamproc.settings import Settings
from streamproc.stream.exporter import Exporter, Snapshot

logger = logging.getLogger(__name__)

CLOCK_KEY_PREFIX = "partition-"


@dataclass
class WorkerState:
    """In-memory state of one worker process that is not kept in tables."""

    local_clock_us: int | None = None
    broadcast_clock_us: int | None = None
    last_prune: dict[int, float] = field(default_factory=dict)
    last_ticket_prune: dict[int, float] = field(default_factory=dict)
    changes: int = 0
    published: tuple[int, int | None, frozenset[int]] | None = None


def create_app(settings: Settings, exporter: Exporter) -> faust.App:
    """Build the Faust app, its topics, tables, agents and timers from `settings`."""
    windows = settings.build_windows()
    options = settings.kpi_options()
    targets = options.targets
    lateness = settings.lateness()
    ticket_retention_us = parse_duration_us(settings.ticket_retention)
    max_future_us = parse_duration_us(settings.max_future_skew)
    topic_types = settings.input_topics()
    state = WorkerState()

    app = faust.App(
        settings.app_id,
        broker=_broker_urls(settings.kafka_bootstrap_servers),
        broker_credentials=_credentials(settings),
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        # The built-in web server binds every address and serves table contents; the
        # exporter serves /metrics on its own loopback-by-default port instead.
        web_enabled=False,
        table_standby_replicas=0,
        broker_session_timeout=settings.kafka_session_timeout_seconds,
        consumer_group_instance_id=settings.consumer_instance_id,
        broker_heartbeat_interval=min(3.0, settings.kafka_session_timeout_seconds / 3),
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(settings.data_dir),
        logging_config=None,
    )

    inputs = app.topic(*topic_types, key_serializer="raw", value_serializer="raw")
    dead_letter = app.topic(settings.topic_dead_letter, key_serializer="raw", value_serializer="raw")
    contributions_topic = app.topic(
        settings.aggregate_topic(),
        internal=True,
        partitions=settings.topic_partitions,
        key_serializer="raw",
        value_serializer="json",
    )

    # JSON keys round-trip as str through the changelog; raw keys would come back as bytes.
    schema = faust.Schema(key_serializer="json", value_serializer="json")
    tickets = app.Table("tickets", schema=schema)
    contributions = app.Table("kpi-contributions", schema=schema)
    buckets = app.Table("kpi-buckets", schema=schema)
    clocks = app.Table("kpi-clock", schema=schema)

    tumbling = TumblingBuckets(settings.tumbling_bucket, time_zone=settings.time_zone)
    aggregator = Aggregator(
        windows=windows,
        contributions=contributions,
        buckets=buckets,
        retention_us=windows[-1].length_us + windows[-1].bucket_us,
        tumbling=tumbling,
    )
    snapshots_topic = app.topic(settings.topic_snapshots, key_serializer="raw", value_serializer="json")
    breaches_topic = app.topic(settings.topic_breaches, key_serializer="raw", value_serializer="json")
    emitter = SnapshotEmitter(
        min_interval_s=settings.snapshot_interval_seconds, min_samples=settings.breach_min_samples
    )

    @app.agent(inputs)
    async def process_tickets(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            await _process_input(event)

    async def _process_input(event: EventT[bytes]) -> None:
        message = event.message
        topic = message.topic
        try:
            parsed = parse_event(event.value, topic_type=topic_types[topic])
            check_message_key(parsed, message.key)
            check_not_future(parsed, now_us=int(time.time() * 1_000_000), max_ahead_us=max_future_us)
        except InvalidEventError as exc:
            await _send_to_dead_letter(message, exc)
            exporter.events.labels(topic, "invalid").inc()
            return

        result = apply_event(tickets, parsed, options, shard=message.partition)
        exporter.last_processed.set(time.time())
        exporter.observe(observations(result.new_samples))
        if result.duplicate:
            outcome = "duplicate"
        elif lateness.is_late(parsed.occurred_us, state.local_clock_us):
            # NOTE: lateness is judged against this worker's own clock, which can trail
            # the global one when several workers share the partitions.
            outcome = "late"
        else:
            outcome = "accepted"
        exporter.events.labels(topic, outcome).inc()
        if state.local_clock_us is None or parsed.occurred_us > state.local_clock_us:
            state.local_clock_us = parsed.occurred_us

        _expire_tickets(message.partition)
        ticket = ledger_key(parsed)
        for dimension, samples in result.contributions.items():
            payload = {"k": ticket, "s": samples, "c": state.local_clock_us}
            await contributions_topic.send(key=dimension.encode(), value=payload)

    def _expire_tickets(partition: int) -> None:
        # Runs inside the agent, because a table written from a timer would send its
        # changelog records to the wrong partition.
        now = time.monotonic()
        clock_us = state.local_clock_us
        if clock_us is None or now - state.last_ticket_prune.get(partition, 0.0) < settings.prune_interval_seconds:
            return
        state.last_ticket_prune[partition] = now
        removed = expire_closed(tickets, clock_us=clock_us, retention_us=ticket_retention_us, shard=partition)
        if removed:
            logger.info("expired %d closed tickets of partition %d", removed, partition)

    async def _send_to_dead_letter(message: Any, exc: InvalidEventError) -> None:
        headers = [
            ("streamproc.source.topic", message.topic.encode()),
            ("streamproc.source.partition", str(message.partition).encode()),
            ("streamproc.source.offset", str(message.offset).encode()),
            ("streamproc.error.field", exc.field.encode()),
            ("streamproc.error.reason", str(exc).encode()),
        ]
        await dead_letter.send(key=message.key, value=message.value, headers=headers)
        logger.warning(
            "rejected message %s[%s]@%s: %s; sent to %s",
            message.topic,
            message.partition,
            message.offset,
            exc,
            settings.topic_dead_letter,
        )

    @app.agent(contributions_topic)
    async def aggregate(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            _apply_contribution(event)

    def _apply_contribution(event: EventT[Any]) -> None:
        partition = event.message.partition
        payload = event.value
        clock_key = f"{CLOCK_KEY_PREFIX}{partition}"
        sent_clock = payload.get("c")
        if sent_clock is not None and sent_clock > (clocks.get(clock_key) or 0):
            clocks[clock_key] = sent_clock
            state.changes += 1

        if "k" in payload:
            dimension = event.key.decode() if isinstance(event.key, bytes) else str(event.key)
            aggregator.apply(dimension, payload["k"], payload["s"], shard=partition)
            state.changes += 1

        now = time.monotonic()
        clock_us = clocks.get(clock_key)
        if clock_us and now - state.last_prune.get(partition, 0.0) > settings.prune_interval_seconds:
            state.last_prune[partition] = now
            removed = aggregator.prune(clock_us, shard=partition)
            if removed:
                logger.info("pruned %d expired aggregate entries of partition %d", removed, partition)

    @app.timer(settings.clock_broadcast_interval_seconds)
    async def broadcast_clock() -> None:
        # Every aggregate partition must see every ticket partition's progress, or a
        # dimension whose tickets all sit on one worker would lag the others.
        clock_us = state.local_clock_us
        if clock_us is None or clock_us == state.broadcast_clock_us:
            return
        for partition in range(settings.topic_partitions):
            await contributions_topic.send(
                key=b"clock", value={"c": clock_us}, partition=partition
            )
        state.broadcast_clock_us = clock_us

    @app.timer(1.0)
    async def refresh_snapshot() -> None:
        actives = app.assignor.assigned_actives()
        exporter.assigned_partitions.set(len(actives))
        shards = frozenset(tp.partition for tp in actives if tp.topic == settings.aggregate_topic())
        ticket_shards = frozenset(tp.partition for tp in actives if tp.topic in topic_types)

        clock_values = [value for value in clocks.values() if value]
        clock_us = max(clock_values) if clock_values else None
        now_us = int(time.time() * 1_000_000) if settings.live_clock == "wall" else clock_us
        # Table sizes change when a recovery after a rebalance restores entries.
        marker = (state.changes, clock_us, shards, ticket_shards, len(buckets), len(tickets))
        # Ages measured against wall time grow without any event, so they always refresh.
        if marker == state.published and settings.live_clock != "wall":
            return
        state.published = marker

        values: list[Any] = []
        if clock_us is not None:
            values = current_values(
                list(buckets.items()),
                windows=windows,
                clock_us=clock_us,
                targets=targets,
                shards=set(shards),
            )

        if now_us is not None:
            statuses = [
                entry["live"]
                for entry in list(tickets.values())
                if entry.get("live") and entry.get("p") in ticket_shards
            ]
            values.extend(live_values(statuses, now_us=now_us, pairs=dimensions_of(values)))
        exporter.publish(Snapshot(values=tuple(values), clock_us=clock_us))

    @app.timer(settings.snapshot_interval_seconds)
    async def emit_snapshots() -> None:
        shards = {
            tp.partition
            for tp in app.assignor.assigned_actives()
            if tp.topic == settings.aggregate_topic()
        }
        clock_values = [value for value in clocks.values() if value]
        if not shards or not clock_values:
            return
        clock_us = max(clock_values)
        items = list(buckets.items())
        values, periods = _window_values(items, clock_us, shards)
        tumbling_values, tumbling_periods = _tumbling_values(items, clock_us, shards)
        records = snapshot_records(
            [*values, *tumbling_values],
            targets=targets,
            periods={**periods, **tumbling_periods},
            clock_us=clock_us,
        )
        changed, breaches = emitter.changes(records, now_s=time.monotonic())
        for key, record in changed:
            await snapshots_topic.send(key=key.encode(), value=record)
        for key, record in breaches:
            await breaches_topic.send(key=key.encode(), value=record)
            logger.info("KPI %s for %s: %s", record["state"], key, record["value"])

    def _window_values(items: list[Any], clock_us: int, shards: set[int]) -> tuple[list[Any], dict[str, Period]]:
        values = current_values(items, windows=windows, clock_us=clock_us, targets=targets, shards=shards)
        periods = {
            w.name: Period(w.first_bucket(clock_us), w.bucket_start(clock_us) + w.bucket_us, False)
            for w in windows
        }
        return values, periods

    def _tumbling_values(items: list[Any], clock_us: int, shards: set[int]) -> tuple[list[Any], dict[str, Period]]:
        grace_us = lateness.grace_period_us
        values: list[Any] = []
        periods: dict[str, Period] = {}
        for (dimension, start_us), counters in tumbling_totals(items, shards=shards).items():
            channel, team = parse_dimension_key(dimension)
            label = tumbling.label(start_us)
            end_us = tumbling.bucket_end(start_us)
            periods[label] = Period(start_us, end_us, clock_us >= end_us + grace_us)
            values.extend(kpi_values(counters, channel=channel, team=team, period=("bucket_start", label)))
        return values, periods

    return app


def _broker_urls(servers: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in servers.split(",") if server.strip()]


def _credentials(settings: Settings) -> Any:
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None

    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(
            purpose=ssl.Purpose.SERVER_AUTH,
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None,
        )
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(
                str(settings.kafka_ssl_certfile),
                keyfile=str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
            )
    if protocol == "SSL":
        return context

    password = settings.kafka_sasl_password
    credentials = faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=password.get_secret_value() if password is not None else None,
        mechanism=settings.kafka_sasl_mechanism or "PLAIN",
        ssl_context=context,
    )
    return credentials
