"""Brute-force reference of the KPI definitions in docs/kpi-definitions.md, for tests.

It shares no code with the streaming path: each ticket's samples come from its whole
deduplicated event set, and every window is summed from scratch at the final clock.
Values are exact (fractions of microseconds, nearest-rank percentiles), so a test can
hold the streaming histograms to their stated error bound.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

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

Key = tuple[str, frozenset[tuple[str, str]]]

US_PER_SECOND = 1_000_000
WILSON_Z = 1.959964
ALL = "all"
NONE = "none"

# Tie-break of simultaneous events of one ticket: the reply counts before a resolution.
TYPE_RANK = {TicketOpened: 0, FirstReply: 1, Resolved: 2, Survey: 3}

# stat label -> nearest-rank percentile in percent (None for the mean and max).
PERCENTILES = {"p50": 50, "p90": 90, "p95": 95}

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_US = {
    "ms": 1_000,
    "s": US_PER_SECOND,
    "m": 60 * US_PER_SECOND,
    "h": 3_600 * US_PER_SECOND,
    "d": 86_400 * US_PER_SECOND,
    "w": 604_800 * US_PER_SECOND,
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One KPI sample of one ticket, at its event time, under its channel and team.

    `value` is in seconds (durations, handle time) or a score, `success` is the yes/no
    part of a ratio, and `label` is the outcome, survey kind or anomaly KPI of a count.
    """

    kind: str
    occurred_us: int
    channel: str
    team: str
    value: Fraction | None = None
    success: bool = False
    business: Fraction | None = None
    contacts: int = 1
    label: str = ""


@dataclass(frozen=True, slots=True)
class Options:
    """The settings that change a definition, in microseconds where they are durations."""

    targets: Targets
    reopen_period_us: int
    short_abandon_us: int
    service_level_channels: frozenset[str]
    business_hours: Any
    first_response_from: str
    no_touch_fcr: str


def parse_duration_us(text: str) -> int:
    """Parse `<whole number><unit>` (ms, s, m, h, d, w) into microseconds."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(
            f"invalid duration {text!r}: use a positive whole number and a unit, such as 7d"
        )
    return int(match.group(1)) * _UNIT_US[match.group(2)]


def oracle_values(
    events: Iterable[AnyEvent],
    *,
    targets: Targets,
    windows: Sequence[str],
    buckets_per_window: int = 60,
    reopen_period: str = "7d",
    short_abandon: str = "5s",
    service_level_channels: Sequence[str] = ("phone", "chat"),
    business_hours: Any = None,
    first_response_from: str = "episode",
    no_touch_fcr: str = "not_fcr",
) -> dict[Key, float]:
    """Compute every exported KPI value (all but `support_kpi_target`) at the final clock.

    The clock is the latest `occurred_at` of all events, held ones included.
    `first_response_from` is `episode` or `open`, `no_touch_fcr` is `not_fcr` or
    `excluded`, as the settings of the same names.
    """
    if first_response_from not in ("episode", "open"):
        raise ValueError(
            f"invalid first_response_from {first_response_from!r}: use episode or open"
        )
    if no_touch_fcr not in ("not_fcr", "excluded"):
        raise ValueError(f"invalid no_touch_fcr {no_touch_fcr!r}: use not_fcr or excluded")
    options = Options(
        targets=targets,
        reopen_period_us=parse_duration_us(reopen_period),
        short_abandon_us=parse_duration_us(short_abandon),
        service_level_channels=frozenset(service_level_channels),
        business_hours=business_hours,
        first_response_from=first_response_from,
        no_touch_fcr=no_touch_fcr,
    )
    unique = _deduplicate(events)
    if not unique:
        return {}
    clock_us = max(event.occurred_us for event in unique)

    samples = derive_all_samples(unique, options)

    result: dict[Key, float] = {}
    for name in windows:
        length_us = parse_duration_us(name)
        if length_us % buckets_per_window:
            raise ValueError(
                f"window {name!r} does not split into {buckets_per_window} whole-microsecond"
                " buckets; pick a length divisible by that count"
            )
        inside = window_samples(
            samples, length_us // buckets_per_window, buckets_per_window, clock_us
        )
        for (channel, team), members in _rollups(inside).items():
            base = {"channel": channel, "team": team, "window": name.strip()}
            for metric, extra, value in family_values(members):
                result[(metric, frozenset({**base, **extra}.items()))] = value
    return result


def _deduplicate(events: Iterable[AnyEvent]) -> list[AnyEvent]:
    # The first delivery of an event_id counts; event ids are unique per logical event.
    seen: dict[str, AnyEvent] = {}
    for event in events:
        seen.setdefault(event.event_id, event)
    return list(seen.values())


def derive_all_samples(events: list[AnyEvent], options: Options) -> list[Sample]:
    """Group events by ticket (ticket-less surveys apart) and derive every sample."""
    tickets: dict[str, list[AnyEvent]] = {}
    ticketless: list[Survey] = []
    for event in events:
        if event.ticket_id is None:
            assert isinstance(event, Survey)
            ticketless.append(event)
        else:
            tickets.setdefault(event.ticket_id, []).append(event)

    samples = _survey_samples(ticketless, attribution=lambda _: (NONE, NONE))
    for ticket_events in tickets.values():
        samples.extend(ticket_samples(ticket_events, options))
    return samples


def order_key(event: AnyEvent) -> tuple[int, int, str]:
    """Order of one ticket's events: event time, then type, then event_id."""
    return (event.occurred_us, TYPE_RANK[type(event)], event.event_id)


def ticket_samples(events: list[AnyEvent], options: Options) -> list[Sample]:
    """Derive every sample of one ticket from its complete event set."""
    ordered = sorted(events, key=order_key)
    opens = [i for i, e in enumerate(ordered) if isinstance(e, TicketOpened)]
    if not opens:
        return []  # held until the ticket's open arrives

    episode_of, starts = _episodes(ordered)
    ticket = _Ticket(ordered, episode_of, starts, opens, options)
    samples: list[Sample] = []
    samples += ticket.first_response_samples()
    samples += ticket.resolution_samples()
    samples += ticket.contact_samples()
    samples += ticket.service_level_samples()
    surveys = [e for e in ordered if isinstance(e, Survey)]
    samples += _survey_samples(surveys, attribution=ticket.attribution_of_event)
    return samples


def _episodes(ordered: list[AnyEvent]) -> tuple[list[int], list[int]]:
    """Return each event's episode index and each episode's starting event index.

    Events before the first open belong to episode 0. A resolution stamped before the
    first open does not close episode 0, because that episode had not started yet.
    """
    episode_of: list[int] = []
    starts: list[int] = []
    resolved_in_current = False
    for index, event in enumerate(ordered):
        if isinstance(event, TicketOpened):
            if not starts or resolved_in_current:
                starts.append(index)
                resolved_in_current = False
        elif isinstance(event, Resolved) and starts:
            resolved_in_current = True
        episode_of.append(max(len(starts) - 1, 0))
    return episode_of, starts


class _Ticket:
    """One ticket's ordered events with their episodes, and the rules that read them."""

    def __init__(
        self,
        ordered: list[AnyEvent],
        episode_of: list[int],
        starts: list[int],
        opens: list[int],
        options: Options,
    ) -> None:
        self.ordered = ordered
        self.episode_of = episode_of
        self.starts = starts
        self.opens = opens
        self.options = options
        self.replies = [
            i for i, e in enumerate(ordered) if isinstance(e, FirstReply) and e.is_qualifying
        ]
        self.resolutions = [i for i, e in enumerate(ordered) if isinstance(e, Resolved)]

    def time(self, index: int) -> int:
        return self.ordered[index].occurred_us

    def attribution(self, index: int) -> tuple[str, str]:
        """Channel and team of the latest open at or before event `index`, else the first open."""
        earlier = [i for i in self.opens if i <= index]
        opened = self.ordered[earlier[-1] if earlier else self.opens[0]]
        assert isinstance(opened, TicketOpened)
        return opened.channel.value, opened.team or NONE

    def attribution_of_event(self, event: AnyEvent) -> tuple[str, str]:
        return self.attribution(self.ordered.index(event))

    def sample(self, kind: str, index: int, **fields: Any) -> Sample:
        channel, team = self.attribution(index)
        return Sample(kind, self.time(index), channel, team, **fields)

    def target_us(self, kpi: str, index: int) -> Fraction:
        channel, team = self.attribution(index)
        return (
            Fraction(self.options.targets.target(kpi, channel=channel, team=team)) * US_PER_SECOND
        )

    def business(self, start: int, end: int) -> Fraction | None:
        """Business seconds between events `start` and `end` under the end's schedule, if any."""
        config = self.options.business_hours
        if config is None:
            return None
        channel, team = self.attribution(end)
        schedule = config.schedule_for(channel=channel, team=team)
        if schedule is None:
            return None
        seconds = schedule.business_seconds(
            self.ordered[start].occurred_at, self.ordered[end].occurred_at
        )
        return Fraction(seconds)

    def duration(self, kind: str, start: int, end: int, *, target: str | None) -> Sample:
        """A duration sample from event `start` to event `end`, or its anomaly when negative."""
        elapsed_us = self.time(end) - self.time(start)
        if elapsed_us < 0:
            return self.sample("anomaly", end, label=kind)
        met = target is not None and elapsed_us <= self.target_us(target, end)
        business = self.business(start, end) if kind in ("first_response", "resolution") else None
        value = Fraction(elapsed_us, US_PER_SECOND)
        return self.sample(kind, end, value=value, success=met, business=business)

    def replies_in(self, episode: int) -> list[int]:
        return [i for i in self.replies if self.episode_of[i] == episode]

    def first_response_samples(self) -> list[Sample]:
        if not self.replies:
            return []
        first = self.replies[0]
        episode = self.episode_of[first]
        start = (
            self.starts[episode] if self.options.first_response_from == "episode" else self.opens[0]
        )
        samples = [self.duration("first_response", start, first, target="first_response_seconds")]
        for later in range(episode + 1, len(self.starts)):
            replies = self.replies_in(later)
            if replies:
                samples.append(
                    self.duration(
                        "response_after_reopen", self.starts[later], replies[0], target=None
                    )
                )
        return samples

    def resolution_samples(self) -> list[Sample]:
        done = [i for i in self.resolutions if self._outcome(i) is Outcome.RESOLVED]
        if not done:
            return []
        first_open = self.opens[0]
        samples = [self.duration("resolution", first_open, done[0], target="resolution_seconds")]
        # The last resolution is below zero only when the first one is too, and that one
        # already counts the anomaly.
        if self.time(done[-1]) >= self.time(first_open):
            samples.append(self.duration("full_resolution", first_open, done[-1], target=None))
        return samples

    def _outcome(self, index: int) -> Outcome:
        event = self.ordered[index]
        assert isinstance(event, Resolved)
        return event.outcome

    def contact_samples(self) -> list[Sample]:
        """Abandonment, handle time, first contact resolution and no-touch, per `resolved`."""
        samples: list[Sample] = []
        for index in self.resolutions:
            event = self.ordered[index]
            assert isinstance(event, Resolved)
            abandoned = event.outcome is Outcome.ABANDONED
            samples.append(self.sample("abandonment", index, success=abandoned))
            if abandoned:
                continue

            handle = event.total_handle_seconds
            if handle is not None:
                samples.append(
                    self.sample(
                        "handle", index, value=Fraction(handle), contacts=event.contacts or 1
                    )
                )
            touched = self._reply_before_in_episode(index)
            counts_for_fcr = touched or self.options.no_touch_fcr == "not_fcr"
            if event.contacts is not None and counts_for_fcr:
                one_contact = event.contacts == 1 and touched and not self._reopened_after(index)
                samples.append(self.sample("first_contact_resolution", index, success=one_contact))
            if not touched:
                samples.append(self.sample("no_touch", index))
        return samples

    def _reply_before_in_episode(self, index: int) -> bool:
        episode = self.episode_of[index]
        return any(i < index and self.episode_of[i] == episode for i in self.replies)

    def _reopened_after(self, index: int) -> bool:
        period = self.options.reopen_period_us
        return any(
            start > index and self.time(start) - self.time(index) <= period
            for start in self.starts[1:]
        )

    def service_level_samples(self) -> list[Sample]:
        """The first episode's outcome: answered in target or late, abandoned short or long."""
        candidates = [
            i
            for i in sorted(self.replies + self.resolutions)
            if self.episode_of[i] == 0
            and (i in self.replies or self._outcome(i) is Outcome.ABANDONED)
        ]
        if not candidates:
            return []
        index = candidates[0]
        channel, _ = self.attribution(index)
        if channel not in self.options.service_level_channels:
            return []
        # NOTE: the definitions leave the outcome of a negative duration open; here it gives none.
        elapsed_us = self.time(index) - self.time(self.opens[0])
        if elapsed_us < 0:
            return []

        if index in self.replies:
            in_target = elapsed_us <= self.target_us("first_response_seconds", index)
            outcome = "answered_in_target" if in_target else "answered_late"
        else:
            short = elapsed_us <= self.options.short_abandon_us
            outcome = "abandoned_short" if short else "abandoned_long"
        return [self.sample("service_level", index, label=outcome)]


def _survey_samples(surveys: list[Survey], *, attribution: Any) -> list[Sample]:
    """One sample per response: the answer with the latest occurred_at, then event_id."""
    latest: dict[str, Survey] = {}
    for survey in surveys:
        response = "id:" + survey.response_id if survey.response_id else "event:" + survey.event_id
        best = latest.get(response)
        if best is None or (survey.occurred_us, survey.event_id) > (
            best.occurred_us,
            best.event_id,
        ):
            latest[response] = survey

    samples = []
    for survey in latest.values():
        channel, team = attribution(survey)
        score = None if survey.score is None else Fraction(survey.score)
        samples.append(Sample(survey.survey.value, survey.occurred_us, channel, team, value=score))
    return samples


def window_samples(
    samples: list[Sample], bucket_us: int, buckets: int, clock_us: int
) -> list[Sample]:
    """Keep the samples whose bucket start lies in the window's bucket range at the clock."""
    last = clock_us // bucket_us * bucket_us
    first = last - (buckets - 1) * bucket_us
    return [s for s in samples if first <= s.occurred_us // bucket_us * bucket_us <= last]


def _rollups(samples: list[Sample]) -> dict[tuple[str, str], list[Sample]]:
    groups: dict[tuple[str, str], list[Sample]] = {}
    for sample in samples:
        for pair in {
            (sample.channel, sample.team),
            (sample.channel, ALL),
            (ALL, sample.team),
            (ALL, ALL),
        }:
            groups.setdefault(pair, []).append(sample)
    return groups


def nearest_rank(
    values: list[Fraction], percent: int, weights: list[int] | None = None
) -> Fraction:
    """Return the value of rank ceil(percent/100 * n) of the sorted values.

    With `weights`, each value counts as that many samples and n is their sum.
    """
    counted = weights or [1] * len(values)
    total = sum(counted)
    rank = -(-percent * total // 100)
    seen = 0
    for value, weight in sorted(zip(values, counted)):
        seen += weight
        if seen >= rank:
            return value
    raise ValueError("nearest_rank needs at least one value with a positive weight")


def wilson_bounds(successes: int, total: int) -> tuple[float, float]:
    """Return the 95 % Wilson score interval of `successes` out of `total`."""
    share = successes / total
    z2 = WILSON_Z * WILSON_Z
    denominator = 1 + z2 / total
    center = (share + z2 / (2 * total)) / denominator
    half = (
        WILSON_Z * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total)) / denominator
    )
    return center - half, center + half


def _stats(
    values: list[Fraction], *, mean: Fraction | None = None, weights: list[int] | None = None
) -> dict[str, float]:
    result = {"mean": float(mean if mean is not None else sum(values) / len(values))}
    for stat, percent in PERCENTILES.items():
        result[stat] = float(nearest_rank(values, percent, weights))
    result["max"] = float(max(values))
    return result


Row = tuple[str, dict[str, str], float]


def family_values(samples: list[Sample]) -> list[Row]:
    """Compute every family that `samples` (one dimension, one window) has samples for."""
    by_kind: dict[str, list[Sample]] = {}
    for sample in samples:
        by_kind.setdefault(sample.kind, []).append(sample)

    rows: list[Row] = []
    rows += _duration_rows(by_kind)
    rows += _contact_rows(by_kind)
    rows += _survey_rows(by_kind)
    rows += _count_rows(by_kind)
    return rows


def _ratio_rows(metric: str, members: list[Sample], *, success: Any = None) -> list[Row]:
    test = success or (lambda s: s.success)
    good = sum(1 for s in members if test(s))
    lower, upper = wilson_bounds(good, len(members))
    return [
        (metric, {}, good / len(members)),
        (metric + "_lower", {}, lower),
        (metric + "_upper", {}, upper),
    ]


def _duration_rows(by_kind: dict[str, list[Sample]]) -> list[Row]:
    rows: list[Row] = []
    families = {
        "first_response": "support_first_response_seconds",
        "resolution": "support_resolution_seconds",
        "response_after_reopen": "support_response_after_reopen_seconds",
        "full_resolution": "support_full_resolution_seconds",
    }
    for kind, metric in families.items():
        members = by_kind.get(kind, [])
        if not members:
            continue
        clocked = kind in ("first_response", "resolution")
        calendar = {"clock": "calendar"} if clocked else {}
        for stat, value in _stats([s.value for s in members if s.value is not None]).items():
            rows.append((metric, {**calendar, "stat": stat}, value))
        business = [s.business for s in members if s.business is not None]
        if clocked and business:
            for stat, value in _stats(business).items():
                rows.append((metric, {"clock": "business", "stat": stat}, value))
        rows.append(("support_kpi_samples", {"kpi": kind}, float(len(members))))

    if by_kind.get("first_response"):
        rows += _ratio_rows("support_first_response_target_met_ratio", by_kind["first_response"])
    if by_kind.get("resolution"):
        rows += _ratio_rows("support_resolution_target_met_ratio", by_kind["resolution"])
    return rows


def _contact_rows(by_kind: dict[str, list[Sample]]) -> list[Row]:
    rows: list[Row] = []
    handle = by_kind.get("handle", [])
    if handle:
        # Handle time describes contacts: the mean divides by them, and each
        # resolution's time per contact counts once per contact in the percentiles.
        contacts = [s.contacts for s in handle]
        mean = sum((s.value for s in handle if s.value is not None), Fraction(0)) / sum(contacts)
        per_contact = [s.value / s.contacts for s in handle if s.value is not None]
        for stat, value in _stats(per_contact, mean=mean, weights=contacts).items():
            rows.append(("support_handle_seconds", {"stat": stat}, value))
        rows.append(("support_kpi_samples", {"kpi": "handle"}, float(sum(contacts))))

    for kind, metric in (
        ("abandonment", "support_abandonment_ratio"),
        ("first_contact_resolution", "support_first_contact_resolution_ratio"),
    ):
        members = by_kind.get(kind, [])
        if members:
            rows += _ratio_rows(metric, members)
            rows.append(("support_kpi_samples", {"kpi": kind}, float(len(members))))
    return rows


def _survey_rows(by_kind: dict[str, list[Sample]]) -> list[Row]:
    rows: list[Row] = []
    for kind in SurveyKind:
        submissions = by_kind.get(kind.value, [])
        if submissions:
            rows.append(
                ("support_survey_submissions", {"survey": kind.value}, float(len(submissions)))
            )
        rated = [s for s in submissions if s.value is not None]
        if not rated:
            continue
        rows.append(("support_kpi_samples", {"kpi": kind.value}, float(len(rated))))
        scores = [int(s.value) for s in rated if s.value is not None]
        total = sum(scores)

        if kind is SurveyKind.CSAT:
            rows.append(("support_csat_mean", {}, total / len(scores)))
            rows += _ratio_rows("support_csat_top_box_ratio", rated, success=lambda s: s.value == 5)
            rows += _ratio_rows(
                "support_csat_satisfied_ratio", rated, success=lambda s: s.value >= 4
            )
        elif kind is SurveyKind.CES:
            rows.append(("support_ces_mean", {}, total / len(scores)))
            rows += _ratio_rows("support_ces_easy_ratio", rated, success=lambda s: s.value >= 5)
        else:
            promoters = sum(1 for score in scores if score >= 9)
            detractors = sum(1 for score in scores if score <= 6)
            rows.append(
                ("support_nps", {}, float(Fraction(100 * (promoters - detractors), len(scores))))
            )
    return rows


def _count_rows(by_kind: dict[str, list[Sample]]) -> list[Row]:
    """Counts, each series present only while its count is above zero."""
    rows: list[Row] = []
    no_touch = by_kind.get("no_touch", [])
    if no_touch:
        rows.append(("support_no_touch_resolutions", {}, float(len(no_touch))))

    for kind, metric, label in (
        ("service_level", "support_service_level_contacts", "outcome"),
        ("anomaly", "support_kpi_anomalies", "kpi"),
    ):
        counts: dict[str, int] = {}
        for sample in by_kind.get(kind, []):
            counts[sample.label] = counts.get(sample.label, 0) + 1
        for value, count in sorted(counts.items()):
            extra = {label: value}
            if kind == "anomaly":
                extra["reason"] = "negative_duration"
            rows.append((metric, extra, float(count)))
    return rows


_RATIOS = (
    "support_first_response_target_met_ratio",
    "support_resolution_target_met_ratio",
    "support_abandonment_ratio",
    "support_first_contact_resolution_ratio",
    "support_csat_top_box_ratio",
    "support_csat_satisfied_ratio",
    "support_ces_easy_ratio",
)

# The families the oracle computes. Comparisons leave out every other one: the target
# family is configuration, and the live gauges (open tickets and the like) read the
# current state, not windowed samples.
COMPARED_METRICS = frozenset(
    {
        "support_first_response_seconds",
        "support_resolution_seconds",
        "support_response_after_reopen_seconds",
        "support_full_resolution_seconds",
        "support_handle_seconds",
        "support_csat_mean",
        "support_ces_mean",
        "support_nps",
        "support_kpi_samples",
        "support_no_touch_resolutions",
        "support_survey_submissions",
        "support_service_level_contacts",
        "support_kpi_anomalies",
    }
    | {ratio + suffix for ratio in _RATIOS for suffix in ("", "_lower", "_upper")}
)

# Histogram percentiles and max are within 1 % of the exact value; the factor above 1
# absorbs float rounding at bucket edges.
PERCENTILE_RELATIVE_ERROR = 0.01 * (1 + 1e-9)
EXACT_TOLERANCE = 1e-9


def streaming_key_values(values: Iterable[Any]) -> dict[Key, float]:
    """Index `KpiValue`s (metric, labels, value) like the oracle, keeping the last of repeats."""
    return {(v.metric, frozenset(v.labels)): float(v.value) for v in values}


def scraped_key_values(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float],
) -> dict[Key, float]:
    """Index scraped Prometheus samples (name, sorted labels) like the oracle."""
    return {(name, frozenset(labels)): value for (name, labels), value in samples.items()}


def is_compared(key: Key) -> bool:
    return key[0] in COMPARED_METRICS


def values_agree(key: Key, actual: float, expected: float) -> bool:
    """Whether a streaming value is close enough: exact for counts, ratios and means."""
    stat = dict(key[1]).get("stat")
    if stat in ("p50", "p90", "p95", "max"):
        if expected == 0:
            return actual == 0
        return abs(actual - expected) <= PERCENTILE_RELATIVE_ERROR * abs(expected)
    return math.isclose(actual, expected, rel_tol=EXACT_TOLERANCE, abs_tol=EXACT_TOLERANCE)


def describe_key(key: Key) -> str:
    metric, labels = key
    inner = ",".join(f'{name}="{value}"' for name, value in sorted(labels))
    return f"{metric}{{{inner}}}"


def compare_values(actual: dict[Key, float], expected: dict[Key, float]) -> list[str]:
    """Return one line per difference: a missing series, an extra one or a value off."""
    actual = {k: v for k, v in actual.items() if is_compared(k)}
    expected = {k: v for k, v in expected.items() if is_compared(k)}
    problems = []
    for key in sorted(expected.keys() - actual.keys(), key=describe_key):
        problems.append(f"missing {describe_key(key)} (oracle {expected[key]!r})")
    for key in sorted(actual.keys() - expected.keys(), key=describe_key):
        problems.append(f"extra   {describe_key(key)} = {actual[key]!r}")
    for key in sorted(actual.keys() & expected.keys(), key=describe_key):
        if not values_agree(key, actual[key], expected[key]):
            problems.append(
                f"value   {describe_key(key)}: streaming {actual[key]!r}, oracle {expected[key]!r}"
            )
    return problems


def summarize_problems(problems: list[str], *, per_metric: int = 3) -> str:
    """Shorten `compare_values` output to a few lines per kind of problem and metric."""
    groups: dict[tuple[str, str], list[str]] = {}
    for line in problems:
        kind, rest = line.split(maxsplit=1)
        groups.setdefault((kind, rest.split("{", 1)[0]), []).append(line)

    lines = [f"{len(problems)} differences:"]
    for (kind, metric), members in groups.items():
        lines.append(f"  {kind} {metric}: {len(members)}")
        lines.extend("    " + line for line in members[:per_metric])
    return "\n".join(lines)
