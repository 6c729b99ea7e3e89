"""Reading contract events from JSON Lines files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from streamproc.errors import InvalidEventError
from streamproc.events import AnyEvent, parse_event


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line of a JSON Lines file: its number, text and parse result."""

    number: int
    text: str
    event: AnyEvent | None
    error: InvalidEventError | None


def read_lines(source: TextIO) -> Iterator[Line]:
    """Parse every non-blank line; invalid lines come with their error instead of an event."""
    for number, text in enumerate(source, start=1):
        stripped = text.strip()
        if not stripped:
            continue
        try:
            yield Line(number, stripped, parse_event(stripped), None)
        except InvalidEventError as exc:
            yield Line(number, stripped, None, exc)


def open_input(path: Path | str) -> TextIO:
    """Open a JSON Lines file, or standard input for `-`."""
    if str(path) == "-":
        import sys

        return sys.stdin
    return open(path, encoding="utf-8")
