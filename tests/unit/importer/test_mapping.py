"""Loading and validation of import mapping files, and the wording of their errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from streamproc.errors import MappingError
from streamproc.events import EventType
from streamproc.importer import load_mapping, parse_mapping
from tests.unit.importer.helpers import OPENED_TEMPLATE, build_mapping

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "mappings"


def reject(*events: dict[str, Any], **top: Any) -> str:
    """Build a mapping that must fail and return the error message."""
    with pytest.raises(MappingError) as info:
        build_mapping(*events, **top)
    return str(info.value)


def test_defaults() -> None:
    """A minimal mapping gets the documented defaults."""
    mapping = build_mapping()

    assert mapping.csv.delimiter == ","
    assert mapping.csv.encoding == "utf-8-sig"
    assert mapping.event_id == "{ticket_id}:{type}:{line}"


def test_load_from_file(tmp_path: Path) -> None:
    """load_mapping reads a YAML file."""
    path = tmp_path / "m.yaml"
    path.write_text(
        "ticket_id: '{id}'\n"
        "timestamps: {format: iso8601}\n"
        "events:\n"
        "  - type: ticket_opened\n"
        "    occurred_at: {column: at}\n"
        "    fields: {channel: {value: web}}\n",
        encoding="utf-8",
    )

    mapping = load_mapping(path)

    assert mapping.events[0].type is EventType.TICKET_OPENED


def test_missing_file(tmp_path: Path) -> None:
    """A missing file names the path."""
    with pytest.raises(MappingError, match="cannot read import mapping"):
        load_mapping(tmp_path / "absent.yaml")


def test_invalid_yaml() -> None:
    """Broken YAML is reported as such."""
    with pytest.raises(MappingError, match="not valid YAML"):
        parse_mapping("events: [unclosed")


def test_not_a_mapping() -> None:
    """A YAML list at the top level is rejected."""
    with pytest.raises(MappingError, match="must be a YAML mapping"):
        parse_mapping("- a\n- b\n")


def test_unknown_key_suggests() -> None:
    """An unknown key lists the allowed keys and the closest one."""
    message = reject(ticket_ids="{id}")

    assert "ticket_ids: unknown key" in message
    assert "did you mean 'ticket_id'?" in message


def test_events_required() -> None:
    """A mapping without events names the missing key."""
    with pytest.raises(MappingError) as info:
        parse_mapping("ticket_id: '{id}'\n", source="m.yaml")

    assert "events: is missing" in str(info.value)
    assert "m.yaml" in str(info.value)


def test_unknown_time_zone() -> None:
    """A time zone missing from the tz database is rejected with an example."""
    message = reject(timestamps={"format": "%H:%M", "time_zone": "Europe/Atlantis"})

    assert "unknown time zone 'Europe/Atlantis'" in message


def test_naive_format_needs_zone() -> None:
    """A strptime format without %z requires a time zone."""
    message = reject(timestamps={"format": "%Y-%m-%d %H:%M:%S"})

    assert "events[0].occurred_at:" in message
    assert "set timestamps.time_zone" in message


def test_date_conflicts_with_format() -> None:
    """A fixed date cannot be combined with a format that reads a date."""
    message = reject(
        timestamps={"format": "%Y-%m-%d %H:%M:%S", "time_zone": "UTC", "date": "1999-01-01"}
    )

    assert "reads a date" in message


def test_date_override_cleared() -> None:
    """A source can drop the mapping's fixed date with date: null."""
    template = {
        **OPENED_TEMPLATE,
        "occurred_at": {"column": "at", "format": "iso8601", "date": None},
    }

    mapping = build_mapping(
        template, timestamps={"format": "%H:%M:%S", "time_zone": "UTC", "date": "1999-01-01"}
    )

    assert mapping.timestamp_rule(mapping.events[0].occurred_at).date is None


def test_fixed_date_parsed() -> None:
    """The fixed date is read as a date."""
    mapping = build_mapping(
        timestamps={"format": "%H:%M:%S", "time_zone": "UTC", "date": "1999-01-01"}
    )

    assert mapping.timestamps.date == dt.date(1999, 1, 1)


def test_unknown_event_type() -> None:
    """An unknown event type lists the valid ones."""
    message = reject({**OPENED_TEMPLATE, "type": "opened"})

    assert "events[0].type" in message
    assert "'ticket_opened'" in message


def test_type_and_type_from_exclusive() -> None:
    """A template sets type or type_from, not both."""
    template = {**OPENED_TEMPLATE, "type_from": {"column": "a", "values": {"x": "resolved"}}}

    assert "exactly one of type or type_from" in reject(template)


def test_field_not_in_type() -> None:
    """A field that the event type lacks is named with the type's fields."""
    template = {
        **OPENED_TEMPLATE,
        "fields": {"channel": {"value": "chat"}, "talk_seconds": {"column": "t"}},
    }

    message = reject(template)

    assert "fields.talk_seconds: is not a field of ticket_opened events" in message


def test_field_checked_for_every_type() -> None:
    """A type_from template's fields must exist in every type it can emit."""
    template = {
        "type_from": {"column": "kind", "values": {"r": "first_reply", "x": "resolved"}},
        "occurred_at": {"column": "at"},
        "fields": {"author": {"value": "bot"}},
    }

    assert "not a field of resolved events" in reject(template)


def test_reserved_field() -> None:
    """occurred_at, ticket_id, event_id and type are not set in fields."""
    template = {
        **OPENED_TEMPLATE,
        "fields": {"channel": {"value": "chat"}, "ticket_id": {"column": "x"}},
    }

    assert "set the top-level `ticket_id` template" in reject(template)


def test_extra_field_not_contract() -> None:
    """extra_fields cannot hold a contract field, which would skip its parsing."""
    template = {**OPENED_TEMPLATE, "extra_fields": {"team": {"column": "t"}}}

    assert "move it to fields" in reject(template)


def test_constant_checked_against_contract() -> None:
    """A constant that the contract rejects fails at load, naming the allowed values."""
    template = {**OPENED_TEMPLATE, "fields": {"channel": {"value": "phne"}}}

    message = reject(template)

    assert "events[0].fields.channel.value:" in message
    assert "'phone'" in message


def test_map_value_checked() -> None:
    """Value map targets are checked against the contract."""
    template = {
        "type": "resolved",
        "occurred_at": {"column": "at"},
        "fields": {"outcome": {"column": "o", "map": {"HANG": "abandonned"}}},
    }

    assert "map['HANG']" in reject(template)


def test_constant_kind_checked() -> None:
    """A constant that does not fit the field's kind fails at load."""
    template = {
        "type": "resolved",
        "occurred_at": {"column": "at"},
        "fields": {"contacts": {"value": "one"}},
    }

    assert "is not a whole number" in reject(template)


def test_extra_constant_kind_checked() -> None:
    """An extra field's constant must fit the kind set with `as`."""
    template = {**OPENED_TEMPLATE, "extra_fields": {"size": {"value": "big", "as": "integer"}}}

    assert "extra_fields.size.value: 'big' is not a whole number" in reject(template)


def test_source_needs_one_origin() -> None:
    """A source sets exactly one of column, value or template."""
    template = {**OPENED_TEMPLATE, "fields": {"channel": {"column": "c", "value": "chat"}}}

    assert "found: column, value" in reject(template)


def test_map_needs_column() -> None:
    """A value map works only on a column."""
    template = {**OPENED_TEMPLATE, "fields": {"channel": {"value": "chat", "map": {"a": "web"}}}}

    assert "fields.channel.map: works only with column" in reject(template)


def test_column_must_be_text() -> None:
    """A column name that YAML reads as a number must be quoted."""
    with pytest.raises(MappingError, match="in quotes"):
        parse_mapping(
            "ticket_id: '{id}'\n"
            "timestamps: {format: iso8601}\n"
            "events:\n"
            "  - type: ticket_opened\n"
            "    occurred_at: {column: 2024}\n"
            "    fields: {channel: {value: web}}\n"
        )


def test_null_values_must_be_text() -> None:
    """An unquoted time such as 1:00:00, which YAML reads as 3600, is rejected."""
    with pytest.raises(MappingError, match="null_values.q_start"):
        parse_mapping(
            "ticket_id: '{id}'\n"
            "timestamps: {format: iso8601}\n"
            "null_values: {q_start: [1:00:00]}\n"
            "events:\n"
            "  - type: ticket_opened\n"
            "    occurred_at: {column: at}\n"
            "    fields: {channel: {value: web}}\n"
        )


def test_condition_needs_one_test() -> None:
    """A column condition has exactly one test."""
    template = {**OPENED_TEMPLATE, "when": {"column": "a", "equals": "x", "not_empty": True}}

    assert "set exactly one test" in reject(template)


def test_condition_shape() -> None:
    """A condition that is not a mapping shows the accepted forms."""
    template = {**OPENED_TEMPLATE, "when": ["outcome == AGENT"]}

    assert "{column: outcome, equals: AGENT}" in reject(template)


def test_parsing_option_on_wrong_kind() -> None:
    """Timestamp options on a text field are rejected."""
    template = {**OPENED_TEMPLATE, "fields": {"channel": {"column": "c", "format": "%H"}}}

    assert "applies only to timestamp fields" in reject(template)


def test_once_needs_ticket_id() -> None:
    """once_per_ticket needs a ticket_id template."""
    template = {
        **OPENED_TEMPLATE,
        "type": "survey",
        "once_per_ticket": True,
        "fields": {"survey": {"value": "csat"}, "score": {"column": "s"}},
    }

    message = reject(template, ticket_id=None, event_id="{line}")

    assert "events[0].once_per_ticket: needs a ticket_id" in message


def test_delimiter_one_character() -> None:
    """A delimiter longer than one character is rejected."""
    assert "exactly one character" in reject(csv={"delimiter": ";;"})


def test_unknown_encoding() -> None:
    """An encoding that Python does not know is rejected."""
    assert "unknown encoding" in reject(csv={"encoding": "utf-9"})


def test_bad_template_at_load() -> None:
    """A malformed ticket_id template fails at load."""
    assert "unmatched" in reject(ticket_id="{ticket")


@pytest.mark.parametrize("name", ["technion-bank-oneday.yaml", "helpdesk-eventlog.yaml"])
def test_examples_load(name: str) -> None:
    """The shipped example mappings are valid."""
    mapping = load_mapping(EXAMPLES / name)

    assert mapping.events
