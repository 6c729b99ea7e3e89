"""Parsing of id templates such as `{vru+line}-{call_id}`."""

from __future__ import annotations

import pytest

from streamproc.importer.templates import parse_template


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{vru+line}-{call_id}", ["vru+line", "call_id"]),
        ("{Case ID}", ["Case ID"]),
        ("{{literal}}{a}", ["a"]),
    ],
)
def test_template_placeholders(template: str, expected: list[str]) -> None:
    """Placeholders may contain spaces and +, and doubled braces are literal."""
    names = [part.text for part in parse_template(template) if part.is_placeholder]

    assert names == expected


@pytest.mark.parametrize("template", ["{a", "a}", "{}"])
def test_template_malformed(template: str) -> None:
    """Unmatched braces and empty placeholders are rejected."""
    with pytest.raises(ValueError):
        parse_template(template)
