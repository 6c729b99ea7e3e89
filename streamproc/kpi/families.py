"""KPI values computed from window counters, named as the exported metric families.

The worker's `/metrics` and the offline `streamproc kpis` command both call
`kpi_values`, so their output compares line by line. docs/kpi-definitions.md defines
each family.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from streamproc.kpi.sketch import maximum, percentile
from streamproc.kpi.targets import TARGET_KPIS, Targets

US_PER_SECOND = 1_000_000
# Two-sided 95 % normal quantile, for Wilson score intervals.
WILSON_Z = 1.959964
PERCENTILES = (("p50", 50), ("p90", 90), ("p95", 95))


@dataclass(frozen=True, slots=True)
class Family:
    """A gauge family: its name, help text and the labels beyond the dimension and period."""

    name: str
    help: str
    extra_labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration KPI: its family, counter prefix, sample-count name and clocks."""

    family: str
    prefix: str
    kpi: str
    help: str
    clocks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio KPI: successes over samples, both counters."""

    family: str
    successes: str
    samples: str
    kpi: str | None
    help: str


DURATIONS = (
    Duration("support_first_response_seconds", "frt", "first_response",
             "First response time: first human public reply minus the start of its episode.",
             ("cal", "bus")),
    Duration("support_response_after_reopen_seconds", "rar", "response_after_reopen",
             "First human public reply of a reopened episode minus the reopen.", ("cal",)),
    Duration("support_resolution_seconds", "res", "resolution",
             "Resolution time: first resolution minus the first open.", ("cal", "bus")),
    Duration("support_full_resolution_seconds", "fres", "full_resolution",
             "Full resolution time: last resolution minus the first open.", ("cal",)),
)
CLOCK_LABELS = {"cal": "calendar", "bus": "business"}

RATIOS = (
    Ratio("support_first_response_target_met_ratio", "frt.cal.met", "frt.cal.n", None,
          "Share of first responses at or under the first-response target."),
    Ratio("support_resolution_target_met_ratio", "res.cal.met", "res.cal.n", None,
          "Share of resolutions at or under the resolution-time target."),
    Ratio("support_abandonment_ratio", "ab.yes", "ab.n", "abandonment",
          "Share of contacts that ended abandoned."),
    Ratio("support_first_contact_resolution_ratio", "fcr.yes", "fcr.n", "first_contact_resolution",
          "Share of resolutions stating contacts that took one contact, had a human reply "
          "and no reopen within the reopen period."),
    Ratio("support_csat_top_box_ratio", "csat.top", "csat.n", None,
          "Share of rated CSAT responses that scored 5."),
    Ratio("support_csat_satisfied_ratio", "csat.sat", "csat.n", None,
          "Share of rated CSAT responses that scored 4 or 5."),
    Ratio("support_ces_easy_ratio", "ces.easy", "ces.n", None,
          "Share of rated CES responses that scored 5 to 7."),
)

FAMILIES: tuple[Family, ...] = (
    *(
        Family(d.family, d.help, ("clock", "stat") if len(d.clocks) > 1 else ("stat",))
        for d in DURATIONS
    ),
    Family("support_handle_seconds",
           "Average handling time: talk, hold and after-contact work over contacts handled.",
           ("stat",)),
    *(Family(r.family, r.help) for r in RATIOS),
    *(Family(r.family + "_lower", "Lower 95 % Wilson bound of " + r.family + ".") for r in RATIOS),
    *(Family(r.family + "_upper", "Upper 95 % Wilson bound of " + r.family + ".") for r in RATIOS),
    Family("support_csat_mean", "Mean CSAT score (1 to 5) of rated responses."),
    Family("support_ces_mean", "Mean CES score (1 to 7) of rated responses."),
    Family("support_nps",
           "Net Promoter Score: percent promoters (9-10) minus percent detractors (0-6), -100 to 100."),
    Family("support_no_touch_resolutions", "Resolutions with no human reply in their episode."),
    Family("support_survey_submissions", "Survey submissions, scored or not.", ("survey",)),
    Family("support_service_level_contacts",
           "First-episode outcomes on live channels: answered in target or late, abandoned "
           "within the short-abandon threshold or after it.", ("outcome",)),
    Family("support_kpi_anomalies", "Samples left out because their duration was negative.",
           ("kpi", "reason")),
    Family("support_kpi_samples", "Number of samples behind each KPI value.", ("kpi",)),
    Family("support_kpi_target", "Configured target of each KPI for a channel and team.", ("kpi",)),
)
FAMILY_BY_NAME = {family.name: family for family in FAMILIES}

SERVICE_LEVEL_OUTCOMES = (
    ("sl.in", "answered_in_target"),
    ("sl.late", "answered_late"),
    ("sl.ab_short", "abandoned_short"),
    ("sl.ab_long", "abandoned_long"),
)
ANOMALY_KPIS = (
    ("frt", "first_response"),
    ("rar", "response_after_reopen"),
    ("res", "resolution"),
    ("fres", "full_resolution"),
)


@dataclass(frozen=True, slots=True)
class KpiValue:
    """One exported value: family name, its full label set and the value."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    value: float


def wilson_interval(successes: int, total: int, z: float = WILSON_Z) -> tuple[float, float]:
    """Return the Wilson score interval of `successes` out of `total` (total > 0)."""
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    spread = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


def kpi_values(
    counters: dict[str, int], *, channel: str, team: str, period: tuple[str, str]
) -> list[KpiValue]:
    """Compute every KPI value that `counters` has samples for.

    `period` is the label that places the values in time: ("window", "1h") for a rolling
    window, ("bucket_start", "...") for a tumbling bucket. A KPI without samples yields
    nothing at all (no series), never a zero.
    """
    base = (("channel", channel), ("team", team), period)
    values: list[KpiValue] = []

    def emit(metric: str, value: float, *extra: tuple[str, str]) -> None:
        values.append(KpiValue(metric, base + extra, value))

    def count(name: str) -> int:
        return counters.get(name, 0)

    for duration in DURATIONS:
        for clock in duration.clocks:
            prefix = f"{duration.prefix}.{clock}"
            # Only families that also have business time carry the clock label.
            clock_label = ("clock", CLOCK_LABELS[clock]) if len(duration.clocks) > 1 else None
            n = count(f"{prefix}.n")
            if not n:
                continue
            mean = count(f"{prefix}.sum_us") / n / US_PER_SECOND
            emit(duration.family, mean, *((clock_label,) if clock_label else ()), ("stat", "mean"))
            _emit_distribution(emit, counters, f"{prefix}.h", duration.family, clock_label)
            if clock == "cal":
                emit("support_kpi_samples", n, ("kpi", duration.kpi))

    aht_n = count("aht.n")
    if aht_n:
        emit("support_handle_seconds", count("aht.sum_us") / aht_n / US_PER_SECOND, ("stat", "mean"))
        _emit_distribution(emit, counters, "aht.h", "support_handle_seconds", None)
        emit("support_kpi_samples", aht_n, ("kpi", "handle"))

    for ratio in RATIOS:
        n = count(ratio.samples)
        if not n:
            continue
        successes = count(ratio.successes)
        lower, upper = wilson_interval(successes, n)
        emit(ratio.family, successes / n)
        emit(ratio.family + "_lower", lower)
        emit(ratio.family + "_upper", upper)
        if ratio.kpi is not None:
            emit("support_kpi_samples", n, ("kpi", ratio.kpi))

    _emit_surveys(emit, count)

    for counter, outcome in SERVICE_LEVEL_OUTCOMES:
        if count(counter):
            emit("support_service_level_contacts", count(counter), ("outcome", outcome))
    for prefix, kpi in ANOMALY_KPIS:
        if count(f"anom.{prefix}"):
            emit("support_kpi_anomalies", count(f"anom.{prefix}"), ("kpi", kpi), ("reason", "negative_duration"))
    if count("no_touch"):
        emit("support_no_touch_resolutions", count("no_touch"))
    return values


def _emit_distribution(emit, counters: dict[str, int], prefix: str, family: str, clock_label) -> None:  # type: ignore[no-untyped-def]
    histogram = {name[len(prefix):]: value for name, value in counters.items() if name.startswith(prefix) and value}
    extra = (clock_label,) if clock_label else ()
    for stat, percent in PERCENTILES:
        value = percentile(histogram, percent)
        if value is not None:
            emit(family, value, *extra, ("stat", stat))
    top = maximum(histogram)
    if top is not None:
        emit(family, top, *extra, ("stat", "max"))


def _emit_surveys(emit, count) -> None:  # type: ignore[no-untyped-def]
    csat_n = count("csat.n")
    if csat_n:
        emit("support_csat_mean", count("csat.sum") / csat_n)
        emit("support_kpi_samples", csat_n, ("kpi", "csat"))
    ces_n = count("ces.n")
    if ces_n:
        emit("support_ces_mean", count("ces.sum") / ces_n)
        emit("support_kpi_samples", ces_n, ("kpi", "ces"))
    nps_n = count("nps.n")
    if nps_n:
        emit("support_nps", 100 * (count("nps.pro") - count("nps.det")) / nps_n)
        emit("support_kpi_samples", nps_n, ("kpi", "nps"))
    for survey in ("csat", "ces", "nps"):
        if count(f"{survey}.sub"):
            emit("support_survey_submissions", count(f"{survey}.sub"), ("survey", survey))


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
