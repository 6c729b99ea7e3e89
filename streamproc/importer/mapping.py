"""Import mappings: YAML files that map the rows of a CSV export to contract events.

`load_mapping` reads and validates a mapping file and raises MappingError naming the
key, the bad value and the fix. docs/import-mappings.md describes the format.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from streamproc.errors import MappingError
from streamproc.events import MODELS, EventType
from streamproc.importer.base import InvalidKey, MappingModel, TextList
from streamproc.importer.conditions import CONDITION_TAGS, Condition, to_condition_list
from streamproc.importer.sources import CsvDialect, DurationRule, Source, TimestampRule
from streamproc.importer.templates import parse_template, template_placeholders
from streamproc.importer.values import (
    ISO_8601,
    DurationFormat,
    ValueKind,
    coerce_constant,
    has_date_directive,
    has_offset_directive,
)

DEFAULT_EVENT_ID = "{ticket_id}:{type}:{line}"
# Placeholders of the event id template that are not columns. They win over a column
# of the same name, such as the `type` column of the Technion call log.
EVENT_ID_BUILTINS = frozenset({"ticket_id", "type", "line"})

# Event fields that a template sets outside `fields`, and where to set them instead.
_RESERVED_FIELDS = {
    "type": "set `type` or `type_from` on the event template",
    "event_id": "set the top-level `event_id` template",
    "ticket_id": "set the top-level `ticket_id` template",
    "occurred_at": "set `occurred_at` on the event template",
}
_FIELD_KINDS = {
    "occurred_at": ValueKind.TIMESTAMP,
    "contacts": ValueKind.INTEGER,
    "score": ValueKind.INTEGER,
    "public": ValueKind.BOOLEAN,
}


def field_kind(name: str) -> ValueKind:
    """Return the default kind of a contract field: timestamp, duration, integer, boolean, text."""
    if name.endswith("_seconds"):
        return ValueKind.DURATION
    return _FIELD_KINDS.get(name, ValueKind.STRING)


class TypeFrom(MappingModel):
    """Event type chosen by the value of a column. Other values give no event."""

    column: str
    values: dict[str, EventType] = Field(min_length=1)


@lru_cache(maxsize=128)
def _field_adapter(event_type: EventType, name: str) -> TypeAdapter[Any]:
    # The field's constraints (min_length, ge) sit in its metadata, not in its annotation.
    info = MODELS[event_type].model_fields[name]
    annotation = cast(Any, info.annotation)
    if info.metadata:
        annotation = Annotated[annotation, *info.metadata]
    return TypeAdapter(annotation)


class EventTemplate(MappingModel):
    """One event that a row can produce, with the conditions under which it does."""

    type: EventType | None = None
    type_from: TypeFrom | None = None
    when: Annotated[tuple[Condition, ...], BeforeValidator(to_condition_list)] = ()
    once_per_ticket: bool = False
    occurred_at: Source
    fields: dict[str, Source] = Field(default_factory=dict)
    extra_fields: dict[str, Source] = Field(default_factory=dict)

    @property
    def event_types(self) -> list[EventType]:
        """Every type this template can emit."""
        if self.type is not None:
            return [self.type]
        assert self.type_from is not None  # guaranteed by _check_template
        return [kind for kind in EventType if kind in self.type_from.values.values()]

    def sources(self) -> Iterator[tuple[str, str, Source, ValueKind]]:
        """Yield each source as (key in the mapping, event field, source, value kind)."""
        yield "occurred_at", "occurred_at", self.occurred_at, ValueKind.TIMESTAMP
        for name, source in self.fields.items():
            yield f"fields.{name}", name, source, source.as_ or field_kind(name)
        for name, source in self.extra_fields.items():
            yield f"extra_fields.{name}", name, source, source.as_ or ValueKind.STRING

    def columns_used(self) -> Iterator[tuple[str, str]]:
        """Yield each column this template reads, with the key that reads it."""
        if self.type_from is not None:
            yield self.type_from.column, "type_from.column"
        for condition in self.when:
            for column in condition.columns_used():
                yield column, "when"
        for key, _, source, _ in self.sources():
            for column in source.columns_used():
                yield column, key

    @model_validator(mode="after")
    def _check_template(self) -> EventTemplate:
        if (self.type is None) == (self.type_from is None):
            raise ValueError("set exactly one of type or type_from")
        if self.occurred_at.as_ not in (None, ValueKind.TIMESTAMP):
            raise InvalidKey("occurred_at.as", "must be timestamp or left out")

        for key, name, source, kind in self.sources():
            if key.startswith("fields."):
                self._check_contract_field(name)
            elif key.startswith("extra_fields."):
                self._check_extra_field(name)
            self._check_constants(key, name, source, kind)
        return self

    def _check_contract_field(self, name: str) -> None:
        if name in _RESERVED_FIELDS:
            raise InvalidKey(f"fields.{name}", f"cannot be set here; {_RESERVED_FIELDS[name]}")
        for event_type in self.event_types:
            if name not in MODELS[event_type].model_fields:
                known = sorted(set(MODELS[event_type].model_fields) - set(_RESERVED_FIELDS))
                raise InvalidKey(
                    f"fields.{name}",
                    f"is not a field of {event_type.value} events (fields: "
                    f"{', '.join(known)}); fix the name, give that event its own template,"
                    " or move it to extra_fields to pass it through unchecked",
                )

    def _check_extra_field(self, name: str) -> None:
        contract = set(_RESERVED_FIELDS)
        for event_type in self.event_types:
            contract |= set(MODELS[event_type].model_fields)
        if name in contract:
            raise InvalidKey(
                f"extra_fields.{name}", "is a contract field; move it to fields so it is validated"
            )

    def _check_constants(self, key: str, name: str, source: Source, kind: ValueKind) -> None:
        # Timestamp constants need the mapping's timestamp rule, so rows check those.
        if kind is ValueKind.TIMESTAMP:
            return

        for label, constant in source.constants():
            try:
                value = coerce_constant(constant, kind)
            except ValueError as exc:
                raise InvalidKey(f"{key}.{label}", f"{constant!r} {exc}") from None
            if key.startswith("extra_fields."):
                continue
            for event_type in self.event_types:
                try:
                    _field_adapter(event_type, name).validate_python(value)
                except ValidationError as exc:
                    reason = exc.errors(include_url=False)[0]["msg"]
                    raise InvalidKey(
                        f"{key}.{label}",
                        f"{constant!r} is not a valid {name} of {event_type.value} events:"
                        f" {reason}",
                    ) from None


class Mapping(MappingModel):
    """A validated import mapping: how the rows of one kind of CSV export become events."""

    version: Literal[1] = 1
    description: str | None = None
    csv: CsvDialect = Field(default_factory=CsvDialect)
    null_values: dict[str, TextList] = Field(default_factory=dict)
    timestamps: TimestampRule = Field(default_factory=TimestampRule)
    durations: DurationRule = Field(default_factory=DurationRule)
    ticket_id: str | None = None
    event_id: str = DEFAULT_EVENT_ID
    # A list, because pydantic 2 adds a spurious "too short" error to a tuple whose items fail.
    events: list[EventTemplate] = Field(min_length=1)

    @field_validator("ticket_id", "event_id")
    @classmethod
    def _check_template_syntax(cls, value: str | None) -> str | None:
        if value is not None:
            parse_template(value)
        return value

    @model_validator(mode="after")
    def _check_mapping(self) -> Mapping:
        if self.ticket_id is None:
            if "ticket_id" in template_placeholders(self.event_id):
                raise InvalidKey(
                    "event_id",
                    "uses {ticket_id}, but ticket_id is not set; add a ticket_id template",
                )
            for index, template in enumerate(self.events):
                if template.once_per_ticket:
                    raise InvalidKey(
                        f"events[{index}].once_per_ticket", "needs a ticket_id template"
                    )

        for index, template in enumerate(self.events):
            for key, _, source, kind in template.sources():
                self._check_parsing_options(f"events[{index}].{key}", source, kind)
        return self

    def _check_parsing_options(self, key: str, source: Source, kind: ValueKind) -> None:
        if kind is not ValueKind.TIMESTAMP:
            for option in ("format", "time_zone", "date"):
                if option in source.model_fields_set:
                    raise InvalidKey(
                        f"{key}.{option}", "applies only to timestamp fields; remove it"
                    )
        if kind is not ValueKind.DURATION and source.duration_format is not None:
            raise InvalidKey(f"{key}.duration_format", "applies only to duration fields; remove it")
        if kind is not ValueKind.TIMESTAMP:
            return

        rule = self.timestamp_rule(source)
        reads_date = rule.format == ISO_8601 or has_date_directive(rule.format)
        if rule.date is not None and reads_date:
            raise InvalidKey(
                key,
                f"the timestamp format {rule.format!r} reads a date, and date"
                f" {rule.date.isoformat()} is also set;"
                " drop the date, or set date: null on this field",
            )
        if rule.format != ISO_8601 and not has_offset_directive(rule.format) and not rule.time_zone:
            raise InvalidKey(
                key,
                f"the timestamp format {rule.format!r} has no UTC offset (%z), so the"
                " naive times need a zone;"
                " set timestamps.time_zone to an IANA name such as Europe/Rome",
            )

    @property
    def encoding(self) -> str:
        """Text encoding of the CSV file (`csv.encoding`), for opening it."""
        return self.csv.encoding

    def timestamp_rule(self, source: Source) -> TimestampRule:
        """Return the timestamp rule of a source: its own options, else `timestamps`."""
        base = self.timestamps
        overrides = source.model_fields_set
        return TimestampRule.model_construct(
            format=source.format if source.format is not None else base.format,
            time_zone=source.time_zone if "time_zone" in overrides else base.time_zone,
            date=source.date if "date" in overrides else base.date,
        )

    def duration_format(self, source: Source) -> DurationFormat:
        """Return the duration notation of a source: its own option, else `durations.format`."""
        return source.duration_format or self.durations.format

    def column_uses(self) -> dict[str, list[str]]:
        """Return every column the mapping reads, with the keys that read it."""
        uses: dict[str, list[str]] = {}
        for column in self.null_values:
            uses.setdefault(column, []).append(f"null_values.{column}")
        if self.ticket_id is not None:
            for column in template_placeholders(self.ticket_id):
                uses.setdefault(column, []).append("ticket_id")
        for column in template_placeholders(self.event_id):
            if column not in EVENT_ID_BUILTINS:
                uses.setdefault(column, []).append("event_id")
        for index, template in enumerate(self.events):
            for column, key in template.columns_used():
                uses.setdefault(column, []).append(f"events[{index}].{key}")
        return uses


def load_mapping(path: Path) -> Mapping:
    """Read and validate the YAML import mapping at `path`.

    Raises MappingError naming the file, the key, the bad value and the fix.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(
            f"cannot read import mapping {path}: {exc.strerror or exc}; check the path"
        ) from exc
    return parse_mapping(text, source=str(path))


def parse_mapping(text: str, *, source: str = "<string>") -> Mapping:
    """Validate an import mapping given as YAML text; `source` names it in errors."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"import mapping {source} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise MappingError(
            f"import mapping {source} must be a YAML mapping with keys such as ticket_id and"
            f" events, not a {type(document).__name__}"
        )

    try:
        return Mapping.model_validate(document)
    except ValidationError as exc:
        raise MappingError(_describe_errors(source, exc)) from exc


def _describe_errors(source: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        key = _format_location(error["loc"])
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, InvalidKey):
            key = _join_key(key, cause.key)
        problems.append(f"  {key or '(top level)'}: {_describe_error(error)}")
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    return f"invalid import mapping {source} ({count} {noun}):\n" + "\n".join(problems)


def _describe_error(error: Any) -> str:
    kind = error["type"]
    message: str = error["msg"]
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "missing":
        return "is missing; add it"
    if kind == "string_type":
        return (
            f"must be text, not {error['input']!r}; put it in quotes so YAML does not read it"
            " as a number, time or boolean"
        )
    if kind in ("model_type", "dict_type"):
        return f"must be a mapping of keys to values, not {error['input']!r}"
    return f"{message} (got {error['input']!r})"


def _join_key(parent: str, child: str) -> str:
    if not parent or child.startswith("["):
        return parent + child
    return f"{parent}.{child}"


def _format_location(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        if part in CONDITION_TAGS:
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
