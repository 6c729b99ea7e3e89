"""Streaming KPIs equal the brute-force oracle for random ticket histories and deliveries.

Two streaming set-ups are checked: the single-process `Pipeline`, and a harness that
splits the same parts (`apply_event`, `Aggregator`, `current_values`) over several ticket
and aggregate partitions, as the worker does, with partitions interleaved at random.
"""

from __future__ import annotations

import json
import random
import zlib
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamproc.events import AnyEvent, event_to_json, parse_event
from streamproc.kpi.aggregate import Aggregator, tumbling_totals
from streamproc.kpi.business_hours_config import BusinessHoursConfig
from streamproc.kpi.families import kpi_values
from streamproc.kpi.ledger import apply_event, ledger_key
from streamproc.kpi.pipeline import Pipeline, current_values
from streamproc.kpi.targets import Targets
from streamproc.kpi.tumbling import TumblingBuckets
from streamproc.kpi.windows import build_windows
from tests.oracle import (
    Key,
    compare_values,
    oracle_values,
    parse_duration_us,
    streaming_key_values,
    summarize_problems,
)

# Monday 2024-05-06 00:00:00 UTC: histories start here and spread over about ten days.
BASE = datetime(2024, 5, 6, tzinfo=UTC)
DAY_S = 86_400

CHANNELS = ("phone", "chat", "email", "web")
TEAMS = (None, "billing", "tech")

# A team override, so the target lookup and its attribution are exercised too.
TARGETS = Targets(teams={"tech": {"first_response_seconds": 120.0, "resolution_seconds": 7_200.0}})

# Email, and the tech team on any channel, have business hours; the rest has none.
BUSINESS_HOURS = BusinessHoursConfig.model_validate(
    {
        "schedules": [
            {
                "name": "office",
                "time_zone": "Europe/Berlin",
                "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
            },
            {
                "name": "follow-the-sun",
                "time_zone": "Asia/Kolkata",
                "hours": {"mon": ["22:00-06:00"], "tue": ["08:00-20:00"], "sat": ["00:00-24:00"]},
            },
        ],
        "assign": [
            {"schedule": "office", "channel": "email"},
            {"schedule": "follow-the-sun", "team": "tech"},
        ],
    }
)

# Window set-ups: the defaults, small buckets that many samples straddle, and one window
# that contains the whole history.
WINDOW_SETUPS = ((("1h", "24h", "7d"), 60), (("10m", "2h"), 4), (("30d",), 30))

# Gaps between consecutive events of one ticket, in seconds. The fixed values sit on the
# edges that definitions compare against: the 30 s live-channel target, the 5 s short
# abandon, and 7 days of reopen period.
EDGE_GAPS = (0, 0, 1, 4, 5, 6, 30, 31, 3_600, 7 * DAY_S, 7 * DAY_S + 1)
GAPS = st.one_of(
    st.sampled_from(EDGE_GAPS),
    st.integers(0, 120),
    st.integers(0, 2 * DAY_S),
    st.integers(0, 600),
    st.integers(0, DAY_S),
    st.integers(-150, -1),  # clock skew: stamped before the event it follows
)


KINDS = ("open", "reply", "reply", "resolved", "survey")

# Event sequences after the first open that random lists rarely give: a reopen answered
# again, a bot resolution reopened, a quick abandon, a resolution with surveys.
LIFECYCLES = (
    ("reply", "resolved", "open", "reply", "resolved", "open", "reply"),
    ("resolved", "open", "reply", "resolved"),
    ("resolved",),
    ("reply", "resolved", "survey", "survey"),
)


@dataclass(frozen=True)
class Config:
    """KPI definition settings of one example, in the oracle's terms."""

    windows: tuple[str, ...] = ("1h", "24h", "7d")
    buckets_per_window: int = 60
    reopen_period: str = "7d"
    short_abandon: str = "5s"
    service_level_channels: tuple[str, ...] = ("phone", "chat")
    first_response_from: str = "episode"
    no_touch_fcr: str = "not_fcr"
    business_hours: bool = False

    def oracle(self, events: list[AnyEvent]) -> dict[Key, float]:
        return oracle_values(
            events,
            targets=TARGETS,
            windows=list(self.windows),
            buckets_per_window=self.buckets_per_window,
            reopen_period=self.reopen_period,
            short_abandon=self.short_abandon,
            service_level_channels=self.service_level_channels,
            first_response_from=self.first_response_from,
            no_touch_fcr=self.no_touch_fcr,
            business_hours=BUSINESS_HOURS if self.business_hours else None,
        )

    def pipeline(self) -> Pipeline:
        # Options that keep their default are left out, so a Pipeline that lacks one
        # still runs the examples that do not need it.
        options: dict[str, Any] = {}
        if self.reopen_period != "7d":
            options["reopen_period_us"] = parse_duration_us(self.reopen_period)
        if self.short_abandon != "5s":
            options["short_abandon_us"] = parse_duration_us(self.short_abandon)
        if self.service_level_channels != ("phone", "chat"):
            options["service_level_channels"] = frozenset(self.service_level_channels)
        if self.first_response_from != "episode":
            options["first_response_from"] = self.first_response_from
        if self.no_touch_fcr != "not_fcr":
            options["no_touch_fcr"] = self.no_touch_fcr
        if self.business_hours:
            options["business_hours"] = BUSINESS_HOURS
        windows = build_windows(list(self.windows), buckets_per_window=self.buckets_per_window)
        return Pipeline(targets=TARGETS, windows=windows, **options)


class History:
    """Generated events in generation order and the order they are delivered in."""

    def __init__(self, *, events: list[AnyEvent], deliveries: list[AnyEvent]) -> None:
        self.events = events
        self.deliveries = deliveries

    def __repr__(self) -> str:
        # A failing example prints as the JSON Lines of its deliveries, ready to replay.
        lines = "\n".join(event_to_json(item) for item in self.deliveries)
        return f"History(deliveries=<<\n{lines}\n>>)"


def build_event(
    kind: str, event_id: str, at_us: int, ticket: str | None, **fields: Any
) -> AnyEvent:
    moment = BASE + timedelta(microseconds=at_us)
    document: dict[str, Any] = {
        "type": kind,
        "event_id": event_id,
        "occurred_at": moment.isoformat().replace("+00:00", "Z"),
    }
    if ticket is not None:
        document["ticket_id"] = ticket
    # `score` is required on surveys, null included; other fields set to None are left out.
    document.update({k: v for k, v in fields.items() if v is not None or k == "score"})
    return parse_event(json.dumps(document))


# A step is one event of a ticket before it has an id or a time: its kind, the gap after
# the previous event in seconds, extra microseconds, and its fields. Tickets are drawn as
# lists of steps and turned into events afterwards, so shrinking can drop tickets and
# steps freely.
Step = tuple[str, int, int, dict[str, Any]]

KEEP = "keep"
MICROSECONDS = st.one_of(st.just(0), st.integers(0, 999_999))
HALF_SECONDS = st.integers(0, 1_800).map(lambda half_seconds: half_seconds / 2)


@st.composite
def resolved_fields(draw: st.DrawFn) -> dict[str, Any]:
    outcome = draw(st.sampled_from(("resolved", "resolved", "abandoned")))
    form = draw(st.sampled_from(("none", "handle", "parts")))
    fields: dict[str, Any] = {
        "outcome": outcome,
        "contacts": draw(st.sampled_from((None, 1, 1, 2, 3))),
    }
    if form == "handle":
        fields["handle_seconds"] = draw(HALF_SECONDS)
    elif form == "parts":
        fields["talk_seconds"] = draw(st.one_of(st.none(), HALF_SECONDS))
        fields["hold_seconds"] = draw(st.one_of(st.none(), HALF_SECONDS))
        fields["after_contact_seconds"] = draw(st.one_of(st.none(), HALF_SECONDS))
    return fields


@st.composite
def survey_fields(draw: st.DrawFn) -> dict[str, Any]:
    """A survey answer; one with `shared` changes the earlier answer of its response."""
    kind = draw(st.sampled_from(("csat", "ces", "nps")))
    low, high = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}[kind]
    score = draw(st.one_of(st.none(), st.integers(low, high)))
    return {"survey": kind, "score": score, "shared": draw(st.booleans())}


# Later opens are reopens or transfers; some move the ticket to another team or channel.
OPEN_FIELDS = st.fixed_dictionaries(
    {
        "channel": st.one_of(st.just(KEEP), st.sampled_from(CHANNELS)),
        "team": st.one_of(st.just(KEEP), st.sampled_from(TEAMS)),
    }
)
REPLY_FIELDS = st.fixed_dictionaries(
    {
        "author": st.sampled_from(("agent", "agent", "bot", "system")),
        "public": st.sampled_from((True, True, False)),
    }
)
FIELDS_BY_KIND = {
    "open": OPEN_FIELDS,
    "reply": REPLY_FIELDS,
    "resolved": resolved_fields(),
    "survey": survey_fields(),
}


def step(kind: str) -> st.SearchStrategy[Step]:
    return st.tuples(st.just(kind), GAPS, MICROSECONDS, FIELDS_BY_KIND[kind])


ANY_STEP = st.one_of(*(step(kind) for kind in KINDS))
STEPS = st.one_of(
    st.lists(ANY_STEP, max_size=7),
    st.sampled_from(LIFECYCLES).flatmap(lambda kinds: st.tuples(*(step(kind) for kind in kinds))),
)
TICKETS = st.tuples(
    st.sampled_from(CHANNELS),
    st.sampled_from(TEAMS),
    st.integers(0, 9 * DAY_S),
    st.integers(0, 9).map(lambda draw: draw == 9),  # about one ticket in ten has no first open
    STEPS,
)
TICKETLESS_SURVEYS = st.tuples(st.integers(0, 10 * DAY_S), survey_fields())


def ticket_events(number: int, ticket: tuple[str, str | None, int, bool, Any]) -> list[AnyEvent]:
    """Turn one drawn ticket into events: its open (unless left out), then its steps."""
    ticket_id = f"T{number}"
    channel, team, start_s, without_open, steps = ticket
    at_us = start_s * 1_000_000
    events = []
    if not without_open:
        events.append(
            build_event(
                "ticket_opened", f"{ticket_id}-o", at_us, ticket_id, channel=channel, team=team
            )
        )

    for index, (kind, gap_s, micro, fields) in enumerate(steps):
        at_us += gap_s * 1_000_000 + micro
        event_id = f"{ticket_id}-{index}"
        if kind == "open":
            channel = channel if fields["channel"] == KEEP else fields["channel"]
            team = team if fields["team"] == KEEP else fields["team"]
            events.append(
                build_event("ticket_opened", event_id, at_us, ticket_id, channel=channel, team=team)
            )
        elif kind == "reply":
            events.append(build_event("first_reply", event_id, at_us, ticket_id, **fields))
        elif kind == "resolved":
            events.append(build_event("resolved", event_id, at_us, ticket_id, **fields))
        else:
            events.append(
                build_event(
                    "survey", event_id, at_us, ticket_id, **survey_document(ticket_id, fields)
                )
            )
    return events


def survey_document(prefix: str, fields: dict[str, Any]) -> dict[str, Any]:
    response = f"{prefix}-{fields['survey']}" if fields["shared"] else None
    return {"survey": fields["survey"], "score": fields["score"], "response_id": response}


DELAYS = st.one_of(
    st.just(0),
    st.integers(0, 600 * 1_000_000),
    st.integers(0, 12 * DAY_S * 1_000_000),
)


@st.composite
def histories(draw: st.DrawFn) -> History:
    """1 to 30 tickets and a few ticket-less surveys, delivered late, out of order and twice."""
    events: list[AnyEvent] = []
    for number, ticket in enumerate(draw(st.lists(TICKETS, min_size=1, max_size=30))):
        events.extend(ticket_events(number, ticket))
    for index, (at_s, fields) in enumerate(draw(st.lists(TICKETLESS_SURVEYS, max_size=4))):
        document = survey_document("X", fields)
        events.append(build_event("survey", f"S{index}", at_s * 1_000_000, None, **document))
    if not events:
        events.append(build_event("ticket_opened", "T0-o", 0, "T0", channel="chat"))

    # Each event arrives once plus 0 to 2 more times, each copy after its own delay.
    count = len(events)
    copies = draw(st.lists(st.sampled_from((1, 1, 1, 1, 2, 3)), min_size=count, max_size=count))
    delays = iter(draw(st.lists(DELAYS, min_size=sum(copies), max_size=sum(copies))))
    arrivals = []
    for position, (item, times) in enumerate(zip(events, copies)):
        for copy in range(times):
            arrivals.append((item.occurred_us + next(delays), position, copy, item))
    arrivals.sort(key=lambda arrival: arrival[:3])
    return History(events=events, deliveries=[arrival[3] for arrival in arrivals])


CONFIGS = st.builds(
    lambda setup, reopen, short, channels, first_response_from, no_touch_fcr, business_hours: (
        Config(
            windows=setup[0],
            buckets_per_window=setup[1],
            reopen_period=reopen,
            short_abandon=short,
            service_level_channels=channels,
            first_response_from=first_response_from,
            no_touch_fcr=no_touch_fcr,
            business_hours=business_hours,
        )
    ),
    st.sampled_from(WINDOW_SETUPS),
    st.sampled_from(("7d", "7d", "2h")),
    st.sampled_from(("5s", "5s", "30s")),
    st.sampled_from((("phone", "chat"), ("phone", "chat"), ("email",))),
    st.sampled_from(("episode", "episode", "open")),
    st.sampled_from(("not_fcr", "not_fcr", "excluded")),
    st.booleans(),
)

EXAMPLES = settings(
    max_examples=500,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_equal_to_oracle(actual: dict[Key, float], history: History, config: Config) -> None:
    expected = config.oracle(history.deliveries)
    problems = compare_values(actual, expected)
    assert not problems, "streaming differs from the oracle: " + summarize_problems(problems)


@EXAMPLES
@given(history=histories(), config=CONFIGS)
def test_pipeline_matches_oracle(history: History, config: Config) -> None:
    """The single-process Pipeline gives the oracle's values for any delivery order."""
    pipeline = config.pipeline()
    for item in history.deliveries:
        pipeline.process(item)

    assert_equal_to_oracle(streaming_key_values(pipeline.values()), history, config)


def route(key: str, partitions: int) -> int:
    """Partition of a message key; crc32 is stable across processes, unlike hash()."""
    return zlib.crc32(key.encode()) % partitions


def partitioned_values(
    history: History, config: Config, *, tickets: int, aggregates: int, rng: random.Random
) -> dict[Key, float]:
    """Run the streaming parts as `tickets` ticket and `aggregates` aggregate partitions.

    Each ticket partition keeps its own ledger store and receives its events in arrival
    order. Contributions queue per (ticket partition, aggregate partition) pair, because
    a Kafka partition keeps one producer's order. Every step takes one message from a
    random non-empty source. As in the worker, aggregates keep hourly tumbling buckets
    and are pruned now and then at the clock of the moment, with the worker's retention.
    """
    template = config.pipeline()
    options = template.options
    windows = template.windows
    ledgers: list[dict[str, Any]] = [{} for _ in range(tickets)]
    aggregators = [
        Aggregator(
            windows=windows,
            contributions={},
            buckets={},
            retention_us=windows[-1].length_us + windows[-1].bucket_us,
            tumbling=TumblingBuckets("1h"),
        )
        for _ in range(aggregates)
    ]

    inputs: list[deque[AnyEvent]] = [deque() for _ in range(tickets)]
    for item in history.deliveries:
        inputs[route(ledger_key(item), tickets)].append(item)
    links: dict[tuple[int, int], deque[tuple[str, str, Any]]] = {
        (t, a): deque() for t in range(tickets) for a in range(aggregates)
    }

    clock_us: int | None = None
    while True:
        sources = [("in", t) for t in range(tickets) if inputs[t]]
        sources += [("link", pair) for pair, queue in links.items() if queue]
        if not sources:
            break
        kind, where = rng.choice(sources)
        if clock_us is not None and rng.random() < 0.1:
            rng.choice(aggregators).prune(clock_us)

        if kind == "in":
            item = inputs[where].popleft()
            result = apply_event(ledgers[where], item, options, resend=True)
            if clock_us is None or item.occurred_us > clock_us:
                clock_us = item.occurred_us
            ticket = ledger_key(item)
            for dimension, samples in result.contributions.items():
                links[(where, route(dimension, aggregates))].append((dimension, ticket, samples))
        else:
            dimension, ticket, samples = links[where].popleft()
            aggregators[where[1]].apply(dimension, ticket, samples, shard=where[1])

    assert clock_us is not None
    merged: dict[Key, float] = {}
    for aggregator in aggregators:
        check_tumbling_values(aggregator)
        values = current_values(
            aggregator.buckets.items(), windows=windows, clock_us=clock_us, targets=TARGETS
        )
        for key, value in streaming_key_values(values).items():
            # Each dimension lives in one aggregate partition, so no series may repeat.
            assert key not in merged, f"series {key} comes from two aggregate partitions"
            merged[key] = value
    return merged


def check_tumbling_values(aggregator: Aggregator) -> None:
    """Compute every tumbling bucket's values, as the worker's snapshot timer does.

    A bucket whose counters contradict each other (a negative count of successes, say)
    fails here, where the worker would crash.
    """
    for (dimension, start_us), counters in tumbling_totals(aggregator.buckets.items()).items():
        period = ("bucket_start", str(start_us))
        try:
            kpi_values(counters, channel=dimension, team="", period=period)
        except ValueError as exc:
            raise AssertionError(
                f"tumbling bucket {dimension} at {start_us} has contradictory counters"
                f" {counters}: {exc}"
            ) from exc


@EXAMPLES
@given(
    history=histories(),
    config=CONFIGS,
    tickets=st.integers(1, 4),
    aggregates=st.integers(1, 4),
    rng=st.randoms(use_true_random=False),
)
def test_partitions_match_oracle(
    history: History, config: Config, tickets: int, aggregates: int, rng: random.Random
) -> None:
    """Ticket and aggregate partitions, interleaved at random, give the oracle's values."""
    actual = partitioned_values(history, config, tickets=tickets, aggregates=aggregates, rng=rng)

    assert_equal_to_oracle(actual, history, config)


def test_retraction_after_prune() -> None:
    """A sample that changes after its hourly bucket was pruned leaves no negative count.

    Ticket A's survey 8 days after its resolution keeps A's contribution while the
    resolution's bucket is pruned. A reopen then voids A's first contact resolution,
    and ticket B adds a resolution to the same hour.
    """
    events = [
        build_event("ticket_opened", "a1", hours(10), "A", channel="chat"),
        build_event("first_reply", "a2", hours(10, minutes=1), "A"),
        build_event("resolved", "a3", hours(10, minutes=30), "A", contacts=1),
        build_event("survey", "a4", hours(8 * 24 + 12), "A", survey="csat", score=5),
        build_event("ticket_opened", "a5", hours(2 * 24 + 9), "A", channel="chat"),
        build_event("ticket_opened", "b1", hours(10), "B", channel="chat"),
        build_event("resolved", "b2", hours(10, minutes=40), "B", contacts=2),
    ]
    config = Config()
    template = config.pipeline()
    windows = template.windows
    aggregator = Aggregator(
        windows=windows,
        contributions={},
        buckets={},
        retention_us=windows[-1].length_us + windows[-1].bucket_us,
        tumbling=TumblingBuckets("1h"),
    )
    store: dict[str, Any] = {}
    clock_us = 0
    for index, item in enumerate(events):
        result = apply_event(store, item, template.options, resend=True)
        clock_us = max(clock_us, item.occurred_us)
        for dimension, samples in result.contributions.items():
            aggregator.apply(dimension, ledger_key(item), samples)
        if item.event_id == "a4":
            aggregator.prune(clock_us)

    check_tumbling_values(aggregator)
    values = current_values(
        aggregator.buckets.items(), windows=windows, clock_us=clock_us, targets=TARGETS
    )
    assert_equal_to_oracle(
        streaming_key_values(values), History(events=events, deliveries=events), config
    )


def hours(count: int, *, minutes: int = 0) -> int:
    """Microseconds from BASE to `count` hours and `minutes` minutes later."""
    return (count * 3_600 + minutes * 60) * 1_000_000
