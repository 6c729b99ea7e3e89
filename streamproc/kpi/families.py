"""KPI values computed from window counters, named as the exported metric families.

The worker's `/metrics` and the offline `streamproc kpis` command both call
`kpi_values`, so their output compares line by line.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Iterable

from streamproc.kpi.aggregate import CounterMap
from streamproc.kpi.targets import TARGET_KPIS, Targets

US_PER_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class Family:
    """A gauge family: its name, help text and the labels beyond channel, team and window."""

    name: str
    help: str
    extra_labels: tuple[str, ...] = ()


FAMILIES: tuple[Family, ...] = (
    Family("support_first_response_seconds", "First response time: first human public reply minus ticket open, by stat.", ("stat",)),
    Family("support_first_response_target_met_ratio", "Share of first responses within the first-response target."),
    Family("support_resolution_seconds", "Resolution time: first resolution minus ticket open, by stat.", ("stat",)),
    Family("support_resolution_target_met_ratio", "Share of resolutions within the resolution-time target."),
    Family("support_handle_seconds", "Average handling time: talk, hold and after-contact work over contacts handled.", ("stat",)),
    Family("support_abandonment_ratio", "Share of contacts that ended abandoned."),
    Family("support_first_contact_resolution_ratio", "Share of resolutions that took one customer contact, of those that state contacts."),
    Family("support_csat_mean", "Mean CSAT score (1 to 5) of rated responses."),
    Family("support_csat_top_box_ratio", "Share of rated CSAT responses that scored 5."),
    Family("support_csat_satisfied_ratio", "Share of rated CSAT responses that scored 4 or 5."),
    Family("support_ces_mean", "Mean CES score (1 to 7) of rated responses."),
    Family("support_ces_easy_ratio", "Share of rated CES responses that scored 5 to 7."),
    Family("support_nps", "Net Promoter Score: percent promoters (9-10) minus percent detractors (0-6), -100 to 100."),
    Family("support_kpi_samples", "Number of samples behind each KPI value.", ("kpi",)),
    Family("support_kpi_target", "Configured target of each KPI for a channel and team.", ("kpi",)),
)
FAMILY_BY_NAME = {family.name: family for family in FAMILIES}


@dataclass(frozen=True, slots=True)
class KpiValue:
    """One exported value: family name, its full label set and the value."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    value: float


def kpi_values(counters: CounterMap, *, channel: str, team: str, window: str) -> list[KpiValue]:
    """Compute every KPI value that `counters` has samples for.

    A KPI without samples yields nothing at all (no series), never a zero.
    """
    base = (("channel", channel), ("team", team), ("window", window))
    values: list[KpiValue] = []

    def emit(metric: str, value: float, *extra: tuple[str, str]) -> None:
        values.append(KpiValue(metric, base + extra, value))

    def count(name: str) -> int:
        return counters.get(name, 0)

    frt_n = count("frt_n")
    if frt_n:
        emit("support_first_response_seconds", count("frt_sum_us") / frt_n / US_PER_SECOND, ("stat", "mean"))
        emit("support_first_response_target_met_ratio", count("frt_met") / frt_n)
        emit("support_kpi_samples", frt_n, ("kpi", "first_response"))

    res_n = count("res_n")
    if res_n:
        emit("support_resolution_seconds", count("res_sum_us") / res_n / US_PER_SECOND, ("stat", "mean"))
        emit("support_resolution_target_met_ratio", count("res_met") / res_n)
        emit("support_kpi_samples", res_n, ("kpi", "resolution"))

    aht_contacts = count("aht_contacts")
    if aht_contacts:
        emit("support_handle_seconds", count("aht_sum_us") / aht_contacts / US_PER_SECOND, ("stat", "mean"))
        emit("support_kpi_samples", aht_contacts, ("kpi", "handle"))

    contacts_n = count("contacts_n")
    if contacts_n:
        emit("support_abandonment_ratio", count("abandoned_n") / contacts_n)
        emit("support_kpi_samples", contacts_n, ("kpi", "abandonment"))

    fcr_n = count("fcr_n")
    if fcr_n:
        emit("support_first_contact_resolution_ratio", count("fcr_yes") / fcr_n)
        emit("support_kpi_samples", fcr_n, ("kpi", "first_contact_resolution"))

    csat_n = count("csat_n")
    if csat_n:
        emit("support_csat_mean", count("csat_sum") / csat_n)
        emit("support_csat_top_box_ratio", count("csat_top") / csat_n)
        emit("support_csat_satisfied_ratio", count("csat_sat") / csat_n)
        emit("support_kpi_samples", csat_n, ("kpi", "csat"))

    ces_n = count("ces_n")
    if ces_n:
        emit("support_ces_mean", count("ces_sum") / ces_n)
        emit("support_ces_easy_ratio", count("ces_easy") / ces_n)
        emit("support_kpi_samples", ces_n, ("kpi", "ces"))

    nps_n = count("nps_n")
    if nps_n:
        emit("support_nps", 100 * (count("nps_promoters") - count("nps_detractors")) / nps_n)
        emit("support_kpi_samples", nps_n, ("kpi", "nps"))

    return values


def target_values(targets: Targets, pairs: Iterable[tuple[str, str]]) -> list[KpiValue]:
    """Return `support_kpi_target` for every KPI and each (channel, team) pair given.

    Pairs with channel `all` take the team's or the default target, because the
    per-channel targets differ and have no single total.
    """
    values = []
    for channel, team in sorted(set(pairs)):
        for kpi in TARGET_KPIS:
            target = targets.target(kpi, channel=channel, team=team)
            labels = (("channel", channel), ("team", team), ("kpi", kpi))
            values.append(KpiValue("support_kpi_target", labels, target))
    return values
