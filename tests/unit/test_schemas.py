"""The published JSON Schemas of the events match the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamproc.events import event_json_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(event_json_schemas()))
def test_schema_file_current(name: str) -> None:
    """docs/schemas holds what `streamproc schemas docs/schemas` writes today."""
    committed = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))

    assert committed == event_json_schemas()[name], "run: streamproc schemas docs/schemas"
