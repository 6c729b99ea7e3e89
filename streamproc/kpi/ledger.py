"""Per-ticket state: the deduplicated events of one ticket and the samples last published.

The state is a plain JSON-compatible dict so it can live in a dict (offline) or in a
changelogged Faust table (worker) without a custom serializer.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from streamproc.events import MODELS, AnyEvent, EventType, Survey
from streamproc.kpi.samples import KpiOptions, Sample, derive_live_status, derive_samples

ALL = "all"

# A contribution is the complete list of one ticket's samples under one dimension,
# each as [sample key, event time in microseconds, {counter: increment}].
ContributionSample = list[Any]


@dataclass(slots=True)
class StepResult:
    """Result of applying one event to the per-ticket state."""

    duplicate: bool
    # dimension key -> that ticket's complete sample list under it (possibly empty,
    # which retracts an earlier contribution).
    contributions: dict[str, list[ContributionSample]] = field(default_factory=dict)
    # Samples whose key this ticket had never produced before, for processing-time
    # counters and histograms, which only ever grow.
    new_samples: list[Sample] = field(default_factory=list)


def ledger_key(event: AnyEvent) -> str:
    """Return the state key of an event: its ticket, or its survey response when ticket-less."""
    if event.ticket_id is not None:
        return event.ticket_id
    assert isinstance(event, Survey)  # the parser only lets surveys omit ticket_id
    return "survey:" + (event.response_id or event.event_id)


def dimension_key(channel: str, team: str) -> str:
    """Encode a (channel, team) pair as the key of the aggregate topic and tables."""
    return json.dumps([channel, team], separators=(",", ":"))


def parse_dimension_key(key: str) -> tuple[str, str]:
    channel, team = json.loads(key)
    return str(channel), str(team)


def rollup_dimensions(channel: str, team: str) -> tuple[str, ...]:
    """Return the four dimension keys a sample counts under: itself and its `all` totals."""
    return (
        dimension_key(channel, team),
        dimension_key(channel, ALL),
        dimension_key(ALL, team),
        dimension_key(ALL, ALL),
    )


def apply_event(
    store: MutableMapping[str, Any],
    event: AnyEvent,
    options: KpiOptions,
    *,
    resend: bool = True,
    shard: int = 0,
) -> StepResult:
    """Add `event` to its ticket's state in `store` and recompute the ticket's samples.

    A duplicate (an `event_id` the ticket already contains) changes nothing. Its result
    still carries the ticket's current contributions when `resend` is true, so a
    redelivery after a crash repairs an aggregate update that was lost with it.
    Contributions are complete snapshots, so sending one twice is harmless. `shard`
    tags the state with the partition that owns it.
    """
    key = ledger_key(event)
    state = store.get(key) or {"events": {}, "dims": [], "seen": []}
    duplicate = event.event_id in state["events"]

    if duplicate and not resend:
        return StepResult(duplicate=True)

    events = dict(state["events"])
    if not duplicate:
        events[event.event_id] = event.model_dump(mode="json")
    parsed = [_load_event(document) for document in events.values()]
    samples = derive_samples(parsed, options)
    by_dimension = _group_by_dimension(samples)

    # Dimensions that had samples before and have none now get an empty list, which
    # retracts what they held.
    contributions: dict[str, list[ContributionSample]] = {dim: [] for dim in state["dims"]}
    contributions.update(by_dimension)

    seen = set(state.get("seen", []))
    new_samples = [sample for sample in samples if sample.key not in seen]

    if not duplicate or sorted(by_dimension) != state["dims"]:
        store[key] = {
            "events": events,
            "dims": sorted(by_dimension),
            "seen": sorted(seen | {sample.key for sample in samples}),
            "live": derive_live_status(parsed, options),
            "last_us": max(e.occurred_us for e in parsed),
            "p": shard,
        }
    return StepResult(duplicate=duplicate, contributions=contributions, new_samples=new_samples)


def _load_event(document: dict[str, Any]) -> AnyEvent:
    model = MODELS[EventType(document["type"])]
    return model.model_validate(document)  # type: ignore[return-value]


def _group_by_dimension(samples: list[Sample]) -> dict[str, list[ContributionSample]]:
    grouped: dict[str, list[ContributionSample]] = {}
    for sample in samples:
        entry = [sample.key, sample.occurred_us, dict(sample.counters)]
        for dim in rollup_dimensions(sample.channel, sample.team):
            grouped.setdefault(dim, []).append(entry)
    return grouped


def expire_closed(
    store: MutableMapping[str, Any], *, clock_us: int, retention_us: int, shard: int | None = None
) -> int:
    """Delete the state of closed tickets whose latest event is older than the retention.

    An event that arrives for an expired ticket starts a new state, so redelivery of an
    event older than the retention is no longer recognised as a duplicate. Returns the
    number of tickets deleted.
    """
    horizon = clock_us - retention_us
    expired = [
        key
        for key, state in list(store.items())
        if (shard is None or state.get("p") == shard)
        and state.get("live") is None
        and state.get("last_us", horizon) < horizon
    ]
    for key in expired:
        del store[key]
    return len(expired)
