"""Mapping file sections that control how cells are read.

They are the CSV dialect, the timestamp and duration rules, and the source of each field value.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from streamproc.importer.base import InvalidKey, MappingModel, ScalarValue
from streamproc.importer.templates import parse_template, template_placeholders
from streamproc.importer.values import (
    ISO_8601,
    DurationFormat,
    Scalar,
    ValueKind,
    load_zone,
)


def _to_column_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    raise ValueError(
        "must be a column name or a non-empty list of column names, such as [q_exit, vru_exit];"
        " put names that YAML reads as numbers in quotes"
    )


class CsvDialect(MappingModel):
    """Decoding and field splitting of the CSV file."""

    delimiter: str = ","
    quotechar: str = '"'
    # utf-8-sig also reads plain UTF-8, and drops the byte-order mark that Excel writes.
    encoding: str = "utf-8-sig"
    strip: bool = True

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _check_single_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(
                f"must be exactly one character, not {value!r};"
                ' write a tab as "\\t" in double quotes'
            )
        return value

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown encoding {value!r};"
                " use a Python codec name such as utf-8, cp1252 or latin-1"
            ) from None
        return value


class TimestampRule(MappingModel):
    """Parsing rule of timestamp cells: strptime format, zone of naive values, fixed date."""

    format: str = ISO_8601
    time_zone: str | None = None
    date: dt.date | None = None

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str | None) -> str | None:
        if value is not None:
            load_zone(value)
        return value


class DurationRule(MappingModel):
    """Parsing rule of duration cells: seconds, or H:MM:SS."""

    format: DurationFormat = DurationFormat.SECONDS


class Source(MappingModel):
    """Origin of one field value (a column, a constant or a template) and its parsing options.

    `column` contains one or more names, and the first non-empty cell among them is used.
    """

    column: Annotated[tuple[str, ...] | None, BeforeValidator(_to_column_list)] = None
    value: ScalarValue | None = None
    template: str | None = None
    map: dict[str, ScalarValue] | None = None
    otherwise: ScalarValue | None = None
    default: ScalarValue | None = None
    as_: ValueKind | None = Field(default=None, alias="as")
    format: str | None = None
    time_zone: str | None = None
    date: dt.date | None = None
    duration_format: DurationFormat | None = None

    @model_validator(mode="after")
    def _check_origin(self) -> Source:
        origins = [key for key in ("column", "value", "template") if getattr(self, key) is not None]
        if len(origins) != 1:
            found = ", ".join(origins) or "none"
            raise ValueError(f"set exactly one of column, value or template (found: {found})")

        if self.column is None:
            for key in ("map", "otherwise", "default"):
                if getattr(self, key) is not None:
                    raise InvalidKey(key, "works only with column; remove it or read a column")
        if self.otherwise is not None and self.map is None:
            raise InvalidKey("otherwise", "is the value for cells missing from map; add a map")
        if self.template is not None:
            parse_template(self.template)
        if self.time_zone is not None:
            load_zone(self.time_zone)
        return self

    def columns_used(self) -> list[str]:
        """Return the columns this source reads."""
        if self.column is not None:
            return list(self.column)
        if self.template is not None:
            return template_placeholders(self.template)
        return []

    def constants(self) -> Iterator[tuple[str, Scalar]]:
        """Yield the constant values of this source, each with the key that sets it."""
        if self.value is not None:
            yield "value", self.value
        for cell, mapped in (self.map or {}).items():
            yield f"map[{cell!r}]", mapped
        if self.otherwise is not None:
            yield "otherwise", self.otherwise
        if self.default is not None:
            yield "default", self.default

    def describe(self) -> str:
        """Return the column names or the constant, as row errors name them."""
        if self.column is not None:
            return " or ".join(self.column)
        if self.template is not None:
            return f"template {self.template}"
        return "(constant value)"
