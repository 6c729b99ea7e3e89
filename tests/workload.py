"""Seeded generator of a realistic support workload as JSON Lines, for end-to-end tests.

Tickets come on phone, chat, email and web, with bot, system and private replies besides
human ones, transfers, abandoned contacts and handle time in either form. Some are
reopened, a few after the 7-day reopen period. Surveys (CSAT, CES, NPS) include unrated
and changed answers and ticket-less ones, and a few events have skewed clocks. Some lines
are then sent twice, and some move later in the file by up to 9 minutes of event time
(inside the 10-minute grace period), so a replay exercises deduplication and out-of-order
delivery.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2024, 5, 6, tzinfo=UTC)  # a Monday
MAX_DISORDER_S = 9 * 60  # stays inside the default 10-minute grace period

CHANNELS = (("email", 35), ("chat", 30), ("phone", 25), ("web", 10))
TEAMS = (("billing", 40), ("tech", 35), (None, 25))


@dataclass
class Workload:
    """Generated lines in file order and what a test needs to know about them."""

    lines: list[str] = field(default_factory=list)
    unique_events: int = 0
    duplicates: int = 0

    def write(self, path: Path) -> Path:
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path


class _TicketWriter:
    """Appends the events of one ticket, each stamped at an offset from its open."""

    def __init__(self, rng: random.Random, ticket: str, opened: datetime, end: datetime) -> None:
        self.rng = rng
        self.ticket = ticket
        self.opened = opened
        self.end = end
        self.events: list[tuple[datetime, dict[str, Any]]] = []

    def add(self, kind: str, at: datetime, **fields: Any) -> None:
        # Events past the end of the workload have not happened yet: they are left out.
        if at > self.end:
            return
        if self.rng.random() < 0.3:
            at += timedelta(milliseconds=self.rng.randrange(1_000))
        document = {
            "type": kind,
            "event_id": f"{self.ticket}-{len(self.events)}",
            "ticket_id": self.ticket,
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
        }
        document.update({k: v for k, v in fields.items() if v is not None or k == "score"})
        self.events.append((at, document))


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights)[0]


def _handle_fields(rng: random.Random, channel: str) -> dict[str, Any]:
    if channel in ("phone", "chat"):
        return {
            "talk_seconds": rng.randrange(30, 900),
            "hold_seconds": rng.choice([None, 0, rng.randrange(5, 300)]),
            "after_contact_seconds": rng.choice([None, rng.randrange(10, 180)]),
        }
    return {"handle_seconds": rng.choice([None, round(rng.uniform(60, 1_800), 3)])}


def _first_reply_delay(rng: random.Random, channel: str) -> timedelta:
    if channel in ("phone", "chat"):
        return timedelta(seconds=rng.lognormvariate(3.5, 1.0))  # median about 33 s
    return timedelta(seconds=rng.lognormvariate(8.0, 1.2))  # median about 50 min


def _surveys(writer: _TicketWriter, after: datetime) -> None:
    rng = writer.rng
    for kind, high, low in (("csat", 5, 1), ("ces", 7, 1), ("nps", 10, 0)):
        if rng.random() > 0.2:
            continue
        at = after + timedelta(minutes=rng.uniform(1, 600))
        response = f"{writer.ticket}-{kind}" if rng.random() < 0.8 else None
        score = None if rng.random() < 0.1 else rng.randint(low, high)
        writer.add("survey", at, survey=kind, score=score, response_id=response)
        if response is not None and rng.random() < 0.15:
            changed = None if rng.random() < 0.1 else rng.randint(low, high)
            at += timedelta(minutes=rng.uniform(1, 120))
            writer.add("survey", at, survey=kind, score=changed, response_id=response)


def _episode(
    writer: _TicketWriter, channel: str, team: str | None, opened: datetime, *, first: bool
) -> datetime | None:
    """Write one episode from its open; return when it was resolved, or None."""
    rng = writer.rng
    writer.add(
        "ticket_opened",
        opened,
        channel=channel,
        team=team,
        priority=rng.choice([None, "normal", "high"]),
    )
    if channel == "chat" and rng.random() < 0.6:
        writer.add("first_reply", opened + timedelta(seconds=rng.uniform(1, 8)), author="bot")
    if rng.random() < 0.1:
        writer.add("first_reply", opened + timedelta(minutes=rng.uniform(0, 30)), public=False)
    if rng.random() < 0.05:
        moved = opened + timedelta(minutes=rng.uniform(1, 60))
        writer.add(
            "ticket_opened", moved, channel=channel, team=rng.choice(["billing", "tech", "vip"])
        )

    live = channel in ("phone", "chat")
    if first and live and rng.random() < 0.12:
        waited = timedelta(seconds=rng.choice([rng.uniform(0, 5), rng.uniform(5, 600)]))
        writer.add("resolved", opened + waited, outcome="abandoned")
        return opened + waited

    replied = opened + _first_reply_delay(rng, channel)
    if rng.random() < 0.005:
        replied = opened - timedelta(seconds=rng.uniform(1, 60))  # clock skew
    if rng.random() < 0.03:
        writer.add("first_reply", opened + timedelta(minutes=rng.uniform(0, 90)), author="system")
    if rng.random() < 0.95:
        writer.add("first_reply", replied, agent_id=f"a{rng.randrange(40)}")
    if rng.random() < 0.15:
        return None

    resolved = replied + timedelta(minutes=rng.lognormvariate(3.0, 1.5))
    if rng.random() < 0.003:
        resolved = opened - timedelta(seconds=rng.uniform(1, 60))  # clock skew
    contacts = rng.choice([None, 1, 1, 1, 1, 2, 3])
    writer.add("resolved", resolved, contacts=contacts, **_handle_fields(rng, channel))
    return resolved


def _ticket(
    rng: random.Random, number: int, start: datetime, end: datetime
) -> list[tuple[datetime, dict[str, Any]]]:
    ticket = f"W{number:05d}"
    span = (end - start).total_seconds()
    opened = start + timedelta(seconds=rng.randrange(int(span)))
    writer = _TicketWriter(rng, ticket, opened, end)
    channel = _pick(rng, CHANNELS)
    team = _pick(rng, TEAMS)

    resolved = _episode(writer, channel, team, opened, first=True)
    if resolved is not None:
        _surveys(writer, resolved)
    while resolved is not None and rng.random() < 0.08:
        reopened = resolved + timedelta(hours=rng.uniform(1, 10 * 24))
        resolved = _episode(writer, channel, team, reopened, first=False)
    return writer.events


def _ticketless_surveys(
    rng: random.Random, count: int, start: datetime, end: datetime
) -> list[tuple[datetime, dict[str, Any]]]:
    events = []
    span = (end - start).total_seconds()
    for number in range(count):
        at = start + timedelta(seconds=rng.randrange(int(span)))
        response = f"web-{number // 2}" if rng.random() < 0.5 else None
        document = {
            "type": "survey",
            "event_id": f"web-survey-{number}",
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
            "survey": "nps",
            "score": None if rng.random() < 0.1 else rng.randint(0, 10),
        }
        if response is not None:
            document["response_id"] = response
        events.append((at, document))
    return events


def generate_workload(
    tickets: int, *, seed: int, days: float = 8.0, start: datetime = START
) -> Workload:
    """Generate `tickets` tickets over `days` days of event time, in replay file order."""
    rng = random.Random(seed)
    end = start + timedelta(days=days)
    events: list[tuple[datetime, dict[str, Any]]] = []
    for number in range(tickets):
        events.extend(_ticket(rng, number, start, end))
    events.extend(_ticketless_surveys(rng, tickets // 50, start, end))

    # File order is event time, except that some lines come later by up to 9 minutes and
    # some are sent a second time.
    lines: list[tuple[datetime, int, str]] = []
    duplicates = 0
    for index, (at, document) in enumerate(events):
        text = json.dumps(document, separators=(",", ":"))
        shift = (
            timedelta(seconds=rng.uniform(0, MAX_DISORDER_S))
            if rng.random() < 0.05
            else timedelta(0)
        )
        lines.append((at + shift, index, text))
        if rng.random() < 0.02:
            duplicates += 1
            resend = timedelta(seconds=rng.uniform(0, MAX_DISORDER_S))
            lines.append((at + resend, index, text))
    lines.sort(key=lambda line: (line[0], line[1]))
    return Workload(
        lines=[line[2] for line in lines], unique_events=len(events), duplicates=duplicates
    )
