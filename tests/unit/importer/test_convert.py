"""Conversion of CSV rows into events: every mapping feature, filtered rows and row errors."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from streamproc.errors import MappingError
from streamproc.events import AnyEvent, FirstReply, Outcome, Resolved, TicketOpened, parse_event
from streamproc.importer import ImportItem, ImportReport, import_csv, load_mapping, open_csv
from tests.unit.importer.helpers import (
    OPENED_TEMPLATE,
    build_mapping,
    convert,
    errors_of,
    events_of,
    filtered_lines,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "importer"

SIMPLE_CSV = "ticket,at\nT1,2024-05-01 10:00:00\nT2,2024-05-01 11:00:00\n"

# A few calls in the layout of a call-centre export: time-of-day columns, 0:00:00 for
# "did not happen", a column name with "+", and a service type column named `type`.
CALLS_CSV = """\
vru+line,call_id,type,vru_exit,q_start,q_exit,q_time,outcome,ser_start,ser_exit,ser_time,server
AA01,1,PS,0:10:27,0:10:27,0:11:00,33,AGENT,0:10:59,0:12:00,61,DANA
AA01,2,PS,0:20:00,0:00:00,0:00:00,0,HANG,0:00:00,0:00:00,0,NO_SERVER
AA02,1,NW,0:30:00,0:30:00,0:31:40,100,HANG,0:00:00,0:00:00,0,NO_SERVER
AA02,2,PS,0:40:00,0:40:00,0:40:10,10,PHANTOM,0:40:10,0:40:12,2,NO_SERVER
AA03,5,IN,0:50:00,0:00:00,0:00:00,0,AGENT,0:49:59,0:52:00,121,ODED
"""

CALLS_MAPPING: dict[str, Any] = {
    "timestamps": {"format": "%H:%M:%S", "time_zone": "Asia/Jerusalem", "date": "1999-01-01"},
    "null_values": {
        "q_start": ["0:00:00"],
        "q_exit": ["0:00:00"],
        "ser_exit": ["0:00:00"],
        "server": ["NO_SERVER"],
    },
    "ticket_id": "{vru+line}-{call_id}",
    "event_id": "{ticket_id}:{type}",
}

CALL_EVENTS: list[dict[str, Any]] = [
    {
        "type": "ticket_opened",
        "when": [
            {"column": "outcome", "in": ["AGENT", "HANG"]},
            {
                "any": [
                    {"column": "outcome", "equals": "AGENT"},
                    {"column": "q_start", "not_empty": True},
                ]
            },
        ],
        "occurred_at": {"column": ["q_start", "vru_exit"]},
        "fields": {"channel": {"value": "phone"}, "team": {"column": "type"}},
    },
    {
        "type": "first_reply",
        "when": {"column": "outcome", "equals": "AGENT"},
        "occurred_at": {"column": ["q_exit", "vru_exit"]},
        "fields": {"agent_id": {"column": "server"}},
    },
    {
        "type": "resolved",
        "when": {"column": "outcome", "equals": "AGENT"},
        "occurred_at": {"column": ["ser_exit", "q_exit"]},
        "fields": {"talk_seconds": {"column": "ser_time"}, "contacts": {"value": 1}},
    },
    {
        "type": "resolved",
        "when": [{"column": "outcome", "equals": "HANG"}, {"column": "q_start", "not_empty": True}],
        "occurred_at": {"column": "q_exit"},
        "fields": {"outcome": {"column": "outcome", "map": {"HANG": "abandoned"}}},
    },
]

# Rows of a ticket activity log: the first row of each case opens the ticket.
ACTIVITY_CSV = """\
Case ID,Activity,Resource,Complete Timestamp
Case 1,Assign seriousness,Value 1,2012/10/09 14:50:17.000
Case 1,Take in charge ticket,Value 1,2012/10/09 14:51:01.000
Case 1,Take in charge ticket,Value 2,2012/10/12 15:02:56.000
Case 1,Resolve ticket,Value 1,2012/10/25 11:54:26.000
Case 1,Closed,Value 3,2012/11/09 12:54:39.000
Case 2,Take in charge ticket,Value 4,2012/01/10 09:00:00.000
"""

ACTIVITY_EVENTS: list[dict[str, Any]] = [
    {
        "type": "ticket_opened",
        "once_per_ticket": True,
        "occurred_at": {"column": "Complete Timestamp"},
        "fields": {"channel": {"value": "web"}},
    },
    {
        "type_from": {
            "column": "Activity",
            "values": {"Take in charge ticket": "first_reply", "Resolve ticket": "resolved"},
        },
        "occurred_at": {"column": "Complete Timestamp"},
        "fields": {"agent_id": {"column": "Resource"}},
    },
]

ACTIVITY_MAPPING: dict[str, Any] = {
    "timestamps": {"format": "%Y/%m/%d %H:%M:%S.%f", "time_zone": "Europe/Rome"},
    "ticket_id": "{Case ID}",
}


def convert_calls() -> list[ImportItem]:
    """Convert the call rows with the call mapping."""
    return convert(build_mapping(*CALL_EVENTS, **CALLS_MAPPING), CALLS_CSV)


def call_events() -> list[AnyEvent]:
    """The events converted from the call rows, in output order."""
    return [item.event for item in events_of(convert_calls())]


def test_event_per_row() -> None:
    """Each row gives its event, with the row's physical line number."""
    items = convert(build_mapping(), SIMPLE_CSV)

    assert [item.line for item in events_of(items)] == [2, 3]


def test_event_fields() -> None:
    """The event carries the ticket id, the parsed time and the constant field."""
    event = events_of(convert(build_mapping(), SIMPLE_CSV))[0].event

    assert isinstance(event, TicketOpened)
    assert event.ticket_id == "T1"
    assert event.occurred_at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert event.channel.value == "chat"


def test_default_event_id() -> None:
    """The default event id joins the ticket, the type and the line."""
    event = events_of(convert(build_mapping(), SIMPLE_CSV))[0].event

    assert event.event_id == "T1:ticket_opened:2"


def test_event_ids_repeatable() -> None:
    """Converting the same text twice gives the same event ids."""
    first = [item.event.event_id for item in events_of(convert(build_mapping(), SIMPLE_CSV))]
    second = [item.event.event_id for item in events_of(convert(build_mapping(), SIMPLE_CSV))]

    assert first == second


def test_duplicate_event_id() -> None:
    """An event id template that repeats an id fails the later row, naming the first line."""
    mapping = build_mapping(event_id="{ticket_id}")

    errors = errors_of(
        convert(mapping, "ticket,at\nT1,2024-05-01 10:00:00\nT1,2024-05-01 11:00:00\n")
    )

    assert [error.line for error in errors] == [3]
    assert "from line 2" in errors[0].reason


def test_duplicate_event_id_in_row() -> None:
    """Two events of one row with the same id fail the row."""
    mapping = build_mapping(OPENED_TEMPLATE, OPENED_TEMPLATE)

    items = convert(mapping, SIMPLE_CSV)

    assert events_of(items) == []
    assert len(errors_of(items)) == 2


def test_calls_events_by_row() -> None:
    """Served calls give three events and abandoned queued calls two."""
    items = convert_calls()

    lines = [(item.line, item.event.type.value) for item in events_of(items)]

    assert lines == [
        (2, "ticket_opened"),
        (2, "first_reply"),
        (2, "resolved"),
        (4, "ticket_opened"),
        (4, "resolved"),
        (6, "ticket_opened"),
        (6, "first_reply"),
        (6, "resolved"),
    ]


def test_calls_filtered() -> None:
    """A call that never queued nor was served, and a phantom call, are filtered."""
    items = convert_calls()

    assert filtered_lines(items) == [3, 5]


def test_ticket_id_template() -> None:
    """The ticket id template reads a column whose name contains +."""
    items = convert_calls()

    assert events_of(items)[0].event.ticket_id == "AA01-1"


def test_builtin_type_wins() -> None:
    """{type} in the event id is the event type, not the column named type."""
    items = convert_calls()

    assert events_of(items)[0].event.event_id == "AA01-1:ticket_opened"


def test_time_only_fixed_date() -> None:
    """Time-of-day cells take the fixed date and the zone's offset."""
    items = convert_calls()

    opened = events_of(items)[0].event

    assert opened.occurred_at.isoformat() == "1999-01-01T00:10:27+02:00"


def test_wait_is_queue_time() -> None:
    """First reply minus open is the queue wait of the row."""
    events = call_events()

    wait = (events[1].occurred_at - events[0].occurred_at).total_seconds()

    assert wait == 33


def test_null_value_falls_back() -> None:
    """A null value makes the column list fall back to the next column."""
    events = call_events()

    unqueued_open = events[5]

    assert unqueued_open.occurred_at.isoformat() == "1999-01-01T00:50:00+02:00"


def test_null_value_leaves_field_out() -> None:
    """An optional field whose cell is a null value is left out."""
    mapping = build_mapping(
        *CALL_EVENTS,
        **{**CALLS_MAPPING, "null_values": {**CALLS_MAPPING["null_values"], "server": ["DANA"]}},
    )

    reply = events_of(convert(mapping, CALLS_CSV))[1].event

    assert reply.agent_id is None


def test_value_map() -> None:
    """A value map turns HANG into the abandoned outcome."""
    events = call_events()

    abandoned = events[4]

    assert isinstance(abandoned, Resolved)
    assert abandoned.outcome is Outcome.ABANDONED


def test_duration_seconds() -> None:
    """A duration column in seconds fills talk_seconds."""
    events = call_events()

    resolved = events[2]

    assert isinstance(resolved, Resolved)
    assert resolved.talk_seconds == 61
    assert resolved.contacts == 1


def test_duration_hms() -> None:
    """duration_format h:mm:ss reads H:MM:SS cells."""
    template = {
        "type": "resolved",
        "occurred_at": {"column": "at"},
        "fields": {"handle_seconds": {"column": "aht", "duration_format": "h:mm:ss"}},
    }
    csv_text = "ticket,at,aht\nT1,2024-05-01 10:00:00,0:03:15\n"

    event = events_of(convert(build_mapping(template), csv_text))[0].event

    assert isinstance(event, Resolved)
    assert event.handle_seconds == 195


def test_mapping_duration_default() -> None:
    """The mapping-level duration format applies to every duration field."""
    template = {
        "type": "resolved",
        "occurred_at": {"column": "at"},
        "fields": {"hold_seconds": {"column": "hold"}},
    }
    csv_text = "ticket,at,hold\nT1,2024-05-01 10:00:00,1:00:00\n"

    event = events_of(convert(build_mapping(template, durations={"format": "h:mm:ss"}), csv_text))[
        0
    ].event

    assert isinstance(event, Resolved)
    assert event.hold_seconds == 3600


def test_type_from() -> None:
    """The activity column selects the event type."""
    items = convert(build_mapping(*ACTIVITY_EVENTS, **ACTIVITY_MAPPING), ACTIVITY_CSV)

    kinds = [item.event.type.value for item in events_of(items)]

    assert kinds == [
        "ticket_opened",
        "first_reply",
        "first_reply",
        "resolved",
        "ticket_opened",
        "first_reply",
    ]


def test_type_from_unlisted_filtered() -> None:
    """A row whose activity is not listed, and that opens nothing, is filtered."""
    items = convert(build_mapping(*ACTIVITY_EVENTS, **ACTIVITY_MAPPING), ACTIVITY_CSV)

    assert filtered_lines(items) == [6]


def test_first_row_opens() -> None:
    """The first row of each case opens its ticket, whatever its activity."""
    items = convert(build_mapping(*ACTIVITY_EVENTS, **ACTIVITY_MAPPING), ACTIVITY_CSV)

    opens = [
        (item.line, item.event.ticket_id)
        for item in events_of(items)
        if isinstance(item.event, TicketOpened)
    ]

    assert opens == [(2, "Case 1"), (7, "Case 2")]


def test_once_per_ticket_not_adjacent() -> None:
    """once_per_ticket remembers tickets across rows of other tickets."""
    template = {**OPENED_TEMPLATE, "once_per_ticket": True}
    csv_text = "ticket,at\nA,2024-05-01 10:00:00\nB,2024-05-01 10:01:00\nA,2024-05-01 10:02:00\n"

    items = convert(build_mapping(template), csv_text)

    assert filtered_lines(items) == [4]


def test_repeated_activity_ids_unique() -> None:
    """A repeated activity in one case gets distinct event ids through the line."""
    items = convert(build_mapping(*ACTIVITY_EVENTS, **ACTIVITY_MAPPING), ACTIVITY_CSV)

    ids = [item.event.event_id for item in events_of(items)]

    assert len(set(ids)) == len(ids)


def test_agent_from_column() -> None:
    """agent_id is read from the Resource column."""
    items = convert(build_mapping(*ACTIVITY_EVENTS, **ACTIVITY_MAPPING), ACTIVITY_CSV)

    reply = events_of(items)[1].event

    assert isinstance(reply, FirstReply)
    assert reply.agent_id == "Value 1"


@pytest.mark.parametrize(
    ("condition", "expected_lines"),
    [
        ({"column": "kind", "equals": "a"}, [2]),
        ({"column": "kind", "in": ["a", "b"]}, [2, 3]),
        ({"column": "kind", "not_in": ["a"]}, [3, 4]),
        ({"column": "kind", "not_empty": True}, [2, 3]),
        ({"column": "kind", "empty": True}, [4]),
        ({"any": [{"column": "kind", "equals": "a"}, {"column": "kind", "empty": True}]}, [2, 4]),
        (
            {"all": [{"column": "kind", "not_empty": True}, {"column": "kind", "not_in": ["b"]}]},
            [2],
        ),
    ],
)
def test_conditions(condition: dict[str, object], expected_lines: list[int]) -> None:
    """Each kind of condition selects its rows."""
    template = {**OPENED_TEMPLATE, "when": condition}
    csv_text = (
        "ticket,at,kind\n"
        "T1,2024-05-01 10:00:00,a\n"
        "T2,2024-05-01 10:00:00,b\n"
        "T3,2024-05-01 10:00:00,\n"
    )

    items = convert(build_mapping(template), csv_text)

    assert [item.line for item in events_of(items)] == expected_lines


def test_map_otherwise() -> None:
    """A cell missing from the map takes the otherwise value."""
    template = {
        **OPENED_TEMPLATE,
        "fields": {"channel": {"column": "via", "map": {"tel": "phone"}, "otherwise": "other"}},
    }

    event = events_of(
        convert(build_mapping(template), "ticket,at,via\nT1,2024-05-01 10:00:00,fax\n")
    )[0].event

    assert isinstance(event, TicketOpened)
    assert event.channel.value == "other"


def test_map_unlisted_error() -> None:
    """A cell missing from a map without otherwise fails the row, naming the value."""
    template = {
        **OPENED_TEMPLATE,
        "fields": {"channel": {"column": "via", "map": {"tel": "phone"}}},
    }

    errors = errors_of(
        convert(build_mapping(template), "ticket,at,via\nT1,2024-05-01 10:00:00,fax\n")
    )

    assert errors[0].column == "via"
    assert errors[0].value == "fax"
    assert "add it to map" in errors[0].reason


def test_default_for_empty() -> None:
    """An empty cell takes the source's default."""
    template = {**OPENED_TEMPLATE, "fields": {"channel": {"column": "via", "default": "email"}}}

    event = events_of(convert(build_mapping(template), "ticket,at,via\nT1,2024-05-01 10:00:00,\n"))[
        0
    ].event

    assert isinstance(event, TicketOpened)
    assert event.channel.value == "email"


def test_template_source() -> None:
    """A template source combines columns into one field."""
    template = {
        **OPENED_TEMPLATE,
        "fields": {"channel": {"value": "chat"}, "team": {"template": "{region}/{desk}"}},
    }

    csv_text = "ticket,at,region,desk\nT1,2024-05-01 10:00:00,EU,billing\n"
    event = events_of(convert(build_mapping(template), csv_text))[0].event

    assert isinstance(event, TicketOpened)
    assert event.team == "EU/billing"


def test_extra_fields_pass_through() -> None:
    """extra_fields are kept on the event, parsed by their `as` kind."""
    template = {**OPENED_TEMPLATE, "extra_fields": {"queue_size": {"column": "q", "as": "integer"}}}

    event = events_of(convert(build_mapping(template), "ticket,at,q\nT1,2024-05-01 10:00:00,7\n"))[
        0
    ].event

    assert event.model_extra == {"queue_size": 7}


def test_bad_timestamp_error() -> None:
    """An unparseable timestamp fails the row with line, column, value and format."""
    csv_text = "ticket,at\nT1,2024-05-01 10:00:00\nT2,yesterday\n"

    errors = errors_of(convert(build_mapping(), csv_text))

    assert len(errors) == 1
    assert errors[0].line == 3
    assert errors[0].column == "at"
    assert errors[0].value == "yesterday"
    assert "timestamp format" in errors[0].reason


def test_required_field_empty() -> None:
    """An empty cell for a required field fails the row rather than dropping it."""
    errors = errors_of(convert(build_mapping(), "ticket,at\nT1,\n"))

    assert errors[0].line == 2
    assert "ticket_opened events require occurred_at" in errors[0].reason


def test_empty_ticket_id_column() -> None:
    """An empty column in the ticket id template fails the row."""
    errors = errors_of(convert(build_mapping(), "ticket,at\n,2024-05-01 10:00:00\n"))

    assert errors[0].column == "ticket"
    assert "ticket_id template needs it" in errors[0].reason


def test_contract_violation() -> None:
    """A value that the contract rejects fails the row, naming its column."""
    template = {
        "type": "resolved",
        "occurred_at": {"column": "at"},
        "fields": {"talk_seconds": {"column": "t"}},
    }

    errors = errors_of(
        convert(build_mapping(template), "ticket,at,t\nT1,2024-05-01 10:00:00,-87\n")
    )

    assert errors[0].column == "t"
    assert errors[0].value == -87.0
    assert "talk_seconds" in errors[0].reason


def test_row_all_or_nothing() -> None:
    """A row with one failing event gives none of its events."""
    template = {
        "type": "resolved",
        "occurred_at": {"column": "at"},
        "fields": {"talk_seconds": {"column": "t"}},
    }
    mapping = build_mapping(OPENED_TEMPLATE, template)

    items = convert(mapping, "ticket,at,t\nT1,2024-05-01 10:00:00,oops\n")

    assert events_of(items) == []
    assert len(errors_of(items)) == 1


def test_field_count_error() -> None:
    """A row with too few fields fails with its line."""
    errors = errors_of(convert(build_mapping(), "ticket,at\nT1\nT2,2024-05-01 10:00:00\n"))

    assert [error.line for error in errors] == [2]
    assert "has 1 fields but the header has 2" in errors[0].reason


def test_unreadable_record() -> None:
    """A record the csv module cannot read fails with its line, and later rows convert."""
    huge = "x" * 200_000
    csv_text = f'ticket,at\nT1,"{huge}"\nT2,2024-05-01 11:00:00\n'

    items = convert(build_mapping(), csv_text)

    assert [error.line for error in errors_of(items)] == [2]
    assert "is not valid CSV" in errors_of(items)[0].reason
    assert [item.line for item in events_of(items)] == [3]


def test_multiline_field_lines() -> None:
    """A quoted field spanning lines keeps later line numbers physical."""
    template = {**OPENED_TEMPLATE, "extra_fields": {"note": {"column": "note"}}}
    csv_text = 'ticket,at,note\nT1,2024-05-01 10:00:00,"two\nlines"\nT2,2024-05-01 11:00:00,x\n'

    items = convert(build_mapping(template), csv_text)

    assert [item.line for item in events_of(items)] == [2, 4]


def test_blank_lines_skipped() -> None:
    """Blank lines are neither rows nor errors, and do not shift line numbers."""
    items = convert(build_mapping(), "ticket,at\n\nT1,2024-05-01 10:00:00\n\n")

    assert [item.line for item in items] == [3]


def test_missing_header_column() -> None:
    """A column the mapping reads but the header lacks fails the whole file."""
    with pytest.raises(MappingError) as info:
        convert(build_mapping(), "ticket,time\nT1,2024-05-01 10:00:00\n")

    assert "column 'at' (read by events[0].occurred_at) is not in the header" in str(info.value)


def test_duplicate_header_column() -> None:
    """A column the mapping reads must appear once in the header."""
    with pytest.raises(MappingError, match="appears 2 times"):
        convert(build_mapping(), "ticket,at,at\nT1,2024-05-01 10:00:00,x\n")


def test_duplicate_unused_column() -> None:
    """A repeated header name that the mapping does not read is harmless."""
    items = convert(build_mapping(), "ticket,at,Variant,Variant\nT1,2024-05-01 10:00:00,a,a\n")

    assert len(events_of(items)) == 1


def test_null_values_column_checked() -> None:
    """A null_values column that the header lacks fails the file, so a typo is not ignored."""
    with pytest.raises(MappingError, match="null_values.q_strat"):
        convert(build_mapping(null_values={"q_strat": ["0:00:00"]}), SIMPLE_CSV)


def test_empty_input() -> None:
    """An input without a header line fails."""
    with pytest.raises(MappingError, match="empty"):
        convert(build_mapping(), "")


def test_semicolon_and_spaces() -> None:
    """The delimiter is configurable and cells are stripped by default."""
    csv_text = "ticket ; at\n T1 ; 2024-05-01 10:00:00 \n"

    event = events_of(convert(build_mapping(csv={"delimiter": ";"}), csv_text))[0].event

    assert event.ticket_id == "T1"


def test_tab_delimiter() -> None:
    """A tab-separated file is read with delimiter \\t."""
    event = events_of(
        convert(build_mapping(csv={"delimiter": "\t"}), "ticket\tat\nT1\t2024-05-01 10:00:00\n")
    )[0].event

    assert event.ticket_id == "T1"


def test_strip_off() -> None:
    """With strip off, spaces stay part of the value."""
    template = {
        **OPENED_TEMPLATE,
        "fields": {"channel": {"value": "chat"}, "team": {"column": "team"}},
    }
    csv_text = "ticket,at,team\nT1,2024-05-01 10:00:00, gold\n"

    event = events_of(convert(build_mapping(template, csv={"strip": False}), csv_text))[0].event

    assert isinstance(event, TicketOpened)
    assert event.team == " gold"


def test_byte_order_mark() -> None:
    """A byte-order mark before the header does not hide the first column."""
    items = convert(build_mapping(), "\ufeff" + SIMPLE_CSV)

    assert len(events_of(items)) == 2


def test_encoding_from_mapping(tmp_path: Path) -> None:
    """open_csv decodes the file with the mapping's encoding."""
    path = tmp_path / "latin.csv"
    path.write_bytes("ticket,at\nCaf\u00e9,2024-05-01 10:00:00\n".encode("cp1252"))
    mapping = build_mapping(csv={"encoding": "cp1252"})

    with open_csv(path, mapping) as csv_file:
        report = import_csv(mapping, csv_file, io.StringIO())

    assert report.events == 1


def test_wrong_encoding(tmp_path: Path) -> None:
    """Bytes that are invalid in the mapping's encoding fail the file with a fix."""
    path = tmp_path / "latin.csv"
    path.write_bytes("ticket,at\nCaf\u00e9,2024-05-01 10:00:00\n".encode("cp1252"))
    mapping = build_mapping()

    with open_csv(path, mapping) as csv_file, pytest.raises(MappingError, match="set csv.encoding"):
        import_csv(mapping, csv_file, io.StringIO())


def test_report_counts() -> None:
    """The report counts rows, events by type, filtered rows and errors."""
    csv_text = CALLS_CSV + "AA09,9,PS,bad,0:00:00,0:00:00,0,AGENT,0:00:00,0:00:00,0,DANA\n"
    report = import_csv(
        build_mapping(*CALL_EVENTS, **CALLS_MAPPING), io.StringIO(csv_text), io.StringIO()
    )

    assert report.rows == 6
    assert report.events == 8
    assert report.events_by_type == {"ticket_opened": 3, "first_reply": 2, "resolved": 3}
    assert report.filtered == 2
    assert report.failed_rows == 1
    assert [error.line for error in report.errors] == [7, 7, 7]


def test_report_summary() -> None:
    """The summary line names every count."""
    report = ImportReport(rows=3, events=2, filtered=1, events_by_type={"ticket_opened": 2})

    assert report.summary() == (
        "3 rows: 2 events written (ticket_opened 2), 1 rows filtered, 0 rows failed (0 errors)"
    )


def test_output_is_contract_json() -> None:
    """Each output line parses back as a contract event from a file."""
    out = io.StringIO()

    import_csv(build_mapping(*CALL_EVENTS, **CALLS_MAPPING), io.StringIO(CALLS_CSV), out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 8
    assert all(parse_event(line).ticket_id for line in lines)


def test_fixture_file() -> None:
    """The hand-made fixture file converts with its mapping, error row included."""
    mapping = load_mapping(FIXTURES / "tickets.yaml")
    out = io.StringIO()
    with open_csv(FIXTURES / "tickets.csv", mapping) as csv_file:
        report = import_csv(mapping, csv_file, out)

    first = json.loads(out.getvalue().splitlines()[0])
    assert report.rows == 5
    assert report.filtered == 1
    assert [error.line for error in report.errors] == [6]
    assert first["occurred_at"] == "2024-03-31T01:30:00+01:00"
