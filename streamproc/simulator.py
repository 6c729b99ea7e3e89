"""Live simulated support traffic: seedable ticket plans, sent to Kafka on a wall-clock schedule.

`plan_ticket` decides which events a ticket gets and how many seconds after its open each one
happens. It is pure and needs no broker. `run_simulation` opens tickets at random arrival times,
stamps each planned event with the wall-clock time when it falls due, and produces it.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import signal
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any, Protocol

from kafka.errors import KafkaError

from streamproc.errors import StreamprocError
from streamproc.settings import Settings
from streamproc.stream.producer import make_producer, route

logger = logging.getLogger(__name__)

CHANNEL_WEIGHTS: dict[str, float] = {"chat": 0.35, "phone": 0.25, "email": 0.25, "web": 0.15}
TEAM_WEIGHTS: dict[str, float] = {"billing": 0.35, "tech": 0.40, "accounts": 0.25}
PRIORITY_WEIGHTS: dict[str, float] = {"low": 0.20, "normal": 0.55, "high": 0.20, "urgent": 0.05}
LIVE_CHANNELS = frozenset({"chat", "phone"})
AGENT_COUNT = 25

# Seconds from open to the first human reply, as (low, mode, high) of a triangular distribution.
# Live channels peak below their 30 s first-response target with a tail past it, so about a
# third breach (P(delay > 30 s) is 0.33 for chat and 0.31 for phone). Email and web are
# compressed from hours to minutes so that a demo shows their values within a few minutes,
# which means they always meet their 1 h default target.
FIRST_REPLY_DELAYS: dict[str, tuple[float, float, float]] = {
    "chat": (8.0, 15.0, 55.0),
    "phone": (5.0, 15.0, 55.0),
    "email": (60.0, 120.0, 300.0),
    "web": (30.0, 60.0, 180.0),
}
# Wall-clock seconds from the first human reply to the resolution, also compressed.
RESOLUTION_DELAYS: dict[str, tuple[float, float]] = {
    "chat": (20.0, 90.0),
    "phone": (20.0, 90.0),
    "email": (30.0, 180.0),
    "web": (30.0, 180.0),
}
BOT_REPLY_SHARE = {"chat": 0.6, "web": 0.4}
ABANDONMENT_SHARE = {"phone": 0.12, "chat": 0.08}
PRIVATE_NOTE_SHARE = 0.15
SURVEY_SHARE = 0.40
UNRATED_SURVEY_SHARE = 0.05
CONTACT_WEIGHTS = {1: 0.72, 2: 0.20, 3: 0.08}

# Score weights, skewed towards satisfied customers as survey results usually are.
SCORE_WEIGHTS: dict[str, dict[int, float]] = {
    "csat": {1: 0.05, 2: 0.07, 3: 0.13, 4: 0.30, 5: 0.45},
    "ces": {1: 0.03, 2: 0.04, 3: 0.08, 4: 0.15, 5: 0.25, 6: 0.25, 7: 0.20},
    # NPS scores 0 to 10, in order.
    "nps": dict(enumerate((0.02, 0.02, 0.02, 0.03, 0.03, 0.05, 0.08, 0.12, 0.18, 0.22, 0.23))),
}
SURVEY_KIND_WEIGHTS = {"csat": 0.50, "ces": 0.25, "nps": 0.25}

MALFORMATIONS = ("not_json", "naive_timestamp", "empty_event_id", "type_mismatch")
SUMMARY_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """One event of a ticket plan, with its offset after the open and its document without time."""

    offset_seconds: float
    document: Mapping[str, Any]

    def stamp(self, moment: datetime) -> dict[str, Any]:
        """Return the event document with `occurred_at` set to `moment`."""
        return {**self.document, "occurred_at": moment.isoformat()}


def new_event_id() -> str:
    """Return a fresh random event or ticket id (a UUID4, independent of any seed)."""
    return str(uuid.uuid4())


def plan_ticket(
    rng: random.Random, *, new_id: Callable[[], str] = new_event_id
) -> list[PlannedEvent]:
    """Plan one ticket's events, ordered by their offset from the open.

    The open comes first at offset 0. Chat and web may get a bot reply a few seconds later,
    which never ends the first-response clock. A share of phone and chat contacts is
    abandoned before any human reply. Every other ticket gets one human public first
    reply, sometimes after a private note, then a resolution and sometimes a survey.
    """
    channel = _pick(rng, CHANNEL_WEIGHTS)
    team = _pick(rng, TEAM_WEIGHTS)
    ticket_id = f"sim-{new_id()}"
    priority = _pick(rng, PRIORITY_WEIGHTS)
    agent_id = f"agent-{rng.randrange(AGENT_COUNT):02d}"

    def event(offset: float, kind: str, **fields: Any) -> PlannedEvent:
        document = {"event_id": new_id(), "type": kind, "ticket_id": ticket_id, **fields}
        return PlannedEvent(round(offset, 3), document)

    events = [event(0.0, "ticket_opened", channel=channel, team=team, priority=priority)]
    low, mode, high = FIRST_REPLY_DELAYS[channel]
    reply_at = rng.triangular(low, high, mode)

    if rng.random() < BOT_REPLY_SHARE.get(channel, 0.0):
        bot_at = rng.uniform(1.0, min(5.0, reply_at / 2))
        events.append(event(bot_at, "first_reply", author="bot", public=True))

    if rng.random() < ABANDONMENT_SHARE.get(channel, 0.0):
        # The customer leaves while waiting, so no human reply is sent.
        abandoned_at = rng.uniform(0.3, 0.95) * reply_at
        events.append(event(abandoned_at, "resolved", outcome="abandoned", contacts=1))
        return _ordered(events)

    if rng.random() < PRIVATE_NOTE_SHARE:
        note_at = rng.uniform(0.5, 0.95) * reply_at
        events.append(
            event(note_at, "first_reply", author="agent", public=False, agent_id=agent_id)
        )
    events.append(event(reply_at, "first_reply", author="agent", public=True, agent_id=agent_id))

    resolved_at = reply_at + rng.uniform(*RESOLUTION_DELAYS[channel])
    events.append(
        event(
            resolved_at,
            "resolved",
            outcome="resolved",
            agent_id=agent_id,
            **_handle_fields(rng, channel),
        )
    )

    if rng.random() < SURVEY_SHARE:
        kind = _pick(rng, SURVEY_KIND_WEIGHTS)
        score = None if rng.random() < UNRATED_SURVEY_SHARE else _pick(rng, SCORE_WEIGHTS[kind])
        survey_at = resolved_at + rng.uniform(5.0, 40.0)
        events.append(
            event(survey_at, "survey", survey=kind, score=score, response_id=f"response-{new_id()}")
        )
    return _ordered(events)


def next_arrival_gap(rng: random.Random, rate: float) -> float:
    """Return the seconds until the next ticket opens, for a Poisson arrival process of `rate`/s."""
    return rng.expovariate(rate)


def malformed_message(document: Mapping[str, Any], rng: random.Random) -> tuple[str, bytes]:
    """Return a malformation name and a message body that the worker must reject.

    `document` is a valid, stamped event. The result is meant for the same topic and key, so
    it exercises the dead-letter path without touching the ticket's own valid events.
    """
    kind = rng.choice(MALFORMATIONS)
    broken = {**document, "event_id": f"malformed-{document['event_id']}"}

    if kind == "not_json":
        text = json.dumps(broken)
        return kind, text[: len(text) // 2].encode()
    if kind == "naive_timestamp":
        moment = datetime.fromisoformat(document["occurred_at"])
        broken["occurred_at"] = moment.replace(tzinfo=None).isoformat()
    elif kind == "empty_event_id":
        broken["event_id"] = ""
    else:
        others = [
            t
            for t in ("ticket_opened", "first_reply", "resolved", "survey")
            if t != document["type"]
        ]
        broken["type"] = rng.choice(others)
    return kind, json.dumps(broken).encode()


def _pick(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _handle_fields(rng: random.Random, channel: str) -> dict[str, Any]:
    # These are recorded work times, not the compressed wall-clock delays. Talk plus hold plus
    # after-contact work ranges from about 2 to 12 min, on both sides of the 6 min target.
    live = channel in LIVE_CHANNELS
    return {
        "talk_seconds": round(rng.uniform(90.0, 480.0) if live else rng.uniform(60.0, 420.0), 1),
        "hold_seconds": round(rng.uniform(0.0, 90.0), 1) if live and rng.random() < 0.4 else 0.0,
        "after_contact_seconds": round(rng.uniform(15.0, 150.0), 1),
        "contacts": _pick(rng, CONTACT_WEIGHTS),
    }


def _ordered(events: list[PlannedEvent]) -> list[PlannedEvent]:
    return sorted(events, key=lambda planned: planned.offset_seconds)


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------


class _Future(Protocol):
    def add_errback(self, function: Callable[[BaseException], Any]) -> Any: ...


class Producer(Protocol):
    """The part of `kafka.KafkaProducer` that the simulator uses (a seam for tests)."""

    def send(self, topic: str, *, key: bytes | None, value: bytes) -> _Future: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


class _StopRequested(BaseException):
    """Raised inside the send loop by the SIGTERM handler."""

    # A BaseException, like KeyboardInterrupt, so no `except Exception` in a library swallows it.


@dataclass(slots=True)
class Totals:
    """Running counts for the periodic summary line."""

    tickets: int = 0
    events: int = 0
    malformed: int = 0
    failed: int = 0


@dataclass(order=True, slots=True)
class _Due:
    at: float
    sequence: int
    planned: PlannedEvent | None = field(compare=False)  # None opens the next ticket


def run_simulation(
    settings: Settings,
    *,
    rate: float,
    duration: float | None,
    seed: int | None,
    invalid_ratio: float = 0.0,
    producer: Producer | None = None,
) -> None:
    """Produce simulated live traffic until `duration` seconds pass, Ctrl-C or SIGTERM.

    `seed` fixes the arrival times and ticket plans. Event and ticket ids are fresh UUIDs in
    every run, so a rerun with the same seed is new traffic to the worker, not duplicates.
    Events still scheduled when the run stops are not sent.
    """
    if not rate > 0:
        raise ValueError(f"rate must be above 0 tickets per second, got {rate}")
    if duration is not None and not duration > 0:
        raise ValueError(f"duration must be above 0 seconds or unset, got {duration}")
    if not 0.0 <= invalid_ratio <= 1.0:
        raise ValueError(f"invalid_ratio must be from 0 to 1, got {invalid_ratio}")

    if producer is None:
        producer = _connect(settings)
    simulation = _Simulation(
        settings, producer, rng=random.Random(seed), rate=rate, invalid_ratio=invalid_ratio
    )
    logger.info(
        "simulating %.2f tickets/s to %s (seed %s, malformed share %.2f)",
        rate,
        settings.kafka_bootstrap_servers,
        seed,
        invalid_ratio,
    )

    try:
        with _sigterm_raises():
            simulation.run(duration=duration)
    except (KeyboardInterrupt, _StopRequested):
        logger.info("stop requested")
    finally:
        producer.flush(timeout=10)
        producer.close(timeout=5)
        simulation.log_summary(final=True)


def _connect(settings: Settings) -> Producer:
    try:
        producer: Producer = make_producer(settings)
        return producer
    except KafkaError as exc:
        raise StreamprocError(
            f"connecting to Kafka at {settings.kafka_bootstrap_servers} failed ({exc}). Start a "
            "broker (deploy/kafka/broker.sh start) or set STREAMPROC_KAFKA_BOOTSTRAP_SERVERS."
        ) from exc


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    # Background jobs of a shell script ignore SIGINT, so scripts stop the simulator with SIGTERM.
    def handle(signum: int, frame: FrameType | None) -> None:
        raise _StopRequested

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Simulation:
    """The schedule of due events and the sending of each one."""

    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        *,
        rng: random.Random,
        rate: float,
        invalid_ratio: float,
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.rng = rng
        self.rate = rate
        self.invalid_ratio = invalid_ratio
        self.totals = Totals()
        self.queue: list[_Due] = []
        self.sequence = 0

    def run(self, *, duration: float | None) -> None:
        start = time.monotonic()
        end = start + duration if duration is not None else float("inf")
        next_summary = start + SUMMARY_INTERVAL_SECONDS
        self._schedule(start, None)

        while True:
            now = time.monotonic()
            if now >= end:
                return
            if now >= next_summary:
                self.log_summary(final=False)
                next_summary += SUMMARY_INTERVAL_SECONDS

            due = self.queue[0]
            if due.at > now:
                time.sleep(min(due.at, next_summary, end) - now)
                continue

            heapq.heappop(self.queue)
            if due.planned is None:
                self._open_ticket(due.at)
            else:
                self._send(due.planned)

    def log_summary(self, *, final: bool) -> None:
        logger.info(
            "%s%d tickets opened, %d events sent, %d malformed messages sent, %d sends failed, "
            "%d events scheduled",
            "stopped: " if final else "",
            self.totals.tickets,
            self.totals.events,
            self.totals.malformed,
            self.totals.failed,
            sum(1 for due in self.queue if due.planned is not None),
        )

    def _schedule(self, at: float, planned: PlannedEvent | None) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, _Due(at, self.sequence, planned))

    def _open_ticket(self, opened_at: float) -> None:
        # Offsets count from the scheduled open, so a late loop does not stretch the durations.
        for planned in plan_ticket(self.rng):
            self._schedule(opened_at + planned.offset_seconds, planned)
        self.totals.tickets += 1
        self._schedule(opened_at + next_arrival_gap(self.rng, self.rate), None)

    def _send(self, planned: PlannedEvent) -> None:
        document = planned.stamp(datetime.now(UTC))
        topic, key = route(document, self.settings)
        self._produce(topic, key, json.dumps(document).encode())
        self.totals.events += 1

        if self.invalid_ratio and self.rng.random() < self.invalid_ratio:
            _, body = malformed_message(document, self.rng)
            self._produce(topic, key, body)
            self.totals.malformed += 1

    def _produce(self, topic: str, key: bytes | None, value: bytes) -> None:
        future = self.producer.send(topic, key=key, value=value)
        future.add_errback(self._on_send_error)

    def _on_send_error(self, exc: BaseException) -> None:
        self.totals.failed += 1
        # Only the first failure is logged in full, and the summary line counts the rest.
        if self.totals.failed == 1:
            logger.error("sending an event failed, so it is lost: %s", exc)
