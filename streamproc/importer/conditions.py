"""Row conditions of the `when` key: tests on column values, combined with any and all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from streamproc.importer.base import MappingModel, TextList

# Discriminator tags of the condition union; they appear in pydantic error locations.
CONDITION_TAGS = frozenset({"column-test", "any-of", "all-of"})


class ColumnCondition(MappingModel):
    """A test on the value of one column. Empty cells and listed null values are empty."""

    column: str
    equals: str | None = None
    in_: TextList | None = Field(default=None, alias="in")
    not_in: TextList | None = None
    not_empty: Literal[True] | None = None
    empty: Literal[True] | None = None

    @model_validator(mode="after")
    def _check_one_test(self) -> ColumnCondition:
        tests = [
            key
            for key in ("equals", "in_", "not_in", "not_empty", "empty")
            if getattr(self, key) is not None
        ]
        if len(tests) != 1:
            found = ", ".join(test.rstrip("_") for test in tests) or "none"
            raise ValueError(
                "set exactly one test: equals, in, not_in, not_empty: true or empty: true"
                f" (found: {found})"
            )
        return self

    def is_met(self, lookup: Callable[[str], str | None]) -> bool:
        """Return whether the row passes. An empty cell is in no list, so `not_in` passes it."""
        value = lookup(self.column)
        if self.equals is not None:
            return value == self.equals
        if self.in_ is not None:
            return value in self.in_
        if self.not_in is not None:
            return value not in self.not_in
        if self.not_empty:
            return value is not None
        return value is None

    def columns_used(self) -> list[str]:
        """Return the tested column."""
        return [self.column]


class AnyCondition(MappingModel):
    """Conditions of which at least one must hold."""

    any: list[Condition] = Field(min_length=1)

    def is_met(self, lookup: Callable[[str], str | None]) -> bool:
        """Return whether at least one condition holds."""
        return any(condition.is_met(lookup) for condition in self.any)

    def columns_used(self) -> list[str]:
        """Return the columns tested by the conditions."""
        return [column for condition in self.any for column in condition.columns_used()]


class AllCondition(MappingModel):
    """Conditions that must all hold."""

    all: list[Condition] = Field(min_length=1)

    def is_met(self, lookup: Callable[[str], str | None]) -> bool:
        """Return whether every condition holds."""
        return all(condition.is_met(lookup) for condition in self.all)

    def columns_used(self) -> list[str]:
        """Return the columns tested by the conditions."""
        return [column for condition in self.all for column in condition.columns_used()]


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        if "any" in value:
            return "any-of"
        if "all" in value:
            return "all-of"
        return "column-test"
    if isinstance(value, (ColumnCondition, AnyCondition, AllCondition)):
        return {ColumnCondition: "column-test", AnyCondition: "any-of"}.get(type(value), "all-of")
    return None


Condition = Annotated[
    Annotated[ColumnCondition, Tag("column-test")]
    | Annotated[AnyCondition, Tag("any-of")]
    | Annotated[AllCondition, Tag("all-of")],
    Discriminator(
        _condition_tag,
        custom_error_type="invalid_condition",
        custom_error_message=(
            "must be a condition such as {column: outcome, equals: AGENT},"
            " {any: [...]} or {all: [...]}"
        ),
    ),
]
AnyCondition.model_rebuild()
AllCondition.model_rebuild()


def to_condition_list(value: Any) -> Any:
    # `when:` takes one condition or a list of them that must all hold.
    return [value] if isinstance(value, dict) else value
