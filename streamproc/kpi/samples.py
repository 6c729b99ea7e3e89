"""KPI samples derived from one ticket's events.

A ticket's samples are a pure function of the set of its events, never of their arrival
order: every new event recomputes them, and the aggregates apply the difference. That is
what makes out-of-order delivery, held events and redelivery exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streamproc.events import (
    AnyEvent,
    FirstReply,
    Outcome,
    Resolved,
    Survey,
    SurveyKind,
    TicketOpened,
)
from streamproc.kpi.targets import Targets

NO_TEAM = "none"
NO_CHANNEL = "none"
US_PER_SECOND = 1_000_000

Counters = tuple[tuple[str, int], ...]


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


def _sort_key(event: AnyEvent) -> tuple[int, str]:
    # Ties on event time are broken by event_id so the result never depends on arrival order.
    return (event.occurred_us, event.event_id)


def derive_samples(events: Iterable[AnyEvent], targets: Targets) -> list[Sample]:
    """Compute every KPI sample of one ticket (or of one ticket-less survey response).

    Events of a ticket whose `ticket_opened` has not arrived yet give no samples: they
    are held in the ticket state and counted once the open arrives.
    """
    ordered = sorted(events, key=_sort_key)
    opens = [e for e in ordered if isinstance(e, TicketOpened)]
    surveys = [e for e in ordered if isinstance(e, Survey)]

    if not opens:
        ticketless = [s for s in surveys if s.ticket_id is None]
        return _survey_samples(ticketless, channel=NO_CHANNEL, team=NO_TEAM)

    opened = opens[0]
    channel = opened.channel.value
    team = opened.team or NO_TEAM
    samples: list[Sample] = []
    samples.extend(_first_response_samples(ordered, opened, targets, channel, team))
    samples.extend(_resolution_samples(ordered, opened, targets, channel, team))
    samples.extend(_survey_samples(surveys, channel=channel, team=team))
    return samples


def _first_response_samples(
    ordered: list[AnyEvent], opened: TicketOpened, targets: Targets, channel: str, team: str
) -> list[Sample]:
    replies = [e for e in ordered if isinstance(e, FirstReply) and e.is_qualifying]
    if not replies:
        return []
    reply = replies[0]
    elapsed_us = reply.occurred_us - opened.occurred_us
    if elapsed_us < 0:
        return [_anomaly("frt", reply, channel, team)]
    target_us = _seconds_to_us(targets.target("first_response_seconds", channel=channel, team=team))
    counters = (
        ("frt_n", 1),
        ("frt_sum_us", elapsed_us),
        ("frt_met", int(elapsed_us <= target_us)),
    )
    return [Sample("frt", reply.occurred_us, channel, team, counters)]


def _resolution_samples(
    ordered: list[AnyEvent], opened: TicketOpened, targets: Targets, channel: str, team: str
) -> list[Sample]:
    samples: list[Sample] = []
    resolutions = [e for e in ordered if isinstance(e, Resolved)]
    first_resolved = next((r for r in resolutions if r.outcome is Outcome.RESOLVED), None)

    if first_resolved is not None:
        elapsed_us = first_resolved.occurred_us - opened.occurred_us
        if elapsed_us < 0:
            samples.append(_anomaly("res", first_resolved, channel, team))
        else:
            target_us = _seconds_to_us(
                targets.target("resolution_seconds", channel=channel, team=team)
            )
            counters = (
                ("res_n", 1),
                ("res_sum_us", elapsed_us),
                ("res_met", int(elapsed_us <= target_us)),
            )
            samples.append(Sample("res", first_resolved.occurred_us, channel, team, counters))

    for resolution in resolutions:
        samples.append(_contact_sample(resolution, channel, team))
    return samples


def _contact_sample(resolution: Resolved, channel: str, team: str) -> Sample:
    """Abandonment, handle time and first contact resolution of one `resolved` event."""
    abandoned = resolution.outcome is Outcome.ABANDONED
    counters: list[tuple[str, int]] = [("contacts_n", 1), ("abandoned_n", int(abandoned))]

    if not abandoned:
        handle = resolution.total_handle_seconds
        if handle is not None:
            counters += [
                ("aht_n", 1),
                ("aht_sum_us", _seconds_to_us(handle)),
                ("aht_contacts", resolution.contacts or 1),
            ]
        if resolution.contacts is not None:
            counters += [("fcr_n", 1), ("fcr_yes", int(resolution.contacts == 1))]

    key = f"contact:{resolution.event_id}"
    return Sample(key, resolution.occurred_us, channel, team, tuple(counters))


def _survey_samples(surveys: list[Survey], *, channel: str, team: str) -> list[Sample]:
    # Of the answers sharing a response_id, the latest by event time counts.
    latest: dict[str, Survey] = {}
    for survey in surveys:
        response = survey.response_id or f"event:{survey.event_id}"
        latest[response] = survey  # `surveys` is sorted, so the last one wins

    samples = []
    for response, survey in latest.items():
        counters = _score_counters(survey)
        samples.append(Sample(f"survey:{response}", survey.occurred_us, channel, team, counters))
    return samples


def _score_counters(survey: Survey) -> Counters:
    kind = survey.survey
    prefix = kind.value
    submissions = ((f"{prefix}_submissions", 1),)
    score = survey.score
    if score is None:
        return submissions

    if kind is SurveyKind.CSAT:
        return submissions + (
            ("csat_n", 1),
            ("csat_sum", score),
            ("csat_top", int(score == 5)),
            ("csat_sat", int(score >= 4)),
        )
    if kind is SurveyKind.CES:
        return submissions + (("ces_n", 1), ("ces_sum", score), ("ces_easy", int(score >= 5)))
    return submissions + (
        ("nps_n", 1),
        ("nps_promoters", int(score >= 9)),
        ("nps_detractors", int(score <= 6)),
    )


def _anomaly(kind: str, event: AnyEvent, channel: str, team: str) -> Sample:
    # A negative duration means skewed clocks between systems: it is counted, never averaged.
    return Sample(f"anomaly:{kind}", event.occurred_us, channel, team, (("anomalies", 1),))


def _seconds_to_us(seconds: float) -> int:
    return round(seconds * US_PER_SECOND)
