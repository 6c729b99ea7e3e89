"""Producing contract events into the input topics, and creating the topics."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from streamproc.errors import ConfigurationError

from streamproc.events import EventType
from streamproc.settings import Settings

logger = logging.getLogger(__name__)

US_PER_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class Record:
    """One message for an input topic: the raw JSON text with its routing fields."""

    line: int
    text: str
    topic: str
    key: bytes | None
    occurred_us: int | None


def route(document: dict[str, Any], settings: Settings) -> tuple[str, bytes | None]:
    """Return the topic and message key of an event document.

    The key is `ticket_id`; a ticket-less survey is keyed by `response_id` (else
    `event_id`) so that every answer to one response lands in one partition.
    """
    kind = EventType(document["type"])
    topic = {v: k for k, v in settings.input_topics().items()}[kind]
    key = document.get("ticket_id") or document.get("response_id") or document.get("event_id")
    return topic, str(key).encode() if key is not None else None


def create_topics(settings: Settings, *, partitions: int | None = None) -> list[str]:
    """Create the input and dead-letter topics when missing; return the ones created."""
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.app_id}-admin",
        **settings.kafka_client_options(),
    )
    names = [*settings.input_topics(), settings.topic_dead_letter]
    created = []
    try:
        existing = set(admin.list_topics())
        for name in names:
            if name in existing:
                continue
            topic = NewTopic(
                name,
                num_partitions=partitions or settings.topic_partitions,
                replication_factor=settings.topic_replication_factor,
            )
            try:
                admin.create_topics([topic])
                created.append(name)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
    return created


# Tables of the worker, whose changelog topics are `<app id>-<table>-changelog`.
TABLE_NAMES = ("tickets", "kpi-contributions", "kpi-buckets", "kpi-clock")


def prepare_worker_topics(settings: Settings, *, timeout: float = 60.0) -> None:
    """Check the input topics and create the worker's internal topics before Faust starts.

    Faust declares internal topics itself, but on a broker that has just created them it
    can read metadata that does not list them yet, and then it skips them for good.
    Creating them here and waiting until the metadata lists them avoids that race. Raises
    ConfigurationError when an input topic is missing or has a partition count other
    than `topic_partitions`, because the per-ticket tables need co-partitioned inputs.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.app_id}-admin",
        **settings.kafka_client_options(),
    )
    try:
        _check_input_partitions(admin, settings)
        compacted = {"cleanup.policy": "compact"}
        wanted: dict[str, dict[str, str]] = {
            settings.aggregate_topic(): {},
            settings.topic_snapshots: compacted,
            settings.topic_breaches: {},
        }
        wanted.update({f"{settings.app_id}-{name}-changelog": compacted for name in TABLE_NAMES})
        existing = set(admin.list_topics())
        for name, configs in wanted.items():
            if name in existing:
                continue
            topic = NewTopic(
                name,
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication_factor,
                topic_configs=configs,
            )
            try:
                admin.create_topics([topic])
                logger.info("created topic %s", name)
            except TopicAlreadyExistsError:
                pass
        _wait_for_partitions(admin, list(wanted), settings.topic_partitions, timeout)
    finally:
        admin.close()


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    counts = {}
    for description in admin.describe_topics(names):
        if description.get("error_code", 0) == 0:
            name = description.get("name") or description.get("topic")
            counts[str(name)] = len(description.get("partitions") or [])
    return counts


def _check_input_partitions(admin: KafkaAdminClient, settings: Settings) -> None:
    names = list(settings.input_topics())
    existing = set(admin.list_topics())
    missing = [name for name in names if name not in existing]
    if missing:
        raise ConfigurationError(
            f"input topics {', '.join(missing)} do not exist on "
            f"{settings.kafka_bootstrap_servers}; create them with `streamproc create-topics` "
            f"or with {settings.topic_partitions} partitions each"
        )
    counts = _partition_counts(admin, names)
    wrong = {name: count for name, count in counts.items() if count != settings.topic_partitions}
    if wrong:
        listed = ", ".join(f"{name} has {count}" for name, count in sorted(wrong.items()))
        raise ConfigurationError(
            f"input topics must all have STREAMPROC_TOPIC_PARTITIONS={settings.topic_partitions} "
            f"partitions so tickets are co-partitioned, but {listed}; set the setting to match "
            "or repartition the topics"
        )


def _wait_for_partitions(
    admin: KafkaAdminClient, names: list[str], partitions: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        counts = _partition_counts(admin, names)
        pending = [name for name in names if counts.get(name) != partitions]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise ConfigurationError(
                f"topics {', '.join(pending)} did not show {partitions} partitions within "
                f"{timeout:.0f} s; check the broker log, or that an existing topic of that name "
                "has the same partition count"
            )
        time.sleep(0.5)


def make_producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.app_id}-producer",
        acks="all",
        linger_ms=5,
        **settings.kafka_client_options(),
    )


def paced(records: Iterable[Record], *, speed: float | None) -> Iterator[Record]:
    """Yield records, sleeping so that event time advances `speed` times faster than wall time.

    Pacing follows the latest event time seen so far, so records that come out of time
    order are sent at once instead of rewinding the pace. `speed` None sends at once.
    """
    start_wall = time.monotonic()
    first_us: int | None = None
    latest_us: int | None = None
    for record in records:
        if speed is not None and record.occurred_us is not None:
            if first_us is None:
                first_us = record.occurred_us
            latest_us = max(latest_us or record.occurred_us, record.occurred_us)
            due = start_wall + (latest_us - first_us) / US_PER_SECOND / speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        yield record


def parse_record(line: int, text: str, settings: Settings) -> Record:
    """Route one JSON Lines line; raises ValueError when it has no usable `type`."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {line}: not valid JSON ({exc.msg}); fix the line or remove it") from exc
    if not isinstance(document, dict) or document.get("type") not in {t.value for t in EventType}:
        raise ValueError(
            f"line {line}: field 'type' = {document.get('type') if isinstance(document, dict) else None!r} "
            "does not name an event type, so the topic is unknown; "
            "use ticket_opened, first_reply, resolved or survey"
        )
    topic, key = route(document, settings)
    occurred_us = _occurred_us(document.get("occurred_at"))
    return Record(line, text, topic, key, occurred_us)


def _occurred_us(value: Any) -> int | None:
    from datetime import datetime, timezone

    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds
