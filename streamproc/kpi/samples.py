"""KPI samples derived from one ticket's events.

A ticket's samples are a pure function of the set of its events, never of their arrival
order: every new event recomputes them, and the aggregates apply the difference. That is
what makes out-of-order delivery, held events, reopens and changed ratings exact. The
definitions are in docs/kpi-definitions.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from streamproc.events import (
    AnyEvent,
    FirstReply,
    Outcome,
    Resolved,
    Survey,
    SurveyKind,
    TicketOpened,
)
from streamproc.kpi.sketch import bucket_of
from streamproc.kpi.targets import Targets

NO_TEAM = "none"
NO_CHANNEL = "none"
US_PER_SECOND = 1_000_000
DAY_US = 86_400 * US_PER_SECOND

Counters = tuple[tuple[str, int], ...]

# Same-timestamp events of one ticket are ordered by type, so that, for example, a reply
# and a resolution stamped alike give the same result in either arrival order.
_TYPE_RANK = {TicketOpened: 0, FirstReply: 1, Resolved: 2, Survey: 3}


class Schedule(Protocol):
    def business_seconds(self, start: datetime, end: datetime) -> float: ...


class ScheduleLookup(Protocol):
    def schedule_for(self, *, channel: str, team: str) -> Schedule | None: ...


@dataclass(frozen=True, kw_only=True)
class KpiOptions:
    """Definitional settings of the KPIs; see docs/kpi-definitions.md."""

    targets: Targets = field(default_factory=Targets)
    reopen_period_us: int = 7 * DAY_US
    short_abandon_us: int = 5 * US_PER_SECOND
    service_level_channels: frozenset[str] = frozenset({"phone", "chat"})
    business_hours: ScheduleLookup | None = None
    # "episode": first response from the start of the episode it falls in (a reopen
    # restarts the clock when nobody had replied); "open": always from the first open.
    first_response_from: str = "episode"
    # "not_fcr": a no-touch resolution counts in the FCR denominator as not resolved on
    # first contact; "excluded": it stays out of FCR altogether.
    no_touch_fcr: str = "not_fcr"


@dataclass(frozen=True, slots=True)
class Sample:
    """One contribution to the KPI aggregates, stamped with event time and attribution.

    `key` identifies the sample within its ticket, so a recomputation that yields the
    same key with another time or value replaces the earlier one.
    """

    key: str
    occurred_us: int
    channel: str
    team: str
    counters: Counters


def _sort_key(event: AnyEvent) -> tuple[int, int, str]:
    return (event.occurred_us, _TYPE_RANK[type(event)], event.event_id)


@dataclass
class _Ticket:
    """A ticket's events in order, split into episodes, with attribution by position."""

    ordered: list[AnyEvent]
    episode_of: list[int]
    starts: list[TicketOpened]
    attribution: list[TicketOpened]

    @classmethod
    def build(cls, ordered: list[AnyEvent]) -> _Ticket:
        first_open = next(e for e in ordered if isinstance(e, TicketOpened))
        starts: list[TicketOpened] = []
        episode_of: list[int] = []
        attribution: list[TicketOpened] = []
        closed = False
        latest = first_open
        for event in ordered:
            if isinstance(event, TicketOpened):
                latest = event
                if not starts or closed:
                    starts.append(event)
                    closed = False
            elif isinstance(event, Resolved) and starts:
                closed = True
            # Events before the first open belong to the first episode.
            episode_of.append(max(len(starts) - 1, 0))
            attribution.append(latest)
        if not starts:
            starts.append(first_open)
        return cls(ordered, episode_of, starts, attribution)

    def where(self, index: int) -> tuple[str, str]:
        opened = self.attribution[index]
        return opened.channel.value, opened.team or NO_TEAM


def derive_samples(events: Iterable[AnyEvent], options: KpiOptions) -> list[Sample]:
    """Compute every KPI sample of one ticket (or of one ticket-less survey response).

    Events of a ticket whose `ticket_opened` has not arrived yet give no samples: they
    are held in the ticket state and counted once the open arrives.
    """
    ordered = sorted(events, key=_sort_key)
    surveys = [(i, e) for i, e in enumerate(ordered) if isinstance(e, Survey)]

    if not any(isinstance(e, TicketOpened) for e in ordered):
        ticketless = [(i, s) for i, s in surveys if s.ticket_id is None]
        return _survey_samples(ticketless, lambda _: (NO_CHANNEL, NO_TEAM))

    ticket = _Ticket.build(ordered)
    samples: list[Sample] = []
    samples.extend(_response_samples(ticket, options))
    samples.extend(_resolution_samples(ticket, options))
    samples.extend(_contact_samples(ticket, options))
    samples.extend(_service_level_samples(ticket, options))
    samples.extend(_survey_samples(surveys, ticket.where))
    return samples


def _qualifying_replies(ticket: _Ticket) -> list[int]:
    return [
        i for i, e in enumerate(ticket.ordered) if isinstance(e, FirstReply) and e.is_qualifying
    ]


def _response_samples(ticket: _Ticket, options: KpiOptions) -> list[Sample]:
    replies = _qualifying_replies(ticket)
    if not replies:
        return []

    first = replies[0]
    first_episode = ticket.episode_of[first]
    start_episode = first_episode if options.first_response_from == "episode" else 0
    samples = [
        _duration_sample(
            "first_response", "frt", ticket, first, ticket.starts[start_episode], options
        )
    ]

    # Each later episode (a reopen after a human had already replied) gives a response
    # after reopen from its own first qualifying reply.
    answered = {first_episode}
    for index in replies[1:]:
        episode = ticket.episode_of[index]
        if episode in answered or episode < first_episode:
            continue
        answered.add(episode)
        samples.append(
            _duration_sample(
                f"response_after_reopen:{episode}",
                "rar",
                ticket,
                index,
                ticket.starts[episode],
                options,
                business=False,
                target=False,
            )
        )
    return samples


def _resolution_samples(ticket: _Ticket, options: KpiOptions) -> list[Sample]:
    resolved = [
        i
        for i, e in enumerate(ticket.ordered)
        if isinstance(e, Resolved) and e.outcome is Outcome.RESOLVED
    ]
    if not resolved:
        return []
    opened = ticket.starts[0]
    first = _duration_sample("resolution", "res", ticket, resolved[0], opened, options)
    full = _duration_sample(
        "full_resolution", "fres", ticket, resolved[-1], opened, options,
        business=False, target=False,
    )
    if "anom.fres" in dict(full.counters):
        # The last resolution is below zero only when the first one is too, and that one
        # already counts the anomaly.
        return [first]
    return [first, full]


def _duration_sample(
    key: str,
    kpi: str,
    ticket: _Ticket,
    index: int,
    start: TicketOpened,
    options: KpiOptions,
    *,
    business: bool = True,
    target: bool = True,
) -> Sample:
    event = ticket.ordered[index]
    channel, team = ticket.where(index)
    elapsed_us = event.occurred_us - start.occurred_us
    if elapsed_us < 0:
        # Clocks of two systems disagree: count it, never average it in.
        return Sample(f"{key}:anomaly", event.occurred_us, channel, team, ((f"anom.{kpi}", 1),))

    counters = _duration_counters(f"{kpi}.cal", elapsed_us, weight=1)
    if target:
        target_name = "first_response_seconds" if kpi == "frt" else "resolution_seconds"
        target_us = _seconds_to_us(options.targets.target(target_name, channel=channel, team=team))
        counters.append((f"{kpi}.cal.met", int(elapsed_us <= target_us)))

    schedule = (
        options.business_hours.schedule_for(channel=channel, team=team)
        if business and options.business_hours is not None
        else None
    )
    if schedule is not None:
        seconds = schedule.business_seconds(start.occurred_at, event.occurred_at)
        counters += _duration_counters(f"{kpi}.bus", _seconds_to_us(seconds), weight=1)
    return Sample(key, event.occurred_us, channel, team, tuple(counters))


def _duration_counters(prefix: str, elapsed_us: int, *, weight: int) -> list[tuple[str, int]]:
    bucket = bucket_of(elapsed_us / US_PER_SECOND)
    return [
        (f"{prefix}.n", weight),
        (f"{prefix}.sum_us", elapsed_us * weight),
        (f"{prefix}.h{bucket}", weight),
    ]


def _contact_samples(ticket: _Ticket, options: KpiOptions) -> list[Sample]:
    """Abandonment, handle time, first contact resolution and no-touch per `resolved`."""
    replied_episodes: set[int] = set()
    samples = []
    for index, event in enumerate(ticket.ordered):
        episode = ticket.episode_of[index]
        if isinstance(event, FirstReply) and event.is_qualifying:
            replied_episodes.add(episode)
        if not isinstance(event, Resolved):
            continue

        abandoned = event.outcome is Outcome.ABANDONED
        counters: list[tuple[str, int]] = [("ab.n", 1), ("ab.yes", int(abandoned))]
        if not abandoned:
            touched = episode in replied_episodes
            if not touched:
                counters.append(("no_touch", 1))
            handle = event.total_handle_seconds
            if handle is not None:
                contacts = event.contacts or 1
                per_contact_us = _seconds_to_us(handle) // contacts
                counters += [
                    ("aht.n", contacts),
                    ("aht.sum_us", _seconds_to_us(handle)),
                    (f"aht.h{bucket_of(per_contact_us / US_PER_SECOND)}", contacts),
                ]
            counts_for_fcr = touched or options.no_touch_fcr == "not_fcr"
            if event.contacts is not None and counts_for_fcr:
                first_contact = event.contacts == 1 and touched and not _reopened_soon(
                    ticket, episode, event, options
                )
                counters += [("fcr.n", 1), ("fcr.yes", int(first_contact))]

        channel, team = ticket.where(index)
        key = f"contact:{event.event_id}"
        samples.append(Sample(key, event.occurred_us, channel, team, tuple(counters)))
    return samples


def _reopened_soon(ticket: _Ticket, episode: int, resolution: Resolved, options: KpiOptions) -> bool:
    if episode + 1 >= len(ticket.starts):
        return False
    gap_us = ticket.starts[episode + 1].occurred_us - resolution.occurred_us
    return gap_us <= options.reopen_period_us


def _service_level_samples(ticket: _Ticket, options: KpiOptions) -> list[Sample]:
    """The first episode's answered or abandoned outcome, on live channels only."""
    opened = ticket.starts[0]
    for index, event in enumerate(ticket.ordered):
        if ticket.episode_of[index] != 0:
            break
        channel, team = ticket.where(index)
        elapsed_us = event.occurred_us - opened.occurred_us
        if isinstance(event, FirstReply) and event.is_qualifying:
            if elapsed_us < 0:
                return []
            target_us = _seconds_to_us(
                options.targets.target("first_response_seconds", channel=channel, team=team)
            )
            outcome = "sl.in" if elapsed_us <= target_us else "sl.late"
        elif isinstance(event, Resolved) and event.outcome is Outcome.ABANDONED:
            if elapsed_us < 0:
                return []
            outcome = "sl.ab_short" if elapsed_us <= options.short_abandon_us else "sl.ab_long"
        else:
            continue
        # The channel as of the answer or abandonment decides, like every attribution.
        if channel not in options.service_level_channels:
            return []
        return [Sample("service_level", event.occurred_us, channel, team, ((outcome, 1),))]
    return []


def _survey_samples(
    surveys: list[tuple[int, Survey]], where: Callable[[int], tuple[str, str]]
) -> list[Sample]:
    # Of the answers sharing a response_id, the latest by event time counts; `surveys`
    # is in event order, so the last one wins.
    latest: dict[str, tuple[int, Survey]] = {}
    for index, survey in surveys:
        latest[survey.response_id or f"event:{survey.event_id}"] = (index, survey)

    samples = []
    for response, (index, survey) in latest.items():
        channel, team = where(index)
        counters = _score_counters(survey)
        samples.append(Sample(f"survey:{response}", survey.occurred_us, channel, team, counters))
    return samples


def _score_counters(survey: Survey) -> Counters:
    kind = survey.survey.value
    submissions = ((f"{kind}.sub", 1),)
    score = survey.score
    if score is None:
        return submissions

    if survey.survey is SurveyKind.CSAT:
        return submissions + (
            ("csat.n", 1),
            ("csat.sum", score),
            ("csat.top", int(score == 5)),
            ("csat.sat", int(score >= 4)),
        )
    if survey.survey is SurveyKind.CES:
        return submissions + (("ces.n", 1), ("ces.sum", score), ("ces.easy", int(score >= 5)))
    return submissions + (
        ("nps.n", 1),
        ("nps.sum", score),
        ("nps.pro", int(score >= 9)),
        ("nps.det", int(score <= 6)),
    )


def _seconds_to_us(seconds: float) -> int:
    return round(seconds * US_PER_SECOND)


def derive_live_status(events: Iterable[AnyEvent], options: KpiOptions) -> dict[str, object] | None:
    """Return the waiting state of a ticket that is open now, or None when it is closed.

    The state is JSON-compatible: channel `c` and team `t` as of the latest open,
    `episode_us` (start of the current episode), `opened_us` (first open), whether the
    current episode still awaits a human reply, and the targets that apply.
    """
    ordered = sorted(events, key=_sort_key)
    if not any(isinstance(e, TicketOpened) for e in ordered):
        return None
    ticket = _Ticket.build(ordered)
    last_episode = len(ticket.starts) - 1
    in_last = [i for i, episode in enumerate(ticket.episode_of) if episode == last_episode]
    if any(isinstance(ticket.ordered[i], Resolved) for i in in_last):
        return None

    replied = any(
        isinstance(ticket.ordered[i], FirstReply) and ticket.ordered[i].is_qualifying  # type: ignore[union-attr]
        for i in in_last
    )
    channel, team = ticket.where(len(ticket.ordered) - 1)
    targets = options.targets
    return {
        "c": channel,
        "t": team,
        "episode_us": ticket.starts[-1].occurred_us,
        "opened_us": ticket.starts[0].occurred_us,
        "awaiting_reply": not replied,
        "frt_target_s": targets.target("first_response_seconds", channel=channel, team=team),
        "res_target_s": targets.target("resolution_seconds", channel=channel, team=team),
    }
