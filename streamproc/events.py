"""The v1 event contract: pydantic models of the four event types and their parser.

Events are JSON objects, one per Kafka message, keyed by `ticket_id`. Unknown fields
are kept on the model and ignored, so producers can add fields without breaking workers.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from streamproc.errors import InvalidEventError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class EventType(StrEnum):
    TICKET_OPENED = "ticket_opened"
    FIRST_REPLY = "first_reply"
    RESOLVED = "resolved"
    SURVEY = "survey"


class Channel(StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    WEB = "web"
    SOCIAL = "social"
    SMS = "sms"
    OTHER = "other"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Author(StrEnum):
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    ABANDONED = "abandoned"


class SurveyKind(StrEnum):
    CSAT = "csat"
    CES = "ces"
    NPS = "nps"


# Inclusive score range of each survey kind.
SCORE_RANGES: dict[SurveyKind, tuple[int, int]] = {
    SurveyKind.CSAT: (1, 5),
    SurveyKind.CES: (1, 7),
    SurveyKind.NPS: (0, 10),
}

# A year bounds every duration; larger values are unit mistakes (milliseconds sent as seconds).
MAX_DURATION_SECONDS = 365 * 86_400
NonNegativeSeconds = Annotated[float, Field(ge=0, le=MAX_DURATION_SECONDS, allow_inf_nan=False)]
NonEmptyString = Annotated[str, Field(min_length=1, max_length=512)]


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, use_enum_values=False)

    event_id: NonEmptyString
    occurred_at: AwareDatetime
    ticket_id: NonEmptyString | None = None
    agent_id: NonEmptyString | None = None

    @property
    def occurred_us(self) -> int:
        """Event time as whole microseconds since the Unix epoch (UTC)."""
        delta = self.occurred_at - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class TicketOpened(_EventBase):
    type: Literal[EventType.TICKET_OPENED] = EventType.TICKET_OPENED
    ticket_id: NonEmptyString
    channel: Channel
    team: NonEmptyString | None = None
    priority: Priority | None = None


class FirstReply(_EventBase):
    type: Literal[EventType.FIRST_REPLY] = EventType.FIRST_REPLY
    ticket_id: NonEmptyString
    author: Author = Author.AGENT
    public: bool = True

    @property
    def is_qualifying(self) -> bool:
        """Whether this reply can end the first-response clock: human and public."""
        return self.author is Author.AGENT and self.public


class Resolved(_EventBase):
    type: Literal[EventType.RESOLVED] = EventType.RESOLVED
    ticket_id: NonEmptyString
    outcome: Outcome = Outcome.RESOLVED
    handle_seconds: NonNegativeSeconds | None = None
    talk_seconds: NonNegativeSeconds | None = None
    hold_seconds: NonNegativeSeconds | None = None
    after_contact_seconds: NonNegativeSeconds | None = None
    contacts: Annotated[int, Field(ge=1)] | None = None

    @property
    def total_handle_seconds(self) -> float | None:
        """Handle time: `handle_seconds`, else the sum of the parts given, else None."""
        if self.handle_seconds is not None:
            return self.handle_seconds
        parts = (self.talk_seconds, self.hold_seconds, self.after_contact_seconds)
        if all(part is None for part in parts):
            return None
        return sum(part for part in parts if part is not None)


class Survey(_EventBase):
    type: Literal[EventType.SURVEY] = EventType.SURVEY
    survey: SurveyKind
    score: int | None = Field(strict=True)
    response_id: NonEmptyString | None = None

    @model_validator(mode="after")
    def _check_score_range(self) -> Survey:
        if self.score is None:
            return self
        low, high = SCORE_RANGES[self.survey]
        if not low <= self.score <= high:
            raise ValueError(
                f"score {self.score} is out of range for {self.survey.value} ({low} to {high})"
            )
        return self


Event = Annotated[
    Union[TicketOpened, FirstReply, Resolved, Survey],
    Field(discriminator="type"),
]

_EVENT_ADAPTER: TypeAdapter[TicketOpened | FirstReply | Resolved | Survey] = TypeAdapter(Event)

MODELS: dict[EventType, type[_EventBase]] = {
    EventType.TICKET_OPENED: TicketOpened,
    EventType.FIRST_REPLY: FirstReply,
    EventType.RESOLVED: Resolved,
    EventType.SURVEY: Survey,
}

AnyEvent = TicketOpened | FirstReply | Resolved | Survey

_FIXES: dict[str, str] = {
    "event_id": "send a non-empty string that is unique per logical event",
    "occurred_at": "send an RFC 3339 timestamp with a UTC offset, such as 2024-05-01T10:00:00Z",
    "ticket_id": "send the ticket id as a non-empty string (it is also the message key)",
    "type": "send one of ticket_opened, first_reply, resolved, survey",
    "channel": "send one of " + ", ".join(c.value for c in Channel),
    "priority": "send one of " + ", ".join(p.value for p in Priority) + ", or leave it out",
    "author": "send one of agent, bot, system",
    "outcome": "send resolved or abandoned",
    "contacts": "send a whole number of customer contacts, 1 or more",
    "survey": "send one of csat, ces, nps",
    "score": "send a whole number in range (csat 1-5, ces 1-7, nps 0-10), or null for no score",
}
_DURATION_FIX = "send a number of seconds, 0 or more, or leave the field out"


def parse_event(raw: bytes | str, *, topic_type: EventType | None = None) -> AnyEvent:
    """Decode and validate one event.

    `topic_type` is the type implied by the topic the message came from: a message
    without `type` takes it, and a message whose `type` differs is rejected. Without
    `topic_type` (events read from a file), `type` is required.

    Raises InvalidEventError naming the field, the value and the fix.
    """
    document = _decode_json(raw)
    declared = document.get("type")

    if topic_type is not None:
        if declared is None:
            document["type"] = topic_type.value
        elif declared != topic_type.value:
            raise InvalidEventError(
                field="type",
                value=declared,
                reason=f"does not match the topic, which carries {topic_type.value} events",
                fix=f"send {topic_type.value} events only to this topic, or drop the field",
            )
    elif declared is None:
        raise InvalidEventError(
            field="type", value=None, reason="is missing", fix=_FIXES["type"]
        )

    _reject_ticketless_non_survey(document)
    try:
        return _EVENT_ADAPTER.validate_python(document)
    except ValidationError as exc:
        raise _translate(exc) from exc


def event_to_json(event: AnyEvent) -> str:
    """Serialise an event to its contract JSON form (extra fields included)."""
    return event.model_dump_json(exclude_none=True)


def _decode_json(raw: bytes | str | None) -> dict[str, Any]:
    if raw is None:
        raise InvalidEventError(
            field="(message)",
            value=None,
            reason="has no value (a tombstone)",
            fix="send one JSON object per message; streamproc topics are not compacted",
        )
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InvalidEventError(
            field="(message)",
            value=raw[max(0, exc.start - 10) : exc.end + 10],
            reason=f"is not UTF-8 (byte {exc.start})",
            fix="encode the JSON text as UTF-8",
        ) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEventError(
            field="(message)",
            value=text[:80],
            reason=f"is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})",
            fix="send one JSON object per message",
        ) from exc
    except RecursionError as exc:
        raise InvalidEventError(
            field="(message)",
            value=text[:80],
            reason="nests JSON too deeply to parse",
            fix="send one flat JSON object per message",
        ) from exc
    if not isinstance(document, dict):
        kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
        name = "null" if document is None else kind.get(type(document), type(document).__name__)
        raise InvalidEventError(
            field="(message)",
            value=document,
            reason=f"is a JSON {name}, not an object",
            fix="send one JSON object per message",
        )
    return document


def _reject_ticketless_non_survey(document: dict[str, Any]) -> None:
    if document.get("type") == EventType.SURVEY.value:
        return
    if document.get("ticket_id") is None:
        raise InvalidEventError(
            field="ticket_id",
            value=None,
            reason="is missing (only a survey may omit it)",
            fix=_FIXES["ticket_id"],
        )


def _translate(exc: ValidationError) -> InvalidEventError:
    error = exc.errors(include_url=False)[0]
    location = [str(part) for part in error["loc"]]
    # The discriminated union puts the type tag first in the location; drop it.
    if location and location[0] in {t.value for t in EventType}:
        location = location[1:]
    field = ".".join(location) or "score"
    value = error.get("input")
    reason = error["msg"]

    if error["type"] == "missing":
        reason = "is missing"
    elif error["type"] == "timezone_aware":
        reason = "has no UTC offset (naive timestamps are ambiguous)"
    elif error["type"] == "union_tag_invalid":
        field = "type"
        value = error["input"].get("type") if isinstance(error["input"], dict) else None
        reason = "is not an event type"
    elif reason.startswith("Value error, "):
        reason = reason.removeprefix("Value error, ")
        # A model-level check reports the whole document as its input; show the score.
        if field == "score" and isinstance(value, dict):
            value = value.get("score")

    leaf = location[-1] if location else field
    if leaf.endswith("_seconds"):
        fix = _DURATION_FIX
    else:
        fix = _FIXES.get(leaf, "see the JSON Schema of the event under docs/schemas/")
    return InvalidEventError(field=field, value=value, reason=reason, fix=fix)


def event_json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each event type, generated from the models."""
    return {kind.value: model.model_json_schema() for kind, model in MODELS.items()}


def check_message_key(event: AnyEvent, key: bytes | None) -> None:
    """Reject a message whose key is not the one its partition must be chosen by.

    The per-ticket state lives in the partition of the ticket's key, so a ticket's events
    keyed differently would be split across partitions and counted wrongly. A ticket-less
    survey must be keyed by its `response_id`, else by its `event_id`.
    """
    if event.ticket_id is not None:
        expected = event.ticket_id
        fix = "key every message by its ticket_id"
    else:
        assert isinstance(event, Survey)
        expected = event.response_id or event.event_id
        fix = "key a survey without ticket_id by its response_id, else its event_id"
    actual = key.decode("utf-8", errors="replace") if key is not None else None
    if actual != expected:
        raise InvalidEventError(
            field="(key)", value=actual, reason=f"does not match {expected!r}", fix=fix
        )


def check_not_future(event: AnyEvent, *, now_us: int, max_ahead_us: int) -> None:
    """Reject an event stamped further ahead of `now_us` than `max_ahead_us`.

    One event from a clock set years ahead would move the event-time clock there and
    empty every window, so it is rejected instead.
    """
    if event.occurred_us > now_us + max_ahead_us:
        raise InvalidEventError(
            field="occurred_at",
            value=event.occurred_at.isoformat(),
            reason="is too far in the future (check the sender's clock)",
            fix="send the time the event happened; raise STREAMPROC_MAX_FUTURE_SKEW "
            "if senders' clocks are known to run ahead",
        )
