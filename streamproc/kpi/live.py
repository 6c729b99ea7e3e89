"""Live signals that do not wait for a completed sample, and processing-time observations.

Completed-sample KPIs go silent exactly when service fails: if nobody answers, no first
response is ever recorded. The live gauges count open and waiting tickets from the
per-ticket state instead. Each worker reports the tickets of the partitions it owns, so
across workers the counts add up (`sum`) and the oldest ages combine with `max`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streamproc.kpi.families import KpiValue
from streamproc.kpi.ledger import ALL
from streamproc.kpi.samples import Sample

US_PER_SECOND = 1_000_000

# Bucket edges of the processing-time histograms, in seconds: they sit on the usual
# targets (30 s chat, 6 min handle time, 1 h email, 24 h resolution) so the share within
# a target is one PromQL expression.
HISTOGRAM_EDGES = (
    15, 30, 60, 90, 120, 300, 360, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400,
    172800, 432000,
)

LIVE_FAMILIES = {
    "support_open_tickets": "Tickets open now (not resolved since their latest open).",
    "support_awaiting_first_response_tickets":
        "Open tickets whose current episode has no human public reply yet.",
    "support_oldest_awaiting_first_response_seconds":
        "Age of the oldest open ticket still waiting for a human reply in its current episode.",
    "support_awaiting_first_response_over_target_tickets":
        "Tickets waiting for a human reply for longer than the first-response target.",
    "support_oldest_awaiting_resolution_seconds": "Age since first open of the oldest open ticket.",
    "support_awaiting_resolution_over_target_tickets":
        "Open tickets older than the resolution-time target.",
}


@dataclass(slots=True)
class _Live:
    open: int = 0
    awaiting: int = 0
    awaiting_over: int = 0
    oldest_awaiting_us: int | None = None
    resolution_over: int = 0
    oldest_open_us: int | None = None


def live_values(
    statuses: Iterable[dict[str, Any]], *, now_us: int, pairs: Iterable[tuple[str, str]] = ()
) -> list[KpiValue]:
    """Aggregate the live status of open tickets per channel and team, with `all` rollups.

    `now_us` is the moment ages are measured against: the event-time clock, or wall
    time for a worker that runs live. `pairs` adds dimensions that report zero counts.
    """
    totals: dict[tuple[str, str], _Live] = {pair: _Live() for pair in pairs}
    for status in statuses:
        channel, team = status["c"], status["t"]
        for pair in ((channel, team), (channel, ALL), (ALL, team), (ALL, ALL)):
            _add(totals.setdefault(pair, _Live()), status, now_us)

    values: list[KpiValue] = []
    for (channel, team), live in sorted(totals.items()):
        labels = (("channel", channel), ("team", team))

        def emit(metric: str, value: float) -> None:
            values.append(KpiValue(metric, labels, value))

        emit("support_open_tickets", live.open)
        emit("support_awaiting_first_response_tickets", live.awaiting)
        emit("support_awaiting_first_response_over_target_tickets", live.awaiting_over)
        emit("support_awaiting_resolution_over_target_tickets", live.resolution_over)
        if live.oldest_awaiting_us is not None:
            emit("support_oldest_awaiting_first_response_seconds", live.oldest_awaiting_us / US_PER_SECOND)
        if live.oldest_open_us is not None:
            emit("support_oldest_awaiting_resolution_seconds", live.oldest_open_us / US_PER_SECOND)
    return values


def _add(live: _Live, status: dict[str, Any], now_us: int) -> None:
    open_age = max(0, now_us - status["opened_us"])
    live.open += 1
    live.oldest_open_us = max(live.oldest_open_us or 0, open_age)
    if open_age > status["res_target_s"] * US_PER_SECOND:
        live.resolution_over += 1
    if status["awaiting_reply"]:
        waiting = max(0, now_us - status["episode_us"])
        live.awaiting += 1
        live.oldest_awaiting_us = max(live.oldest_awaiting_us or 0, waiting)
        if waiting > status["frt_target_s"] * US_PER_SECOND:
            live.awaiting_over += 1


@dataclass(frozen=True, slots=True)
class Observation:
    """One processing-time increment: a histogram observation or a counter step."""

    metric: str
    channel: str
    team: str
    value: float = 1.0
    weight: int = 1
    extra: tuple[tuple[str, str], ...] = field(default=())


def observations(samples: Iterable[Sample]) -> list[Observation]:
    """Turn samples seen for the first time into histogram and counter increments."""
    result: list[Observation] = []
    for sample in samples:
        counters = dict(sample.counters)
        where = (sample.channel, sample.team)
        if sample.key == "first_response" and "frt.cal.n" in counters:
            seconds = counters["frt.cal.sum_us"] / US_PER_SECOND
            result.append(Observation("support_first_response_duration_seconds", *where, seconds))
        elif sample.key == "resolution" and "res.cal.n" in counters:
            seconds = counters["res.cal.sum_us"] / US_PER_SECOND
            result.append(Observation("support_resolution_duration_seconds", *where, seconds))
        elif sample.key.startswith("contact:"):
            result.extend(_contact_observations(counters, where))
        elif sample.key.startswith("survey:"):
            result.extend(_survey_observations(counters, where))
    return result


def _contact_observations(counters: dict[str, int], where: tuple[str, str]) -> list[Observation]:
    result = []
    contacts = counters.get("aht.n", 0)
    if contacts:
        per_contact = counters["aht.sum_us"] / contacts / US_PER_SECOND
        result.append(
            Observation("support_handle_duration_seconds", *where, per_contact, weight=contacts)
        )
    if counters.get("fcr.n"):
        first_contact = "yes" if counters.get("fcr.yes") else "no"
        result.append(
            Observation("support_resolutions_total", *where, extra=(("first_contact", first_contact),))
        )
    return result


def _survey_observations(counters: dict[str, int], where: tuple[str, str]) -> list[Observation]:
    for survey in ("csat", "ces", "nps"):
        if f"{survey}.sub" not in counters:
            continue
        score = str(counters[f"{survey}.sum"]) if f"{survey}.n" in counters else "none"
        extra = (("survey", survey), ("score", score))
        return [Observation("support_survey_responses_total", *where, extra=extra)]
    return []
