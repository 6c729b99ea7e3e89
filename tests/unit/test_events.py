"""Validation of the v1 event contract and the wording of its errors."""

from __future__ import annotations

import json

import pytest

from streamproc.errors import InvalidEventError
from streamproc.events import EventType, FirstReply, Resolved, Survey, TicketOpened, parse_event

OPENED = {
    "type": "ticket_opened",
    "event_id": "e1",
    "ticket_id": "T1",
    "occurred_at": "2024-05-01T10:00:00+02:00",
    "channel": "chat",
}


def reject(document: object, **kwargs: object) -> InvalidEventError:
    raw = document if isinstance(document, (bytes, str)) else json.dumps(document)
    with pytest.raises(InvalidEventError) as info:
        parse_event(raw, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_opened_parses() -> None:
    """A complete ticket_opened parses into its model."""
    event = parse_event(json.dumps(OPENED))

    assert isinstance(event, TicketOpened)
    assert event.occurred_us == 1714550400 * 1_000_000


def test_unknown_fields_kept() -> None:
    """Unknown fields are kept on the model and do not fail validation."""
    event = parse_event(json.dumps({**OPENED, "crm_id": "X-1"}))

    assert event.model_extra == {"crm_id": "X-1"}


def test_topic_supplies_type() -> None:
    """On a topic, a message without `type` takes the topic's type."""
    document = {k: v for k, v in OPENED.items() if k != "type"}
    event = parse_event(json.dumps(document), topic_type=EventType.TICKET_OPENED)

    assert isinstance(event, TicketOpened)


def test_type_must_match_topic() -> None:
    """A `type` that differs from the topic's type is rejected."""
    error = reject(OPENED, topic_type=EventType.RESOLVED)

    assert error.field == "type"
    assert "resolved" in str(error)


def test_file_needs_type() -> None:
    """Without a topic, `type` is required."""
    document = {k: v for k, v in OPENED.items() if k != "type"}

    assert reject(document).field == "type"


def test_naive_timestamp_rejected() -> None:
    """A timestamp without a UTC offset is rejected, naming the field and the fix."""
    error = reject({**OPENED, "occurred_at": "2024-05-01T10:00:00"})

    assert error.field == "occurred_at"
    assert "UTC offset" in str(error)
    assert "2024-05-01T10:00:00" in str(error)


def test_bad_json_rejected() -> None:
    """Bytes that are not JSON are rejected as a whole message."""
    error = reject(b'{"type": "resolved",')

    assert error.field == "(message)"
    assert "not valid JSON" in str(error)


def test_non_utf8_rejected() -> None:
    """Bytes that are not UTF-8 are rejected."""
    assert "UTF-8" in str(reject(b"\xff\xfe{}"))


def test_json_array_rejected() -> None:
    """A JSON value that is not an object is rejected."""
    assert "not an object" in str(reject("[1, 2]"))


def test_missing_event_id_rejected() -> None:
    """A missing event_id is named in the error."""
    document = {k: v for k, v in OPENED.items() if k != "event_id"}
    error = reject(document)

    assert error.field == "event_id"
    assert "missing" in str(error)


def test_unknown_channel_rejected() -> None:
    """A channel outside the closed set is rejected with the allowed values."""
    error = reject({**OPENED, "channel": "pigeon"})

    assert error.field == "channel"
    assert "email" in error.fix


def test_ticket_required_except_survey() -> None:
    """Only a survey may omit ticket_id."""
    document = {k: v for k, v in OPENED.items() if k != "ticket_id"}

    assert reject(document).field == "ticket_id"


@pytest.mark.parametrize(
    ("kind", "score"), [("csat", 0), ("csat", 6), ("ces", 8), ("nps", 11), ("nps", -1)]
)
def test_score_out_of_range_rejected(kind: str, score: int) -> None:
    """A score outside its survey's scale is rejected with the scale."""
    document = {
        "type": "survey",
        "event_id": "s",
        "occurred_at": "2024-05-01T10:00:00Z",
        "survey": kind,
        "score": score,
    }
    error = reject(document)

    assert "out of range" in str(error)
    assert str(score) in str(error)


def test_score_string_rejected() -> None:
    """A score sent as a string is rejected, not coerced."""
    document = {
        "type": "survey",
        "event_id": "s",
        "occurred_at": "2024-05-01T10:00:00Z",
        "survey": "nps",
        "score": "9",
    }

    assert reject(document).field == "score"


def test_null_score_accepted() -> None:
    """A survey submitted without a score parses with score None."""
    document = {
        "type": "survey",
        "event_id": "s",
        "occurred_at": "2024-05-01T10:00:00Z",
        "survey": "csat",
        "score": None,
    }
    event = parse_event(json.dumps(document))

    assert isinstance(event, Survey)
    assert event.score is None


def test_reply_defaults_to_public_agent() -> None:
    """A first_reply without author and public is a public agent reply."""
    document = {"type": "first_reply", "event_id": "r", "ticket_id": "T", "occurred_at": "2024-05-01T10:00:00Z"}
    event = parse_event(json.dumps(document))

    assert isinstance(event, FirstReply)
    assert event.is_qualifying


def test_handle_time_from_parts() -> None:
    """Handle time is the sum of talk, hold and after-contact parts when no total is given."""
    document = {
        "type": "resolved",
        "event_id": "r",
        "ticket_id": "T",
        "occurred_at": "2024-05-01T10:00:00Z",
        "talk_seconds": 240,
        "hold_seconds": 60,
        "after_contact_seconds": 45,
    }
    event = parse_event(json.dumps(document))

    assert isinstance(event, Resolved)
    assert event.total_handle_seconds == 345


def test_negative_duration_rejected() -> None:
    """A negative duration field is rejected with the duration fix."""
    document = {
        "type": "resolved",
        "event_id": "r",
        "ticket_id": "T",
        "occurred_at": "2024-05-01T10:00:00Z",
        "talk_seconds": -5,
    }
    error = reject(document)

    assert error.field == "talk_seconds"
    assert "seconds" in error.fix


def test_contacts_zero_rejected() -> None:
    """contacts must be 1 or more."""
    document = {
        "type": "resolved",
        "event_id": "r",
        "ticket_id": "T",
        "occurred_at": "2024-05-01T10:00:00Z",
        "contacts": 0,
    }

    assert reject(document).field == "contacts"


def test_tombstone_rejected() -> None:
    """A message without a value is rejected rather than crashing the worker."""
    with pytest.raises(InvalidEventError) as info:
        parse_event(None)  # type: ignore[arg-type]

    assert "tombstone" in str(info.value)


def test_deep_nesting_rejected() -> None:
    """JSON nested too deeply for the parser is rejected as a whole message."""
    assert "too deeply" in str(reject("[" * 100_000 + "]" * 100_000))


def test_huge_duration_rejected() -> None:
    """A duration above a year is rejected as a unit mistake."""
    document = {
        "type": "resolved",
        "event_id": "r",
        "ticket_id": "T",
        "occurred_at": "2024-05-01T10:00:00Z",
        "talk_seconds": 1.8e302,
    }

    assert reject(document).field == "talk_seconds"


def test_score_error_shows_score() -> None:
    """An out-of-range score error shows the score, not the whole message."""
    document = {
        "type": "survey",
        "event_id": "s",
        "occurred_at": "2024-05-01T10:00:00Z",
        "survey": "csat",
        "score": 9,
    }

    assert reject(document).value == 9


def test_message_key_must_match() -> None:
    """A message keyed by something other than its ticket_id is rejected."""
    from streamproc.events import check_message_key

    event = parse_event(json.dumps(OPENED))
    check_message_key(event, b"T1")
    with pytest.raises(InvalidEventError) as info:
        check_message_key(event, None)

    assert info.value.field == "(key)"


def test_future_event_rejected() -> None:
    """An event stamped far ahead of the clock is rejected."""
    from streamproc.events import check_not_future

    event = parse_event(json.dumps({**OPENED, "occurred_at": "2099-01-01T00:00:00Z"}))
    with pytest.raises(InvalidEventError) as info:
        check_not_future(event, now_us=1_714_550_400_000_000, max_ahead_us=86_400_000_000)

    assert info.value.field == "occurred_at"
