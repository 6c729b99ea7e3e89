"""Builders of import mappings and CSV text for the importer tests."""

from __future__ import annotations

import io
from typing import Any

import yaml

from streamproc.errors import RowMappingError
from streamproc.importer import FilteredRow, ImportedEvent, ImportItem, Mapping, parse_mapping
from streamproc.importer.convert import convert_rows

OPENED_TEMPLATE: dict[str, Any] = {
    "type": "ticket_opened",
    "occurred_at": {"column": "at"},
    "fields": {"channel": {"value": "chat"}},
}


def build_mapping(*events: dict[str, Any], **top: Any) -> Mapping:
    """Validate a mapping with a UTC timestamp rule, `{ticket}` ids and the given templates."""
    document: dict[str, Any] = {
        "timestamps": {"format": "%Y-%m-%d %H:%M:%S", "time_zone": "UTC"},
        "ticket_id": "{ticket}",
        "events": list(events) or [OPENED_TEMPLATE],
    }
    document.update(top)
    return parse_mapping(yaml.safe_dump(document, sort_keys=False), source="test mapping")


def convert(mapping: Mapping, csv_text: str) -> list[ImportItem]:
    """Convert CSV text and return every item."""
    return list(convert_rows(mapping, io.StringIO(csv_text)))


def events_of(items: list[ImportItem]) -> list[ImportedEvent]:
    """The converted events among the items."""
    return [item for item in items if isinstance(item, ImportedEvent)]


def errors_of(items: list[ImportItem]) -> list[RowMappingError]:
    """The row errors among the items."""
    return [item for item in items if isinstance(item, RowMappingError)]


def filtered_lines(items: list[ImportItem]) -> list[int]:
    """Line numbers of the filtered rows."""
    return [item.line for item in items if isinstance(item, FilteredRow)]
