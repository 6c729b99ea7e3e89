"""Conversion of one CSV row into contract events, all or nothing.

When one of a row's events fails, the row yields only its errors, so no ticket gets part
of a row's events. The converter keeps the state that spans rows: the tickets that
`once_per_ticket` templates have claimed and the event ids already written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streamproc.errors import InvalidEventError, MappingError, RowMappingError
from streamproc.events import MODELS, AnyEvent, EventType, parse_event
from streamproc.importer.mapping import EventTemplate, Mapping
from streamproc.importer.sources import Source
from streamproc.importer.templates import TemplatePart, parse_template
from streamproc.importer.values import (
    Scalar,
    ValueKind,
    coerce_constant,
    parse_text,
    parse_timestamp,
)


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    """A validated contract event and the CSV line of the row it came from."""

    line: int
    event: AnyEvent


@dataclass(frozen=True, slots=True)
class FilteredRow:
    """A row that no event template applies to, because of its `when` or `type_from`."""

    line: int


ImportItem = ImportedEvent | FilteredRow | RowMappingError


def _locate_columns(header: list[str], mapping: Mapping) -> dict[str, int]:
    positions: dict[str, int] = {}
    problems: list[str] = []
    for column, keys in mapping.column_uses().items():
        found = [index for index, name in enumerate(header) if name == column]
        used_by = ", ".join(dict.fromkeys(keys))
        if not found:
            problems.append(f"column {column!r} (read by {used_by}) is not in the header")
        elif len(found) > 1:
            problems.append(
                f"column {column!r} (read by {used_by}) appears {len(found)} times in the header,"
                " so the mapping cannot tell which one to read"
            )
        else:
            positions[column] = found[0]

    if problems:
        raise MappingError(
            "the CSV file does not fit the mapping: "
            + "; ".join(problems)
            + f". The header has the columns {header}; fix the names in the mapping"
            " (they are case- and space-sensitive) or import the file the mapping was written for"
        )
    return positions


class _Row:
    """The cells of one data row, looked up by column name."""

    def __init__(self, line: int, cells: list[str], converter: RowConverter) -> None:
        self.line = line
        self._cells = cells
        self._converter = converter
        self._ticket_id: str | None = None

    def raw(self, column: str) -> str:
        cell = self._cells[self._converter.positions[column]]
        return cell.strip() if self._converter.strip else cell

    def value(self, column: str) -> str | None:
        """Return the cell text, or None when it is empty or one of the column's null values."""
        text = self.raw(column)
        if text == "" or text in self._converter.null_values.get(column, ()):
            return None
        return text

    def first_value(self, columns: Sequence[str]) -> tuple[str, str | None]:
        """Return the first column with a value and the value, else the first column and None."""
        for column in columns:
            text = self.value(column)
            if text is not None:
                return column, text
        return columns[0], None

    def render(self, parts: tuple[TemplatePart, ...], key: str, builtins: dict[str, str]) -> str:
        """Fill a template; an empty column raises RowMappingError naming `key`."""
        pieces = []
        for part in parts:
            if not part.is_placeholder:
                pieces.append(part.text)
            elif part.text in builtins:
                pieces.append(builtins[part.text])
            else:
                text = self.value(part.text)
                if text is None:
                    raise RowMappingError(
                        line=self.line,
                        column=part.text,
                        value=self.raw(part.text),
                        reason=f"is empty, but the {key} template needs it",
                    )
                pieces.append(text)
        return "".join(pieces)

    def ticket_id(self) -> str:
        """Return the row's ticket id from the mapping's template, computed once."""
        if self._ticket_id is None:
            template = self._converter.mapping.ticket_id
            assert template is not None  # templates that need it are rejected at load
            self._ticket_id = self.render(parse_template(template), "ticket_id", {})
        return self._ticket_id


class RowConverter:
    """Row converter, with the state that spans rows: tickets seen and event ids."""

    def __init__(self, mapping: Mapping, header: list[str]) -> None:
        self.mapping = mapping
        self.positions = _locate_columns(header, mapping)
        self.null_values = {
            column: frozenset(values) for column, values in mapping.null_values.items()
        }
        self.strip = mapping.csv.strip
        self._width = len(header)
        self._once_seen: set[tuple[int, str]] = set()
        # NOTE: keeps every event id of the file with its line, to reject duplicates.
        # Memory grows with the file, by roughly 100 bytes per event (an estimate).
        self._event_lines: dict[str, int] = {}

    def convert(self, line: int, cells: list[str]) -> Sequence[ImportItem]:
        """Convert one data row, all or nothing."""
        if len(cells) != self._width:
            return [
                RowMappingError(
                    line=line,
                    column="(row)",
                    value=f"{len(cells)} fields",
                    reason=f"has {len(cells)} fields but the header has {self._width};"
                    " check the quoting and csv.delimiter",
                )
            ]

        row = _Row(line, cells, self)
        events: list[AnyEvent] = []
        errors: list[RowMappingError] = []
        for index, template in enumerate(self.mapping.events):
            try:
                event = self._apply(index, template, row)
            except RowMappingError as exc:
                errors.append(exc)
                continue
            if event is not None:
                events.append(event)

        errors.extend(self._check_event_ids(line, events))
        if errors:
            return errors
        if not events:
            return [FilteredRow(line)]
        for event in events:
            self._event_lines[event.event_id] = line
        return [ImportedEvent(line, event) for event in events]

    def _apply(self, index: int, template: EventTemplate, row: _Row) -> AnyEvent | None:
        event_type = _select_type(template, row)
        if event_type is None:
            return None

        # The first row of a ticket where the template applies claims it, even if the
        # row then fails, so a failed open is reported and never moved to a later row.
        if template.once_per_ticket:
            claim = (index, row.ticket_id())
            if claim in self._once_seen:
                return None
            self._once_seen.add(claim)

        document = self._build_document(template, event_type, row)
        try:
            return parse_event(json.dumps(document))
        except InvalidEventError as exc:
            raise RowMappingError(
                line=row.line,
                column=_describe_origin(template, exc.field),
                value=exc.value,
                reason=f"gives an invalid {event_type.value} field {exc.field}: {exc.reason}",
            ) from exc

    def _build_document(
        self, template: EventTemplate, event_type: EventType, row: _Row
    ) -> dict[str, Any]:
        document: dict[str, Any] = {"type": event_type.value}
        if self.mapping.ticket_id is not None:
            document["ticket_id"] = row.ticket_id()

        for key, name, source, kind in template.sources():
            value = self._resolve(source, kind, row, key=f"{event_type.value}.{name}")
            if value is None:
                _check_optional(event_type, name, source, row)
                continue
            document[name] = value.isoformat() if isinstance(value, dt.datetime) else value

        builtins = {
            "ticket_id": document.get("ticket_id", ""),
            "type": event_type.value,
            "line": str(row.line),
        }
        document["event_id"] = row.render(
            parse_template(self.mapping.event_id), "event_id", builtins
        )
        return document

    def _resolve(
        self, source: Source, kind: ValueKind, row: _Row, *, key: str
    ) -> Scalar | dt.datetime | None:
        if source.value is not None:
            return self._parse(source.value, source, kind, row, column="(constant value)", key=key)
        if source.template is not None:
            text = row.render(parse_template(source.template), key, {})
            return self._parse(text, source, kind, row, column=source.describe(), key=key)

        assert source.column is not None  # a source has exactly one origin
        column, cell = row.first_value(source.column)
        if cell is None:
            if source.default is None:
                return None
            return self._parse(
                source.default, source, kind, row, column=column, key=key, constant=True
            )
        if source.map is None:
            return self._parse(cell, source, kind, row, column=column, key=key)

        if cell in source.map:
            mapped = source.map[cell]
        elif source.otherwise is not None:
            mapped = source.otherwise
        else:
            listed = ", ".join(repr(listed_cell) for listed_cell in source.map)
            raise RowMappingError(
                line=row.line,
                column=column,
                value=cell,
                reason=f"is not in the value map of {key} ({listed});"
                " add it to map, or set otherwise",
            )
        return self._parse(mapped, source, kind, row, column=column, key=key, constant=True)

    def _parse(
        self,
        value: Scalar,
        source: Source,
        kind: ValueKind,
        row: _Row,
        *,
        column: str,
        key: str,
        constant: bool = False,
    ) -> Scalar | dt.datetime:
        try:
            if kind is ValueKind.TIMESTAMP:
                rule = self.mapping.timestamp_rule(source)
                return parse_timestamp(
                    str(value),
                    strptime_format=rule.format,
                    time_zone=rule.time_zone,
                    date=rule.date,
                )
            if constant or not isinstance(value, str):
                return coerce_constant(value, kind)
            return parse_text(value, kind, duration_format=self.mapping.duration_format(source))
        except ValueError as exc:
            raise RowMappingError(
                line=row.line, column=column, value=value, reason=f"{exc} (for {key})"
            ) from None

    def _check_event_ids(self, line: int, events: list[AnyEvent]) -> list[RowMappingError]:
        errors = []
        in_row: set[str] = set()
        for event in events:
            earlier = line if event.event_id in in_row else self._event_lines.get(event.event_id)
            if earlier is not None:
                errors.append(
                    RowMappingError(
                        line=line,
                        column="(event_id template)",
                        value=event.event_id,
                        reason=f"is the id of another event, from line {earlier}; add {{line}}"
                        " or {type} to the event_id template so that ids are unique",
                    )
                )
            in_row.add(event.event_id)
        return errors


def _select_type(template: EventTemplate, row: _Row) -> EventType | None:
    if not all(condition.is_met(row.value) for condition in template.when):
        return None
    if template.type is not None:
        return template.type

    assert template.type_from is not None  # a template has type or type_from
    value = row.value(template.type_from.column)
    if value is None:
        return None
    return template.type_from.values.get(value)


def _check_optional(event_type: EventType, name: str, source: Source, row: _Row) -> None:
    # An empty optional field is left out. An empty required field fails the row here,
    # so the error names the column instead of a bare "missing" from the contract.
    info = MODELS[event_type].model_fields.get(name)
    if info is None or not info.is_required():
        return
    columns = source.column or ()
    raise RowMappingError(
        line=row.line,
        column=source.describe(),
        value=row.raw(columns[0]) if columns else None,
        reason=f"is empty, but {event_type.value} events require {name}; set a default,"
        " or a when condition that skips such rows",
    )


def _describe_origin(template: EventTemplate, event_field: str) -> str:
    if event_field == "occurred_at":
        return template.occurred_at.describe()
    source = template.fields.get(event_field) or template.extra_fields.get(event_field)
    if source is not None:
        return source.describe()
    if event_field in ("ticket_id", "event_id"):
        return f"({event_field} template)"
    return f"(field {event_field})"
