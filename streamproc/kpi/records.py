"""Pydantic models of the snapshot and breach records, for validation and JSON Schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SnapshotRecord(BaseModel):
    """One KPI value of one channel, team and period, as sent to the snapshot topic."""

    model_config = ConfigDict(extra="forbid")

    kpi: str = Field(description="Metric family name, as on /metrics, such as support_nps.")
    channel: str = Field(description="Channel, or `all` for the total over channels.")
    team: str = Field(description="Team, `none` for tickets without one, or `all`.")
    window: str | None = Field(default=None, description="Rolling window such as 1h; absent for tumbling buckets.")
    bucket_start: str | None = Field(
        default=None, description="Start of the tumbling bucket (ISO 8601); absent for rolling windows."
    )
    value: float = Field(description="The KPI value; durations in seconds, ratios from 0 to 1.")
    samples: float | None = Field(description="Samples behind the value.")
    lower: float | None = Field(description="Lower 95 % Wilson bound, for ratios.")
    upper: float | None = Field(description="Upper 95 % Wilson bound, for ratios.")
    target: float | None = Field(description="Configured target, when the KPI has one.")
    target_direction: Literal["at_most", "at_least"] | None = Field(
        description="Whether the value meets the target by staying at most or at least at it."
    )
    period_start: str = Field(description="Start of the event time the value covers (ISO 8601, UTC).")
    period_end: str = Field(description="End (exclusive) of the event time the value covers.")
    final: bool = Field(
        description="True once the period has ended and its grace period has passed; a later "
        "correction re-sends the record with `corrected`."
    )
    corrected: bool = Field(default=False, description="True when this record replaces a final one.")
    event_time: str = Field(description="The event-time clock when the record was built.")


class BreachRecord(SnapshotRecord):
    """A rolling-window KPI that entered breach or recovered, as sent to the breach topic."""

    state: Literal["breach", "recovered"] = Field(description="What changed.")
