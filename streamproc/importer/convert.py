"""Conversion of a CSV file into contract events, following an import mapping.

`convert_rows` yields, for each data row, its events, one FilteredRow when no event
template applies, or its RowMappingErrors. `import_csv` writes the events as JSON Lines
and returns the counts.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from streamproc.errors import MappingError, RowMappingError
from streamproc.events import EventType, event_to_json
from streamproc.importer.mapping import Mapping
from streamproc.importer.rows import FilteredRow, ImportedEvent, ImportItem, RowConverter

# The header is physical line 1, so data rows start on line 2.
HEADER_LINE = 1


@dataclass(kw_only=True)
class ImportReport:
    """Counts of one import and every row error with its line number.

    `rows` counts data rows (blank lines excluded). Each row is counted once: as
    converted (it gave `events`), filtered, or failed (it gave `errors`).
    """

    rows: int = 0
    events: int = 0
    filtered: int = 0
    errors: list[RowMappingError] = field(default_factory=list)
    events_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def failed_rows(self) -> int:
        """Number of rows that gave at least one error (a row can give several)."""
        return len({error.line for error in self.errors})

    @property
    def ok(self) -> bool:
        """Whether every row was converted or filtered."""
        return not self.errors

    def summary(self) -> str:
        """Return one line with the counts, such as `3 rows: 4 events written (...), ...`."""
        by_type = ", ".join(f"{kind} {count}" for kind, count in self.events_by_type.items())
        return (
            f"{self.rows} rows: {self.events} events written ({by_type or 'none'}),"
            f" {self.filtered} rows filtered, {self.failed_rows} rows failed"
            f" ({len(self.errors)} errors)"
        )


def open_csv(path: Path, mapping: Mapping) -> TextIO:
    """Open a CSV file for `import_csv`, with the mapping's encoding and csv-safe newlines."""
    return path.open(encoding=mapping.csv.encoding, newline="")


def import_csv(mapping: Mapping, csv_file: TextIO, out: TextIO) -> ImportReport:
    """Write the events of every row of `csv_file` to `out` as JSON Lines, and count.

    Rows that fail are reported in the returned report, never written. Raises
    MappingError when the header does not fit the mapping or the file cannot be decoded.
    """
    report = ImportReport()
    by_type: Counter[str] = Counter()
    last_line = HEADER_LINE

    for item in convert_rows(mapping, csv_file):
        # A row's items are consecutive and share its line number.
        if item.line != last_line:
            report.rows += 1
            last_line = item.line

        if isinstance(item, ImportedEvent):
            out.write(event_to_json(item.event))
            out.write("\n")
            report.events += 1
            by_type[item.event.type.value] += 1
        elif isinstance(item, FilteredRow):
            report.filtered += 1
        else:
            report.errors.append(item)

    report.events_by_type = {kind.value: by_type[kind.value] for kind in EventType if by_type[kind]}
    return report


def convert_rows(mapping: Mapping, lines: Iterable[str] | TextIO) -> Iterator[ImportItem]:
    """Convert CSV text, header first, into events, filtered rows and row errors.

    `lines` is a file opened with `newline=""` (see `open_csv`) or any iterable of lines.
    Line numbers are physical lines, with the header on line 1. Blank lines are skipped.
    Raises MappingError when the header lacks a column that the mapping reads.
    """
    reader = csv.reader(lines, delimiter=mapping.csv.delimiter, quotechar=mapping.csv.quotechar)
    records = _read_records(reader, mapping.csv.encoding)

    first = next(records, None)
    if first is None:
        raise MappingError("the CSV input is empty; expected a header line naming the columns")
    line, header = first
    if isinstance(header, csv.Error):
        raise MappingError(f"the CSV header on line {line} cannot be read: {header}")
    converter = RowConverter(mapping, _clean_header(header, strip=mapping.csv.strip))

    for line, cells in records:
        if isinstance(cells, csv.Error):
            yield RowMappingError(
                line=line,
                column="(row)",
                value=None,
                reason=f"is not valid CSV ({cells}); check the quoting and csv.delimiter",
            )
            continue
        yield from converter.convert(line, cells)


def _read_records(reader: Any, encoding: str) -> Iterator[tuple[int, list[str] | csv.Error]]:
    # Yields each non-blank record, or the csv.Error that replaced it, with its first line.
    end_line = 0
    while True:
        record: list[str] | csv.Error
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            record = exc
        except UnicodeDecodeError as exc:
            raise MappingError(
                f"the CSV file is not valid {encoding} after line {reader.line_num} ({exc.reason});"
                " set csv.encoding in the mapping to the file's encoding, such as cp1252"
            ) from exc

        start_line = end_line + 1
        end_line = reader.line_num
        if record:
            yield start_line, record


def _clean_header(header: list[str], *, strip: bool) -> list[str]:
    # A byte-order mark survives when the caller decoded the file as plain utf-8.
    names = [header[0].removeprefix("\ufeff"), *header[1:]]
    return [name.strip() for name in names] if strip else names
