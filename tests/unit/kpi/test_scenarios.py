"""Hand-computed KPI values of small scenarios, checked on the oracle and on the Pipeline.

Each test runs twice: once on the brute-force oracle (`tests/oracle.py`), once on the
streaming `Pipeline`, so a failure names which of the two disagrees with the number
worked out by hand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from streamproc.events import AnyEvent, parse_event
from streamproc.kpi.pipeline import Pipeline
from streamproc.kpi.targets import Targets
from streamproc.kpi.windows import build_windows
from tests.oracle import WILSON_Z, Key, oracle_values, streaming_key_values, values_agree

DAY = "2024-05-06"  # a Monday
WINDOWS = ("1h", "24h", "7d")

Compute = Callable[..., dict[Key, float]]


def event(kind: str, event_id: str, at: str, ticket: str | None = "T1", **fields: Any) -> AnyEvent:
    """Build one event; `at` is a UTC time of day on DAY, or a full RFC 3339 timestamp."""
    occurred_at = at if "T" in at else f"{DAY}T{at}Z"
    document: dict[str, Any] = {"type": kind, "event_id": event_id, "occurred_at": occurred_at}
    if ticket is not None:
        document["ticket_id"] = ticket
    document.update(fields)
    return parse_event(json.dumps(document))


def run_oracle(
    events: list[AnyEvent], *, windows: Sequence[str] = WINDOWS, business_hours: Any = None
) -> dict[Key, float]:
    return oracle_values(
        events, targets=Targets(), windows=list(windows), business_hours=business_hours
    )


def run_streaming(
    events: list[AnyEvent], *, windows: Sequence[str] = WINDOWS, business_hours: Any = None
) -> dict[Key, float]:
    options = {} if business_hours is None else {"business_hours": business_hours}
    pipeline = Pipeline(
        targets=Targets(), windows=build_windows(list(windows), buckets_per_window=60), **options
    )
    for item in events:
        pipeline.process(item)
    return streaming_key_values(pipeline.values())


@pytest.fixture(params=["oracle", "streaming"])
def compute(request: pytest.FixtureRequest) -> Compute:
    """The KPI computation under test: the oracle or the streaming Pipeline."""
    return run_oracle if request.param == "oracle" else run_streaming


def series(
    values: dict[Key, float],
    metric: str,
    *,
    channel: str = "chat",
    team: str = "all",
    window: str = "7d",
    **extra: str,
) -> float | None:
    """Return the value of the series with exactly these labels, or None when it is absent."""
    labels = {"channel": channel, "team": team, "window": window, **extra}
    return values.get((metric, frozenset(labels.items())))


def family(values: dict[Key, float], metric: str) -> dict[Key, float]:
    """Return every series of one family."""
    return {key: value for key, value in values.items() if key[0] == metric}


def wilson(successes: int, total: int) -> tuple[float, float]:
    """The 95 % Wilson score interval, written out from its textbook formula."""
    p = successes / total
    z = WILSON_Z
    center = (p + z**2 / (2 * total)) / (1 + z**2 / total)
    half = z / (1 + z**2 / total) * math.sqrt(p * (1 - p) / total + z**2 / (4 * total**2))
    return center - half, center + half


def chat_with_bot_reply() -> list[AnyEvent]:
    return [
        event("ticket_opened", "o1", "10:00:00", channel="chat", team="billing"),
        event("first_reply", "b1", "10:00:04", author="bot"),
        event("first_reply", "h1", "10:07:00", agent_id="a1"),
    ]


@pytest.mark.parametrize("bot_last", [False, True])
def test_bot_reply_not_first_response(compute: Compute, bot_last: bool) -> None:
    """A bot reply at 4 s never ends the first-response clock; the human one at 420 s does."""
    events = chat_with_bot_reply()
    if bot_last:
        events = [events[0], events[2], events[1]]
    values = compute(events)

    assert series(values, "support_first_response_seconds", clock="calendar", stat="mean") == 420.0
    for key, value in family(values, "support_first_response_seconds").items():
        assert values_agree(key, value, 420.0), f"{key} = {value}"


def bot_resolved_then_reopened() -> list[AnyEvent]:
    return [
        event("ticket_opened", "o1", "2024-05-06T09:00:00Z", channel="chat"),
        event("resolved", "r1", "2024-05-06T09:05:30Z", agent_id="bot-1"),
        event("ticket_opened", "o2", "2024-05-10T14:00:00Z", channel="chat"),
        event("first_reply", "h1", "2024-05-10T14:10:00Z", agent_id="a1"),
    ]


def test_reopen_starts_first_response(compute: Compute) -> None:
    """After a bot resolution, the first response counts from the reopen: 600 s."""
    values = compute(bot_resolved_then_reopened())

    assert series(values, "support_first_response_seconds", clock="calendar", stat="mean") == 600.0
    assert series(values, "support_kpi_samples", kpi="first_response") == 1.0
    assert family(values, "support_response_after_reopen_seconds") == {}


def test_bot_resolution_is_no_touch(compute: Compute) -> None:
    """The first episode's resolution had no human reply before it: one no-touch resolution."""
    values = compute(bot_resolved_then_reopened())

    assert series(values, "support_no_touch_resolutions") == 1.0


def test_no_four_day_first_response(compute: Compute) -> None:
    """No window and no statistic reports a first response of four days."""
    values = compute(bot_resolved_then_reopened())

    first_response = family(values, "support_first_response_seconds")
    assert first_response
    for key, value in first_response.items():
        assert values_agree(key, value, 600.0), f"{key} = {value}"


def reopened_after_period() -> list[AnyEvent]:
    return [
        event("ticket_opened", "o1", "2024-05-06T11:50:00Z", channel="email"),
        event("first_reply", "h1", "2024-05-06T11:55:00Z"),
        event("resolved", "r1", "2024-05-06T12:00:00Z"),
        event("ticket_opened", "o2", "2024-05-17T09:00:00Z", channel="email"),
        event("first_reply", "h2", "2024-05-17T09:02:00Z"),
    ]


def test_reopen_keeps_first_response(compute: Compute) -> None:
    """A reopen 11 days later leaves first response at 300 s and resolution at 600 s."""
    values = compute(reopened_after_period(), windows=("1h", "30d"))
    email = {"channel": "email", "window": "30d"}

    assert (
        series(values, "support_first_response_seconds", clock="calendar", stat="mean", **email)
        == 300.0
    )
    assert (
        series(values, "support_resolution_seconds", clock="calendar", stat="mean", **email)
        == 600.0
    )


@pytest.mark.parametrize("window", ["1h", "30d"])
def test_response_after_reopen(compute: Compute, window: str) -> None:
    """The reply 2 min after the reopen is a response after reopen of 120 s."""
    values = compute(reopened_after_period(), windows=("1h", "30d"))

    after_reopen = series(
        values, "support_response_after_reopen_seconds", channel="email", window=window, stat="mean"
    )
    assert after_reopen == 120.0


def abandoned_and_answered() -> list[AnyEvent]:
    return [
        event("ticket_opened", "o1", "10:00:00", channel="chat"),
        event("first_reply", "s1", "10:40:00", author="system"),
        event("resolved", "r1", "10:41:00", outcome="abandoned"),
        event("ticket_opened", "o2", "10:00:00", ticket="T2", channel="chat"),
        event("first_reply", "h2", "10:02:00", ticket="T2"),
    ]


def test_abandoned_gives_no_first_response(compute: Compute) -> None:
    """A system message before an abandonment is no first response; the mean stays 120 s."""
    values = compute(abandoned_and_answered())

    assert series(values, "support_first_response_seconds", clock="calendar", stat="mean") == 120.0
    assert series(values, "support_kpi_samples", kpi="first_response") == 1.0


def test_abandoned_contact_counted(compute: Compute) -> None:
    """The abandonment is one contact, abandoned, and a long abandon for service level."""
    values = compute(abandoned_and_answered())

    assert series(values, "support_kpi_samples", kpi="abandonment") == 1.0
    assert series(values, "support_abandonment_ratio") == 1.0
    assert series(values, "support_service_level_contacts", outcome="abandoned_long") == 1.0
    assert series(values, "support_service_level_contacts", outcome="answered_late") == 1.0


@pytest.mark.parametrize("resolution_first", [False, True])
def test_reply_and_resolution_tie(compute: Compute, resolution_first: bool) -> None:
    """A reply and a resolution stamped alike give 240 s each, in either arrival order."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="email"),
        event("first_reply", "h1", "10:04:00"),
        event("resolved", "r1", "10:04:00"),
    ]
    if resolution_first:
        events = [events[0], events[2], events[1]]
    values = compute(events)
    email = {"channel": "email"}

    assert (
        series(values, "support_first_response_seconds", clock="calendar", stat="mean", **email)
        == 240.0
    )
    assert (
        series(values, "support_resolution_seconds", clock="calendar", stat="mean", **email)
        == 240.0
    )
    assert series(values, "support_no_touch_resolutions", **email) is None


def skewed_clocks() -> list[AnyEvent]:
    return [
        event("ticket_opened", "oa", "10:00:00", ticket="A", channel="email"),
        event("resolved", "ra", "11:00:00", ticket="A"),
        event("ticket_opened", "ob", "10:00:00", ticket="B", channel="email"),
        event("first_reply", "hb", "09:59:10", ticket="B"),
        event("resolved", "rb", "09:58:30", ticket="B"),
    ]


def test_negative_durations_excluded(compute: Compute) -> None:
    """Replies and resolutions stamped before the open are no samples: 3,600 s of 1 resolution."""
    values = compute(skewed_clocks())
    email = {"channel": "email"}

    assert (
        series(values, "support_resolution_seconds", clock="calendar", stat="mean", **email)
        == 3600.0
    )
    assert series(values, "support_kpi_samples", kpi="resolution", **email) == 1.0
    assert family(values, "support_first_response_seconds") == {}


def test_negative_durations_counted(compute: Compute) -> None:
    """The two negative durations count as anomalies, one each of first response and resolution."""
    values = compute(skewed_clocks())
    email = {"channel": "email", "reason": "negative_duration"}

    assert series(values, "support_kpi_anomalies", kpi="first_response", **email) == 1.0
    assert series(values, "support_kpi_anomalies", kpi="resolution", **email) == 1.0
    total = sum(
        value
        for (_, labels), value in family(values, "support_kpi_anomalies").items()
        if dict(labels).get("channel") == "all"
        and dict(labels).get("team") == "all"
        and dict(labels).get("window") == "7d"
    )
    assert total == 2.0


def test_unrated_survey_is_submission(compute: Compute) -> None:
    """Surveys 5, 4, no score, 2: satisfied 2 of 3, mean 11/3, 4 submissions."""
    events = [event("ticket_opened", "o1", "10:00:00", channel="chat")]
    for index, score in enumerate([5, 4, None, 2]):
        events.append(event("survey", f"s{index}", f"10:1{index}:00", survey="csat", score=score))
    values = compute(events)

    assert series(values, "support_csat_satisfied_ratio") == pytest.approx(2 / 3, rel=1e-12)
    assert series(values, "support_csat_mean") == pytest.approx(11 / 3, rel=1e-12)
    assert series(values, "support_kpi_samples", kpi="csat") == 3.0
    assert series(values, "support_survey_submissions", survey="csat") == 4.0


def nps_answers(scores: list[int]) -> list[AnyEvent]:
    return [
        event(
            "survey",
            f"n{index}",
            "10:00:00",
            ticket=None,
            survey="nps",
            score=score,
            response_id=f"p{index}",
        )
        for index, score in enumerate(scores)
    ]


NOBODY = {"channel": "none", "team": "none"}


def test_nps_passives_count(compute: Compute) -> None:
    """NPS answers 9, 10, 8, 6, 3 give NPS 0."""
    values = compute(nps_answers([9, 10, 8, 6, 3]))

    assert series(values, "support_nps", **NOBODY) == 0.0
    assert series(values, "support_kpi_samples", kpi="nps", **NOBODY) == 5.0


def test_nps_full_precision(compute: Compute) -> None:
    """13 promoters, 14 passives and 8 detractors give exactly 100 * 5 / 35."""
    values = compute(nps_answers([10] * 13 + [7] * 14 + [2] * 8))

    assert series(values, "support_nps", **NOBODY) == 100 * 5 / 35


def test_nps_changed_answer(compute: Compute) -> None:
    """A promoter answer replaced by a later 7 of the same response gives 100 * 4 / 35."""
    events = nps_answers([10] * 13 + [7] * 14 + [2] * 8)
    events.append(
        event(
            "survey", "n-changed", "10:30:00", ticket=None, survey="nps", score=7, response_id="p0"
        )
    )
    values = compute(events)

    assert series(values, "support_nps", **NOBODY) == 100 * 4 / 35
    assert series(values, "support_kpi_samples", kpi="nps", **NOBODY) == 35.0


def test_duplicate_resolved_counted_once(compute: Compute) -> None:
    """The same `resolved` event delivered twice counts once."""
    resolved = event("resolved", "r1", "10:20:00", handle_seconds=300, contacts=1)
    events = chat_with_bot_reply() + [resolved, resolved]
    values = compute(events)

    assert series(values, "support_kpi_samples", kpi="abandonment") == 1.0
    assert series(values, "support_kpi_samples", kpi="first_contact_resolution") == 1.0
    assert series(values, "support_handle_seconds", stat="mean") == 300.0


def test_aht_from_parts(compute: Compute) -> None:
    """Talk 240 + hold 60 + after-contact 45 s and a 109 s talk-only call average 227 s."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="phone"),
        event(
            "resolved",
            "r1",
            "10:10:00",
            talk_seconds=240,
            hold_seconds=60,
            after_contact_seconds=45,
        ),
        event("ticket_opened", "o2", "10:00:00", ticket="T2", channel="phone"),
        event("resolved", "r2", "10:10:00", ticket="T2", talk_seconds=109),
    ]
    values = compute(events)

    assert series(values, "support_handle_seconds", channel="phone", stat="mean") == 227.0


def test_wilson_bounds(compute: Compute) -> None:
    """CSAT 5, 5, 3: top box 2 of 3 with Wilson bounds about 0.2077 and 0.9385."""
    events = [event("ticket_opened", "o1", "10:00:00", channel="chat")]
    for index, score in enumerate([5, 5, 3]):
        events.append(event("survey", f"s{index}", f"10:1{index}:00", survey="csat", score=score))
    values = compute(events)
    lower, upper = wilson(2, 3)

    assert round(lower, 4) == 0.2077
    assert round(upper, 4) == 0.9385
    assert series(values, "support_csat_top_box_ratio_lower") == pytest.approx(lower, rel=1e-9)
    assert series(values, "support_csat_top_box_ratio_upper") == pytest.approx(upper, rel=1e-9)


def kolkata_office_hours() -> Any:
    """Mon-Fri 08:00-17:00 in Asia/Kolkata, used by every channel and team."""
    module = pytest.importorskip(
        "streamproc.kpi.business_hours_config", reason="business hours are not implemented yet"
    )
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    return module.BusinessHoursConfig.model_validate(
        {
            "schedules": [
                {
                    "name": "india-support",
                    "time_zone": "Asia/Kolkata",
                    "hours": {day: ["08:00-17:00"] for day in weekdays},
                }
            ],
            "assign": [{"schedule": "india-support"}],
        }
    )


def test_business_hours_first_response(compute: Compute) -> None:
    """Saturday 11:00 to Monday 08:30 in Kolkata is 1,800 business and 163,800 calendar seconds."""
    config = kolkata_office_hours()
    events = [
        # Saturday 2024-05-11 11:00 and Monday 2024-05-13 08:30 in UTC+05:30.
        event("ticket_opened", "o1", "2024-05-11T05:30:00Z", channel="email"),
        event("first_reply", "h1", "2024-05-13T03:00:00Z"),
    ]
    values = compute(events, business_hours=config)
    email = {"channel": "email"}

    assert (
        series(values, "support_first_response_seconds", clock="business", stat="mean", **email)
        == 1800.0
    )
    assert (
        series(values, "support_first_response_seconds", clock="calendar", stat="mean", **email)
        == 163800.0
    )
