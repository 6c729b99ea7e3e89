"""Templates such as `{vru+line}-{call_id}`: text with column names in braces."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplatePart(NamedTuple):
    """A literal piece of a template, or the name inside one `{...}` placeholder."""

    text: str
    is_placeholder: bool


@lru_cache(maxsize=256)
def parse_template(template: str) -> tuple[TemplatePart, ...]:
    """Split a template such as `{vru+line}-{call_id}` into literal text and placeholders.

    A placeholder is everything between two braces, spaces and `+` included. `{{` and
    `}}` are literal braces. Raises ValueError on an unmatched brace or an empty name.
    """
    parts: list[TemplatePart] = []
    position = 0
    for match in _TEMPLATE_TOKEN.finditer(template):
        if match.start() > position:
            parts.append(TemplatePart(template[position : match.start()], False))
        position = match.end()

        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(TemplatePart(token[0], False))
        elif match.group(1) is None:
            raise ValueError(
                f"template {template!r} has an unmatched {token!r} at position {match.start()};"
                " write {{ or }} for a literal brace"
            )
        elif not match.group(1).strip():
            raise ValueError(
                f"template {template!r} has an empty placeholder;"
                " put a column name between the braces"
            )
        else:
            parts.append(TemplatePart(match.group(1), True))

    if position < len(template):
        parts.append(TemplatePart(template[position:], False))
    return tuple(parts)


def template_placeholders(template: str) -> list[str]:
    """Return the placeholder names of a template, in order of appearance."""
    return [part.text for part in parse_template(template) if part.is_placeholder]
