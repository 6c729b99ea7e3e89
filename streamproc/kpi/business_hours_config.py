"""Business-hours configuration: named schedules and which channel and team use which.

The YAML file, also described in docs/business-hours.md::

    schedules:
      - name: india-support
        time_zone: Asia/Kolkata
        hours: {mon: ["08:00-17:00"], tue: ["08:00-17:00"], wed: ["08:00-17:00"],
                thu: ["08:00-17:00"], fri: ["08:00-17:00"]}
        holidays: [2024-08-15]
      - name: night-desk
        time_zone: Europe/Berlin
        hours: {mon: ["09:00-12:00", "13:00-18:00"], fri: ["22:00-06:00"]}
    assign:
      - {schedule: india-support, channel: email}
      - {schedule: night-desk, team: nights}

The most specific assignment wins: channel and team, then team, then channel, then an entry
with neither, which is the default. Tickets that no entry matches have no business time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from streamproc.errors import ConfigurationError
from streamproc.kpi.business_hours import Schedule

_AssignmentKey = tuple[str | None, str | None]


class Assignment(BaseModel):
    """Assignment of one schedule to a channel, a team, both, or (with neither) every other ticket."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule: str = Field(description="Name of a schedule in `schedules`.")
    channel: str | None = Field(default=None, description="Channel it applies to, or None for all.")
    team: str | None = Field(default=None, description="Team it applies to, or None for all.")


class BusinessHoursConfig(BaseModel):
    """Named schedules and the assignments that pick one per channel and team."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedules: list[Schedule] = Field(
        min_length=1, description="Schedules, each with a unique name."
    )
    assign: list[Assignment] = Field(description="Assignments of schedules to channels and teams.")

    _by_key: dict[_AssignmentKey, Schedule] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _index_assignments(self) -> BusinessHoursConfig:
        by_name: dict[str, Schedule] = {}
        for index, schedule in enumerate(self.schedules):
            if schedule.name in by_name:
                raise ValueError(
                    f"schedules[{index}].name: duplicate schedule name {schedule.name!r};"
                    " give each schedule its own name"
                )
            by_name[schedule.name] = schedule

        first_index: dict[_AssignmentKey, int] = {}
        for index, entry in enumerate(self.assign):
            if entry.schedule not in by_name:
                raise ValueError(
                    f"assign[{index}].schedule: unknown schedule {entry.schedule!r}; use one of"
                    f" {', '.join(repr(name) for name in by_name)}"
                )
            key = (entry.channel, entry.team)
            if key in first_index:
                raise ValueError(
                    f"assign[{index}] repeats the channel and team of assign[{first_index[key]}]"
                    f" (channel={entry.channel!r}, team={entry.team!r}); keep one of them"
                )
            first_index[key] = index
            self._by_key[key] = by_name[entry.schedule]
        return self

    def schedule_for(self, *, channel: str, team: str) -> Schedule | None:
        """Return the schedule of the most specific matching assignment, or None."""
        for key in ((channel, team), (None, team), (channel, None), (None, None)):
            schedule = self._by_key.get(key)
            if schedule is not None:
                return schedule
        return None


def load_business_hours(path: Path) -> BusinessHoursConfig:
    """Load and validate a business-hours YAML file.

    Raises ConfigurationError naming the file, and for each problem the key, the bad value
    and the fix.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read business hours file {str(path)!r}: {exc}; check the path"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"business hours file {str(path)!r} is not valid YAML: {exc}"
        ) from exc
    except ValueError as exc:
        # PyYAML raises a bare ValueError for a date-like scalar that is no real date.
        raise ConfigurationError(
            f"business hours file {str(path)!r} contains an invalid date ({exc}); write dates"
            " as real YYYY-MM-DD days, such as 2024-12-25"
        ) from exc
    if document is None:
        raise ConfigurationError(
            f"business hours file {str(path)!r} is empty; add the keys schedules and assign"
        )
    if not isinstance(document, dict):
        raise ConfigurationError(
            f"business hours file {str(path)!r} must contain a mapping with the keys schedules"
            f" and assign, not {document!r}"
        )

    try:
        return BusinessHoursConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigurationError(_describe_errors(path, exc)) from exc


def _describe_errors(path: Path, exc: ValidationError) -> str:
    problems = [f"  {_describe_error(error)}" for error in exc.errors(include_url=False)]
    noun = "problem" if len(problems) == 1 else "problems"
    header = f"invalid business hours file {str(path)!r} ({len(problems)} {noun}):"
    return "\n".join([header, *problems])


def _describe_error(error: Any) -> str:
    location = [part for part in error["loc"] if part != "[key]"]
    key = _format_location(location)
    kind: str = error["type"]
    message: str = error["msg"]
    value = error.get("input")

    if kind == "value_error":
        text = message.removeprefix("Value error, ")
        return f"{key}: {text}" if key else text
    if kind == "missing":
        return f"{key}: is missing; add it"
    if kind == "extra_forbidden":
        return f"{key}: unknown key; remove it or fix its spelling"
    if "[key]" in error["loc"]:
        return f"{key}: invalid key {value!r}: {message}"
    if kind.startswith("date"):
        return f"{key} = {value!r}: {message}; write a date as YYYY-MM-DD, such as 2024-12-25"
    if kind == "list_type":
        return f"{key} = {value!r}: {message}; write a list, such as ['08:00-17:00']"
    return f"{key} = {value!r}: {message}"


def _format_location(location: list[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.removeprefix(".")
