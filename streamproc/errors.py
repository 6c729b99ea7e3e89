"""Exceptions raised by streamproc.

StreamprocError
 ├── InvalidEventError      an event fails the v1 contract (goes to the dead-letter topic)
 ├── MappingError           a CSV import mapping file is invalid
 ├── RowMappingError        one CSV row cannot be turned into events
 └── ConfigurationError     settings or targets are inconsistent
"""

from __future__ import annotations


class StreamprocError(Exception):
    """Base class of every error that streamproc raises on purpose."""


class InvalidEventError(StreamprocError):
    """An event that does not satisfy the event contract.

    `field` is the dotted path of the offending field (or `"(message)"` when the
    whole message is unreadable), `value` the rejected value and `fix` a short hint.
    """

    def __init__(self, *, field: str, value: object, reason: str, fix: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.fix = fix
        super().__init__(f"invalid event: field {field!r} = {_shorten(value)}: {reason}; {fix}")


class MappingError(StreamprocError):
    """An import mapping file that cannot be used."""


class RowMappingError(StreamprocError):
    """A CSV row that the import mapping cannot turn into events."""

    def __init__(self, *, line: int, column: str, value: object, reason: str) -> None:
        self.line = line
        self.column = column
        self.value = value
        self.reason = reason
        super().__init__(f"line {line}: column {column!r} = {_shorten(value)}: {reason}")


class ConfigurationError(StreamprocError):
    """Settings that are individually valid but do not fit together."""


def _shorten(value: object, limit: int = 80) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."
