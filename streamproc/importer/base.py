"""Base of the mapping file models, and the validators they share.

An unknown key is rejected with the allowed keys listed. InvalidKey errors name the key
below the model that raised them, so messages point at the exact place in the file.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from streamproc.importer.values import Scalar


class InvalidKey(ValueError):
    """A validation error about a key below the model that raises it, such as `fields.team`."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class MappingModel(BaseModel):
    """Frozen model that rejects unknown keys, naming the closest allowed key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        # pydantic's own message for an unknown key does not list the keys allowed here.
        if not isinstance(data, dict):
            return data
        allowed = sorted(field.alias or name for name, field in cls.model_fields.items())
        for key in data:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InvalidKey(
                str(key), f"unknown key; {hint}the keys allowed here are {', '.join(allowed)}"
            )
        return data


def _check_scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(
        f"must be one text, number or boolean, not a {type(value).__name__} ({value!r});"
        " put dates and times in quotes"
    )


def _to_text_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ValueError(
        f'must be a list of texts, such as ["0:00:00", "N/A"], not {value!r};'
        " put values that YAML reads as numbers or times in quotes"
    )


ScalarValue = Annotated[Scalar, BeforeValidator(_check_scalar)]
TextList = Annotated[tuple[str, ...], BeforeValidator(_to_text_list)]
