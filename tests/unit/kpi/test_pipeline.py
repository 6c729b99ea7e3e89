"""Exact KPI values from the pipeline that both the worker and `streamproc kpis` use."""

from __future__ import annotations

import itertools

import pytest

from tests.unit.kpi.helpers import event, run, value_of

CHAT_ALL = {"channel": "chat", "team": "all", "window": "7d"}


def chat_ticket() -> list:
    return [
        event("ticket_opened", "o1", "10:00:00", channel="chat", team="billing"),
        event("first_reply", "b1", "10:00:04", author="bot"),
        event("first_reply", "h1", "10:07:00", agent_id="a1"),
        event("resolved", "r1", "10:20:00", handle_seconds=300, contacts=1),
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_ticket_any_arrival_order(order: tuple[int, ...]) -> None:
    """Every arrival order of one ticket's events gives the same KPIs."""
    events = chat_ticket()
    values = run([events[i] for i in order]).values()

    assert value_of(values, "support_first_response_seconds", stat="mean", **CHAT_ALL) == 420.0
    assert value_of(values, "support_resolution_seconds", stat="mean", **CHAT_ALL) == 1200.0
    assert value_of(values, "support_handle_seconds", stat="mean", **CHAT_ALL) == 300.0
    assert value_of(values, "support_first_contact_resolution_ratio", **CHAT_ALL) == 1.0
    assert value_of(values, "support_first_response_target_met_ratio", **CHAT_ALL) == 0.0


def test_bot_reply_never_first_response() -> None:
    """A bot reply before the human one does not end the first-response clock."""
    values = run(chat_ticket()[:3]).values()

    assert value_of(values, "support_first_response_seconds", stat="mean", **CHAT_ALL) == 420.0


def test_private_reply_never_first_response() -> None:
    """A non-public agent reply does not count as a first response."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="email"),
        event("first_reply", "n1", "10:01:00", public=False),
        event("first_reply", "h1", "10:30:00"),
    ]
    values = run(events).values()

    labels = {"channel": "email", "team": "none", "window": "7d"}
    assert value_of(values, "support_first_response_seconds", stat="mean", **labels) == 1800.0


def test_reply_held_until_open_arrives() -> None:
    """A reply that arrives before its ticket_opened gives no sample until the open arrives."""
    reply = event("first_reply", "h1", "10:00:20")
    held = run([reply]).values()
    assert value_of(held, "support_first_response_seconds", stat="mean", **CHAT_ALL) is None

    opened = event("ticket_opened", "o1", "10:00:00", channel="chat")
    values = run([reply, opened]).values()
    assert value_of(values, "support_first_response_seconds", stat="mean", **CHAT_ALL) == 20.0


def test_redelivered_event_counted_once() -> None:
    """The same resolved event delivered twice is counted once."""
    events = chat_ticket() + [event("resolved", "r1", "10:20:00", handle_seconds=300, contacts=1)]
    pipeline = run(events)
    values = pipeline.values()

    assert value_of(values, "support_kpi_samples", kpi="abandonment", **CHAT_ALL) == 1.0
    assert pipeline.outcomes[("resolved", "duplicate")] == 1


def test_survey_without_score_excluded() -> None:
    """Surveys 5, 4, no score, 2 give CSAT satisfied 2 of 3 and mean 11/3."""
    events = [event("ticket_opened", "o1", "10:00:00", channel="chat")]
    for index, score in enumerate([5, 4, None, 2]):
        events.append(event("survey", f"s{index}", f"10:1{index}:00", survey="csat", score=score))
    values = run(events).values()

    assert value_of(values, "support_csat_satisfied_ratio", **CHAT_ALL) == pytest.approx(2 / 3, abs=1e-12)
    assert value_of(values, "support_csat_mean", **CHAT_ALL) == pytest.approx(11 / 3, abs=1e-12)
    assert value_of(values, "support_csat_top_box_ratio", **CHAT_ALL) == pytest.approx(1 / 3, abs=1e-12)
    assert value_of(values, "support_kpi_samples", kpi="csat", **CHAT_ALL) == 3.0


def test_nps_passives_stay_in_denominator() -> None:
    """NPS answers 9, 10, 8, 6, 3 give 2 promoters, 2 detractors of 5: NPS 0."""
    events = [
        event("survey", f"n{index}", "10:00:00", ticket=None, survey="nps", score=score)
        for index, score in enumerate([9, 10, 8, 6, 3])
    ]
    values = run(events).values()

    labels = {"channel": "none", "team": "none", "window": "7d"}
    assert value_of(values, "support_nps", **labels) == 0.0
    assert value_of(values, "support_kpi_samples", kpi="nps", **labels) == 5.0


def test_nps_full_precision() -> None:
    """13 promoters, 14 passives and 8 detractors give NPS 100 * 5 / 35 unrounded."""
    scores = [10] * 13 + [7] * 14 + [2] * 8
    events = [
        event("survey", f"n{index}", "10:00:00", ticket=None, survey="nps", score=score)
        for index, score in enumerate(scores)
    ]
    values = run(events).values()

    labels = {"channel": "none", "team": "none", "window": "7d"}
    assert value_of(values, "support_nps", **labels) == 100 * 5 / 35


def test_changed_rating_replaces_earlier() -> None:
    """A later answer with the same response_id replaces the earlier score."""
    events = [
        event("survey", "a", "10:00:00", ticket=None, survey="nps", score=10, response_id="x"),
        event("survey", "b", "10:05:00", ticket=None, survey="nps", score=7, response_id="x"),
    ]
    for ordering in (events, events[::-1]):
        values = run(ordering).values()
        labels = {"channel": "none", "team": "none", "window": "7d"}
        assert value_of(values, "support_nps", **labels) == 0.0
        assert value_of(values, "support_kpi_samples", kpi="nps", **labels) == 1.0


def test_aht_from_parts_over_contacts() -> None:
    """Talk 240 + hold 60 + after-contact 45 s and a 109 s call average 227 s."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="phone"),
        event("resolved", "r1", "10:10:00", talk_seconds=240, hold_seconds=60, after_contact_seconds=45),
        event("ticket_opened", "o2", "10:00:00", ticket="T2", channel="phone"),
        event("resolved", "r2", "10:10:00", ticket="T2", talk_seconds=109),
    ]
    values = run(events).values()

    labels = {"channel": "phone", "team": "all", "window": "7d"}
    assert value_of(values, "support_handle_seconds", stat="mean", **labels) == 227.0


def test_abandoned_contact_gives_no_resolution() -> None:
    """An abandoned contact counts for abandonment only."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="chat"),
        event("first_reply", "sys", "10:40:00", author="system"),
        event("resolved", "r1", "10:41:00", outcome="abandoned", handle_seconds=30, contacts=1),
    ]
    values = run(events).values()

    assert value_of(values, "support_abandonment_ratio", **CHAT_ALL) == 1.0
    assert value_of(values, "support_resolution_seconds", stat="mean", **CHAT_ALL) is None
    assert value_of(values, "support_first_response_seconds", stat="mean", **CHAT_ALL) is None
    assert value_of(values, "support_handle_seconds", stat="mean", **CHAT_ALL) is None
    assert value_of(values, "support_first_contact_resolution_ratio", **CHAT_ALL) is None


def test_fcr_only_where_contacts_stated() -> None:
    """Resolutions without `contacts` stay out of first contact resolution."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="email"),
        event("resolved", "r1", "11:00:00"),
        event("ticket_opened", "o2", "10:00:00", ticket="T2", channel="email"),
        event("resolved", "r2", "11:00:00", ticket="T2", contacts=3),
    ]
    values = run(events).values()

    labels = {"channel": "email", "team": "all", "window": "7d"}
    assert value_of(values, "support_first_contact_resolution_ratio", **labels) == 0.0
    assert value_of(values, "support_kpi_samples", kpi="first_contact_resolution", **labels) == 1.0


def test_window_drops_old_samples() -> None:
    """A sample older than the 1h window counts in 24h but not in 1h."""
    events = [
        event("ticket_opened", "o1", "08:00:00", channel="chat"),
        event("first_reply", "h1", "08:00:10"),
        event("ticket_opened", "o2", "10:30:00", ticket="T2", channel="chat"),
        event("first_reply", "h2", "10:30:30", ticket="T2"),
    ]
    values = run(events).values()

    hour = {"channel": "chat", "team": "all", "window": "1h"}
    day = {"channel": "chat", "team": "all", "window": "24h"}
    assert value_of(values, "support_first_response_seconds", stat="mean", **hour) == 30.0
    assert value_of(values, "support_first_response_seconds", stat="mean", **day) == 20.0


def test_no_samples_no_series() -> None:
    """A KPI without samples has no series at all rather than a zero."""
    values = run([event("ticket_opened", "o1", "10:00:00", channel="chat")]).values()

    windowed = [v for v in values if "window" in dict(v.labels)]
    assert windowed == []


def test_negative_duration_excluded() -> None:
    """A reply stamped before the open is excluded from first response time."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="chat"),
        event("first_reply", "h1", "09:59:10"),
    ]
    values = run(events).values()

    assert value_of(values, "support_first_response_seconds", stat="mean", **CHAT_ALL) is None


def bot_resolved_then_reopened() -> list:
    return [
        event("ticket_opened", "o1", "2024-05-06T09:00:00Z", channel="chat"),
        event("resolved", "r1", "2024-05-06T09:05:30Z", contacts=1),
        event("ticket_opened", "o2", "2024-05-10T14:00:00Z", channel="chat"),
        event("first_reply", "h1", "2024-05-10T14:10:00Z"),
    ]


def test_first_response_from_open_setting() -> None:
    """With first_response_from=open, the reply after a reopen is measured from the first open."""
    from streamproc.kpi.pipeline import Pipeline
    from streamproc.kpi.windows import build_windows

    pipeline = Pipeline(windows=build_windows(["30d"], buckets_per_window=60), first_response_from="open")
    for item in bot_resolved_then_reopened():
        pipeline.process(item)
    labels = {"channel": "chat", "team": "all", "window": "30d", "stat": "mean"}

    assert value_of(pipeline.values(), "support_first_response_seconds", **labels) == 4 * 86400 + 5 * 3600 + 600


def test_no_touch_fcr_settings() -> None:
    """A no-touch resolution is a FCR zero by default and left out with no_touch_fcr=excluded."""
    from streamproc.kpi.pipeline import Pipeline
    from streamproc.kpi.windows import build_windows

    windows = build_windows(["30d"], buckets_per_window=60)
    labels = {"channel": "chat", "team": "all", "window": "30d"}
    default = Pipeline(windows=windows)
    excluded = Pipeline(windows=windows, no_touch_fcr="excluded")
    for item in bot_resolved_then_reopened():
        default.process(item)
        excluded.process(item)

    assert value_of(default.values(), "support_first_contact_resolution_ratio", **labels) == 0.0
    assert value_of(excluded.values(), "support_first_contact_resolution_ratio", **labels) is None
    assert value_of(default.values(), "support_no_touch_resolutions", **labels) == 1.0


def test_live_gauges_count_waiting() -> None:
    """An unanswered chat counts as open and waiting, aged against the event-time clock."""
    events = [
        event("ticket_opened", "o1", "10:00:00", channel="chat"),
        event("ticket_opened", "o2", "10:01:00", ticket="T2", channel="chat"),
        event("first_reply", "h2", "10:01:10", ticket="T2"),
        event("ticket_opened", "o3", "10:02:00", ticket="T3", channel="email"),
        event("resolved", "r3", "10:03:00", ticket="T3"),
    ]
    values = run(events).values()
    chat = {"channel": "chat", "team": "none"}

    assert value_of(values, "support_open_tickets", **chat) == 2.0
    assert value_of(values, "support_awaiting_first_response_tickets", **chat) == 1.0
    assert value_of(values, "support_oldest_awaiting_first_response_seconds", **chat) == 180.0
    assert value_of(values, "support_awaiting_first_response_over_target_tickets", **chat) == 1.0
    assert value_of(values, "support_open_tickets", channel="email", team="none") == 0.0
    assert value_of(values, "support_open_tickets", channel="all", team="all") == 2.0


def test_processing_observations() -> None:
    """First-seen samples become histogram observations and counter steps, once each."""
    from streamproc.kpi.ledger import apply_event
    from streamproc.kpi.live import observations
    from streamproc.kpi.samples import KpiOptions

    store: dict = {}
    options = KpiOptions()
    seen = []
    for item in chat_ticket() + [event("survey", "s1", "10:30:00", survey="nps", score=9)]:
        seen.extend(observations(apply_event(store, item, options).new_samples))
    names = sorted(o.metric for o in seen)

    assert names == [
        "support_first_response_duration_seconds",
        "support_handle_duration_seconds",
        "support_resolution_duration_seconds",
        "support_resolutions_total",
        "support_survey_responses_total",
    ]
    survey = [o for o in seen if o.metric == "support_survey_responses_total"][0]
    assert dict(survey.extra) == {"survey": "nps", "score": "9"}


def test_closed_tickets_expire() -> None:
    """Closed tickets older than the retention are deleted; open ones stay."""
    from streamproc.kpi.ledger import apply_event, expire_closed
    from streamproc.kpi.samples import KpiOptions

    store: dict = {}
    options = KpiOptions()
    for item in [
        event("ticket_opened", "o1", "2024-05-01T10:00:00Z", channel="chat"),
        event("resolved", "r1", "2024-05-01T11:00:00Z"),
        event("ticket_opened", "o2", "2024-05-01T10:00:00Z", ticket="T2", channel="chat"),
        event("ticket_opened", "o3", "2024-05-20T10:00:00Z", ticket="T3", channel="chat"),
        event("resolved", "r3", "2024-05-20T11:00:00Z", ticket="T3"),
    ]:
        apply_event(store, item, options)
    day_us = 86_400 * 1_000_000
    clock_us = store["T3"]["last_us"]

    assert expire_closed(store, clock_us=clock_us, retention_us=7 * day_us) == 1
    assert sorted(store) == ["T2", "T3"]
