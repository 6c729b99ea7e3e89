"""The shipped mappings on the real data sets, checked against counts taken with the csv module.

Each expected value is computed here from the raw file, independently of the importer,
and the tests skip when the data sets are not beside the repository.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from streamproc.events import AnyEvent, FirstReply, Outcome, Resolved, TicketOpened, parse_event
from streamproc.importer import ImportReport, import_csv, load_mapping, open_csv
from tests.datasets import dataset_path

pytestmark = pytest.mark.dataset

MAPPINGS = Path(__file__).resolve().parents[3] / "examples" / "mappings"
NEVER = "0:00:00"
EventT = TypeVar("EventT", TicketOpened, FirstReply, Resolved)


@dataclass(frozen=True)
class Imported:
    report: ImportReport
    events: list[AnyEvent]


def run_import(mapping_name: str, csv_path: Path) -> Imported:
    """Import a data set with a shipped mapping and parse the JSON Lines back."""
    mapping = load_mapping(MAPPINGS / mapping_name)
    out = io.StringIO()
    with open_csv(csv_path, mapping) as csv_file:
        report = import_csv(mapping, csv_file, out)
    events = [parse_event(line) for line in out.getvalue().splitlines()]
    return Imported(report, events)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as csv_file:
        return list(csv.DictReader(csv_file))


def of_type(events: list[AnyEvent], kind: type[EventT]) -> Iterator[EventT]:
    return (event for event in events if isinstance(event, kind))


@pytest.fixture(scope="module")
def calls() -> list[dict[str, str]]:
    """Rows of the Technion one-day call log."""
    return read_rows(dataset_path("technion-bank-oneday", "calls_one_day.csv"))


@pytest.fixture(scope="module")
def technion() -> Imported:
    """The Technion call log imported with its example mapping."""
    path = dataset_path("technion-bank-oneday", "calls_one_day.csv")
    return run_import("technion-bank-oneday.yaml", path)


@pytest.fixture(scope="module")
def activities() -> list[dict[str, str]]:
    """Rows of the help desk event log."""
    return read_rows(dataset_path("helpdesk-eventlog", "helpdesk.csv"))


@pytest.fixture(scope="module")
def helpdesk() -> Imported:
    """The help desk event log imported with its example mapping."""
    path = dataset_path("helpdesk-eventlog", "helpdesk.csv")
    return run_import("helpdesk-eventlog.yaml", path)


def is_contact(row: dict[str, str]) -> bool:
    """A call that an agent served, or that waited in the agent queue (PHANTOM excluded)."""
    queued = row["q_start"] != NEVER
    return row["outcome"] == "AGENT" or (row["outcome"] == "HANG" and queued)


def test_technion_rows(technion: Imported, calls: list[dict[str, str]]) -> None:
    """Every data row of the call log is counted."""
    assert len(calls) == 2375
    assert technion.report.rows == len(calls)


def test_technion_no_errors(technion: Imported) -> None:
    """No call fails the mapping."""
    assert technion.report.errors == []


def test_technion_opened(technion: Imported, calls: list[dict[str, str]]) -> None:
    """Each served or queued call opens one ticket: 1,511 served plus 728 abandoned."""
    expected = sum(1 for row in calls if is_contact(row))

    assert expected == 1511 + 728
    assert technion.report.events_by_type["ticket_opened"] == expected


def test_technion_filtered(technion: Imported, calls: list[dict[str, str]]) -> None:
    """PHANTOM calls and calls that ended in the IVR are filtered, not failed."""
    expected = sum(1 for row in calls if not is_contact(row))

    assert expected == 18 + 118
    assert technion.report.filtered == expected


def test_technion_served(technion: Imported, calls: list[dict[str, str]]) -> None:
    """Each AGENT call gives one first reply and one resolution."""
    served = sum(1 for row in calls if row["outcome"] == "AGENT")
    resolutions = [e for e in of_type(technion.events, Resolved) if e.outcome is Outcome.RESOLVED]

    assert served == 1511
    assert technion.report.events_by_type["first_reply"] == served
    assert len(resolutions) == served


def test_technion_abandoned(technion: Imported, calls: list[dict[str, str]]) -> None:
    """Each HANG call that queued gives an abandoned resolution."""
    expected = sum(1 for row in calls if row["outcome"] == "HANG" and row["q_start"] != NEVER)
    abandoned = [e for e in of_type(technion.events, Resolved) if e.outcome is Outcome.ABANDONED]

    assert expected == 728
    assert len(abandoned) == expected


def test_technion_queued_served(calls: list[dict[str, str]]) -> None:
    """Of the calls served by an agent, 1,243 queued first and 268 did not."""
    served = [row for row in calls if row["outcome"] == "AGENT"]

    assert sum(1 for row in served if row["q_start"] != NEVER) == 1243
    assert sum(1 for row in served if row["q_start"] == NEVER) == 268


def test_technion_wait_is_q_time(technion: Imported, calls: list[dict[str, str]]) -> None:
    """First reply minus open equals q_time on every served call."""
    opened = {e.ticket_id: e.occurred_at for e in of_type(technion.events, TicketOpened)}
    waits = {
        e.ticket_id: (e.occurred_at - opened[e.ticket_id]).total_seconds()
        for e in of_type(technion.events, FirstReply)
    }
    expected = {
        f"{row['vru+line']}-{row['call_id']}": float(row["q_time"])
        for row in calls
        if row["outcome"] == "AGENT"
    }

    assert waits == expected


def test_technion_mean_wait(technion: Imported) -> None:
    """The mean speed of answer over AGENT calls is 134.8 s."""
    opened = {e.ticket_id: e.occurred_at for e in of_type(technion.events, TicketOpened)}
    waits = [
        (e.occurred_at - opened[e.ticket_id]).total_seconds()
        for e in of_type(technion.events, FirstReply)
    ]

    assert statistics.mean(waits) == pytest.approx(134.8, abs=0.05)


def test_technion_talk_time(technion: Imported, calls: list[dict[str, str]]) -> None:
    """Talk time of resolutions matches ser_time: mean 193.8 s, median 117 s."""
    talk = [
        e.talk_seconds
        for e in of_type(technion.events, Resolved)
        if e.outcome is Outcome.RESOLVED and e.talk_seconds is not None
    ]
    expected = [float(row["ser_time"]) for row in calls if row["outcome"] == "AGENT"]

    assert sorted(talk) == sorted(expected)
    assert statistics.mean(talk) == pytest.approx(193.8, abs=0.05)
    assert statistics.median(talk) == 117


def test_technion_agents(technion: Imported, calls: list[dict[str, str]]) -> None:
    """Agent ids are the 18 named servers; NO_SERVER gives no agent id."""
    agents = {e.agent_id for e in of_type(technion.events, Resolved) if e.agent_id is not None}
    expected = {row["server"] for row in calls if row["outcome"] == "AGENT"} - {"NO_SERVER"}

    assert len(expected) == 18
    assert agents == expected


def test_technion_teams(technion: Imported, calls: list[dict[str, str]]) -> None:
    """The team of each opened ticket is the call's service type."""
    teams = Counter(e.team for e in of_type(technion.events, TicketOpened))
    expected = Counter(row["type"] for row in calls if is_contact(row))

    assert teams == expected


def test_technion_local_time(technion: Imported) -> None:
    """Every event is on the stand-in date, in Israel winter time (UTC+2)."""
    dates = {e.occurred_at.date() for e in technion.events}
    offsets = {e.occurred_at.utcoffset() for e in technion.events}

    assert dates == {dt.date(1999, 1, 1)}
    assert offsets == {dt.timedelta(hours=2)}


def test_technion_ids_unique(technion: Imported) -> None:
    """Event ids are unique across the file."""
    ids = [e.event_id for e in technion.events]

    assert len(set(ids)) == len(ids)


def test_helpdesk_rows(helpdesk: Imported, activities: list[dict[str, str]]) -> None:
    """Every data row of the event log is counted."""
    assert len(activities) == 21348
    assert helpdesk.report.rows == len(activities)


def test_helpdesk_no_errors(helpdesk: Imported) -> None:
    """No row fails the mapping, daylight-saving changes included."""
    assert helpdesk.report.errors == []


def test_helpdesk_opened(helpdesk: Imported, activities: list[dict[str, str]]) -> None:
    """Each of the 4,580 cases opens once, at its first row."""
    first_rows: dict[str, str] = {}
    for row in activities:
        first_rows.setdefault(row["Case ID"], row["Complete Timestamp"])
    opened = {
        e.ticket_id: e.occurred_at.strftime("%Y/%m/%d %H:%M:%S.000")
        for e in of_type(helpdesk.events, TicketOpened)
    }

    assert len(first_rows) == 4580
    assert opened == first_rows


def test_helpdesk_by_type(helpdesk: Imported, activities: list[dict[str, str]]) -> None:
    """Every take-in-charge is a first reply and every resolve a resolution."""
    activity_counts = Counter(row["Activity"] for row in activities)

    assert helpdesk.report.events_by_type["first_reply"] == activity_counts["Take in charge ticket"]
    assert helpdesk.report.events_by_type["resolved"] == activity_counts["Resolve ticket"]


def test_helpdesk_filtered(helpdesk: Imported, activities: list[dict[str, str]]) -> None:
    """Rows that neither open a case nor carry a mapped activity are filtered."""
    mapped = {"Take in charge ticket", "Resolve ticket"}
    seen: set[str] = set()
    expected = 0
    for row in activities:
        first = row["Case ID"] not in seen
        seen.add(row["Case ID"])
        if not first and row["Activity"] not in mapped:
            expected += 1

    assert helpdesk.report.filtered == expected


def test_helpdesk_first_reply_time(helpdesk: Imported) -> None:
    """4,285 cases are taken in charge, after a median of 16.39 h and a mean of 97.59 h."""
    opened = {e.ticket_id: e.occurred_at for e in of_type(helpdesk.events, TicketOpened)}
    first_reply: dict[str | None, float] = {}
    for event in of_type(helpdesk.events, FirstReply):
        hours = (event.occurred_at - opened[event.ticket_id]).total_seconds() / 3600
        first_reply.setdefault(event.ticket_id, hours)

    assert len(first_reply) == 4285
    assert statistics.median(first_reply.values()) == pytest.approx(16.39, abs=0.01)
    assert statistics.mean(first_reply.values()) == pytest.approx(97.59, abs=0.05)


def test_helpdesk_resolved_cases(helpdesk: Imported) -> None:
    """4,569 cases have at least one resolution."""
    cases = {e.ticket_id for e in of_type(helpdesk.events, Resolved)}

    assert len(cases) == 4569


def test_helpdesk_teams(helpdesk: Imported) -> None:
    """The team comes from workgroup, which has four values."""
    teams = {e.team for e in of_type(helpdesk.events, TicketOpened)}

    assert teams == {"Value 1", "Value 2", "Value 3", "Value 4"}


def test_absent_dataset_skips() -> None:
    """dataset_path skips, naming the file, when the data set is not there."""
    with pytest.raises(pytest.skip.Exception, match="no-such-set/file.csv"):
        dataset_path("no-such-set", "file.csv")


def test_helpdesk_ids_unique(helpdesk: Imported) -> None:
    """Event ids stay unique where an activity repeats within a case."""
    ids = [e.event_id for e in helpdesk.events]

    assert len(set(ids)) == len(ids)
