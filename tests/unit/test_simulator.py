"""Tests of the simulator's ticket plans, malformed messages and send loop, without a broker."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.errors import InvalidEventError
from streamproc.events import EventType, parse_event
from streamproc.settings import Settings
from streamproc.simulator import (
    MALFORMATIONS,
    PlannedEvent,
    malformed_message,
    plan_ticket,
    run_simulation,
)

OPENED_AT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
seeds = st.integers(min_value=0, max_value=2**32)


def counting_ids() -> Callable[[], str]:
    counter = itertools.count()
    return lambda: f"id-{next(counter)}"


def plans(seed: int, count: int) -> list[list[PlannedEvent]]:
    rng = random.Random(seed)
    return [plan_ticket(rng) for _ in range(count)]


def stamped(planned: PlannedEvent) -> dict[str, Any]:
    return planned.stamp(OPENED_AT + timedelta(seconds=planned.offset_seconds))


def is_human_public_reply(document: dict[str, Any] | Any) -> bool:
    return (
        document["type"] == "first_reply"
        and document["author"] == "agent"
        and document["public"] is True
    )


def offsets_of(plan: list[PlannedEvent], predicate: Callable[[Any], bool]) -> list[float]:
    return [planned.offset_seconds for planned in plan if predicate(planned.document)]


@given(seed=seeds)
@settings(max_examples=200)
def test_plan_events_validate(seed: int) -> None:
    """Every planned event parses under the contract on its own topic."""
    for planned in plan_ticket(random.Random(seed)):
        document = stamped(planned)
        parse_event(json.dumps(document), topic_type=EventType(document["type"]))


@given(seed=seeds)
def test_plan_starts_with_open(seed: int) -> None:
    """The first event is the ticket_opened at offset 0."""
    plan = plan_ticket(random.Random(seed))

    assert plan[0].document["type"] == "ticket_opened"
    assert plan[0].offset_seconds == 0.0


@given(seed=seeds)
def test_plan_offsets_ordered(seed: int) -> None:
    """Offsets never decrease, and only the open sits at offset 0."""
    offsets = [planned.offset_seconds for planned in plan_ticket(random.Random(seed))]

    assert offsets == sorted(offsets)
    assert offsets[1:] == [offset for offset in offsets[1:] if offset > 0]


@given(seed=seeds)
def test_plan_one_ticket(seed: int) -> None:
    """All events of a plan carry the same ticket id and one open."""
    plan = plan_ticket(random.Random(seed))

    assert len({planned.document["ticket_id"] for planned in plan}) == 1
    assert [p.document["type"] for p in plan].count("ticket_opened") == 1


def test_bot_reply_before_human() -> None:
    """Bot replies come after the open and before the human first reply."""
    bots_seen = 0
    for plan in plans(seed=7, count=500):
        bot_offsets = offsets_of(
            plan, lambda d: d["type"] == "first_reply" and d["author"] == "bot"
        )
        human_offsets = offsets_of(plan, is_human_public_reply)
        bots_seen += len(bot_offsets)
        for bot in bot_offsets:
            assert bot >= 1.0
            if human_offsets:
                assert bot < human_offsets[0]
    assert bots_seen > 0


def test_private_note_before_public() -> None:
    """A private agent note precedes the public reply and never replaces it."""
    notes_seen = 0
    for plan in plans(seed=8, count=500):
        notes = offsets_of(plan, lambda d: d["type"] == "first_reply" and not d["public"])
        notes_seen += len(notes)
        if notes:
            assert offsets_of(plan, is_human_public_reply)[0] > notes[0]
    assert notes_seen > 0


def test_abandoned_has_no_human_reply() -> None:
    """An abandoned contact is phone or chat and has no human public reply."""
    abandoned_seen = 0
    for plan in plans(seed=9, count=1000):
        outcomes = [p.document["outcome"] for p in plan if p.document["type"] == "resolved"]
        if outcomes != ["abandoned"]:
            continue
        abandoned_seen += 1
        assert plan[0].document["channel"] in {"phone", "chat"}
        assert offsets_of(plan, is_human_public_reply) == []
    assert abandoned_seen > 0


def test_resolved_has_one_human_reply() -> None:
    """A resolved ticket has exactly one human public reply, before its resolution."""
    for plan in plans(seed=10, count=500):
        resolutions = offsets_of(plan, lambda d: d["type"] == "resolved")
        if plan[-1].document.get("outcome") == "abandoned":
            continue
        replies = offsets_of(plan, is_human_public_reply)

        assert len(resolutions) == 1
        assert len(replies) == 1
        assert replies[0] < resolutions[0]


def test_survey_after_resolution() -> None:
    """Surveys follow a resolved outcome, never an abandoned one."""
    surveys_seen = 0
    for plan in plans(seed=11, count=1000):
        surveys = offsets_of(plan, lambda d: d["type"] == "survey")
        if not surveys:
            continue
        surveys_seen += 1
        resolved = [p for p in plan if p.document["type"] == "resolved"]

        assert resolved[0].document["outcome"] == "resolved"
        assert surveys[0] > resolved[0].offset_seconds
    assert surveys_seen > 0


def test_survey_sometimes_unrated() -> None:
    """Some survey responses carry a null score."""
    scores = [
        p.document["score"]
        for plan in plans(seed=12, count=3000)
        for p in plan
        if p.document["type"] == "survey"
    ]

    assert None in scores


def test_contacts_one_to_three() -> None:
    """Resolved contacts state 1 to 3 customer contacts."""
    contacts = {
        p.document["contacts"]
        for plan in plans(seed=13, count=1000)
        for p in plan
        if p.document.get("outcome") == "resolved"
    }

    assert contacts == {1, 2, 3}


def test_event_ids_unique() -> None:
    """Event ids do not repeat across tickets."""
    ids = [p.document["event_id"] for plan in plans(seed=14, count=1000) for p in plan]

    assert len(ids) == len(set(ids))


def test_seed_repeats_plan() -> None:
    """The same seed and id source give the same plans."""
    first = [plan_ticket(random.Random(5), new_id=counting_ids()) for _ in range(3)]
    second = [plan_ticket(random.Random(5), new_id=counting_ids()) for _ in range(3)]

    assert first == second


def test_channels_all_present() -> None:
    """Chat, phone, email and web all get tickets."""
    channels = {plan[0].document["channel"] for plan in plans(seed=15, count=500)}

    assert channels == {"chat", "phone", "email", "web"}


@pytest.mark.parametrize("channel", ["chat", "phone"])
def test_live_channel_breach_share(channel: str) -> None:
    """About a third of live-channel first responses miss the 30 s target."""
    delays = [
        offsets_of(plan, is_human_public_reply)[0]
        for plan in plans(seed=16, count=4000)
        if plan[0].document["channel"] == channel and offsets_of(plan, is_human_public_reply)
    ]
    breached = sum(delay > 30 for delay in delays) / len(delays)

    assert 0.2 < breached < 0.45


def test_email_reply_within_minutes() -> None:
    """Email first replies arrive 1 to 5 minutes after the open."""
    delays = [
        offsets_of(plan, is_human_public_reply)[0]
        for plan in plans(seed=17, count=1000)
        if plan[0].document["channel"] == "email"
    ]

    assert min(delays) >= 60
    assert max(delays) <= 300


def test_malformed_always_rejected() -> None:
    """Every malformation kind fails parse_event on the original topic."""
    rng = random.Random(18)
    kinds_seen = set()
    for plan in plans(seed=18, count=200):
        for planned in plan:
            document = stamped(planned)
            kind, body = malformed_message(document, rng)
            kinds_seen.add(kind)
            with pytest.raises(InvalidEventError):
                parse_event(body, topic_type=EventType(document["type"]))
    assert kinds_seen == set(MALFORMATIONS)


class FakeFuture:
    def add_errback(self, function: Callable[[BaseException], Any]) -> None:
        pass


class FakeProducer:
    """Records sends instead of talking to Kafka."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.flushed = False
        self.closed = False

    def send(self, topic: str, *, key: bytes | None, value: bytes) -> FakeFuture:
        self.sent.append((topic, key, value))
        return FakeFuture()

    def flush(self, timeout: float | None = None) -> None:
        self.flushed = True

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


def test_run_routes_by_type() -> None:
    """A short run sends valid events to their type's topic, keyed by ticket."""
    producer = FakeProducer()
    topics = Settings().input_topics()
    run_simulation(Settings(), rate=50.0, duration=1.0, seed=19, producer=producer)

    assert len(producer.sent) > 10
    for topic, key, value in producer.sent:
        event = parse_event(value, topic_type=topics[topic])
        assert key == event.ticket_id.encode()  # type: ignore[union-attr]


def test_run_event_time_is_now() -> None:
    """Sent events carry the wall-clock time of sending as occurred_at."""
    producer = FakeProducer()
    before = datetime.now(UTC)
    run_simulation(Settings(), rate=50.0, duration=0.5, seed=20, producer=producer)
    after = datetime.now(UTC)

    for _, _, value in producer.sent:
        occurred_at = datetime.fromisoformat(json.loads(value)["occurred_at"])
        assert before <= occurred_at <= after


def test_run_sends_malformed() -> None:
    """With invalid_ratio 1, every valid event is followed by one rejected message."""
    producer = FakeProducer()
    topics = Settings().input_topics()
    run_simulation(
        Settings(), rate=50.0, duration=0.5, seed=21, invalid_ratio=1.0, producer=producer
    )
    rejected = 0
    for topic, _, value in producer.sent:
        try:
            parse_event(value, topic_type=topics[topic])
        except InvalidEventError:
            rejected += 1

    assert rejected > 0
    assert rejected * 2 == len(producer.sent)


def test_run_closes_producer() -> None:
    """The producer is flushed and closed when the run ends."""
    producer = FakeProducer()
    run_simulation(Settings(), rate=5.0, duration=0.2, seed=22, producer=producer)

    assert producer.flushed
    assert producer.closed


@pytest.mark.parametrize(
    ("option", "value"),
    [("rate", 0.0), ("rate", -1.0), ("duration", 0.0), ("invalid_ratio", 1.5)],
)
def test_run_rejects_bad_option(option: str, value: float) -> None:
    """Out-of-range options raise ValueError naming the option before any send."""
    options: dict[str, Any] = {"rate": 1.0, "duration": 1.0, "seed": 0, "invalid_ratio": 0.0}
    options[option] = value
    producer = FakeProducer()

    with pytest.raises(ValueError, match=option):
        run_simulation(Settings(), producer=producer, **options)
    assert producer.sent == []
