"""Tests of `streamproc watch`: reading scraped exposition text into rows and drawing them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rich.console import Console, RenderableType

from streamproc.watch import (
    Row,
    Scrape,
    format_duration,
    format_percent,
    format_score,
    poll,
    read_scrape,
    render,
    run_watch,
)

# A trimmed /metrics page in the exporter's format: four dimensions in window 1h, one
# dimension that only has 24h values, a non-mean stat, targets, the clock and counters.
EXPOSITION = """\
# HELP support_first_response_seconds First response time, by stat.
# TYPE support_first_response_seconds gauge
support_first_response_seconds{channel="all",stat="mean",team="all",window="1h"} 25.0
support_first_response_seconds{channel="chat",stat="mean",team="all",window="1h"} 20.0
support_first_response_seconds{channel="all",stat="mean",team="billing",window="1h"} 31.0
support_first_response_seconds{channel="chat",stat="mean",team="billing",window="1h"} 42.0
support_first_response_seconds{channel="chat",stat="p90",team="billing",window="1h"} 99.0
support_first_response_seconds{channel="email",stat="mean",team="tech",window="24h"} 180.0
# HELP support_first_response_target_met_ratio Share of first responses within target.
# TYPE support_first_response_target_met_ratio gauge
support_first_response_target_met_ratio{channel="chat",team="billing",window="1h"} 0.25
# HELP support_handle_seconds Average handling time, by stat.
# TYPE support_handle_seconds gauge
support_handle_seconds{channel="chat",stat="mean",team="billing",window="1h"} 300.0
# HELP support_first_contact_resolution_ratio Share of one-contact resolutions.
# TYPE support_first_contact_resolution_ratio gauge
support_first_contact_resolution_ratio{channel="chat",team="billing",window="1h"} 0.5
# HELP support_nps Net Promoter Score.
# TYPE support_nps gauge
support_nps{channel="chat",team="billing",window="1h"} -12.5
# HELP support_kpi_samples Number of samples behind each KPI value.
# TYPE support_kpi_samples gauge
support_kpi_samples{channel="chat",kpi="first_response",team="billing",window="1h"} 4.0
support_kpi_samples{channel="chat",kpi="abandonment",team="billing",window="1h"} 6.0
support_kpi_samples{channel="chat",kpi="csat",team="billing",window="1h"} 2.0
support_kpi_samples{channel="chat",kpi="nps",team="billing",window="1h"} 8.0
# HELP support_kpi_target Configured target of each KPI for a channel and team.
# TYPE support_kpi_target gauge
support_kpi_target{channel="chat",kpi="first_response_seconds",team="billing"} 30.0
support_kpi_target{channel="chat",kpi="handle_seconds",team="billing"} 360.0
support_kpi_target{channel="chat",kpi="first_contact_resolution_ratio",team="billing"} 0.7
support_kpi_target{channel="chat",kpi="nps",team="billing"} 50.0
# HELP streamproc_event_time_seconds Event-time clock.
# TYPE streamproc_event_time_seconds gauge
streamproc_event_time_seconds 1.7145576e+09
# HELP streamproc_events_total Input messages by topic and outcome.
# TYPE streamproc_events_total counter
streamproc_events_total{outcome="accepted",topic="ticket-opened"} 30.0
streamproc_events_total{outcome="accepted",topic="first-reply"} 12.0
streamproc_events_total{outcome="invalid",topic="survey"} 2.0
# HELP streamproc_events_created Input messages by topic and outcome.
# TYPE streamproc_events_created gauge
streamproc_events_created{outcome="accepted",topic="ticket-opened"} 1.7e+09
"""
URL = "http://127.0.0.1:9464/metrics"
CLOCK = 1714557600.0


@pytest.fixture
def scrape() -> Scrape:
    return read_scrape(EXPOSITION, window="1h")


def row_of(scrape: Scrape, channel: str, team: str) -> Row:
    return next(row for row in scrape.rows if (row.channel, row.team) == (channel, team))


def text_of(renderable: RenderableType) -> str:
    console = Console(record=True, width=200)
    console.print(renderable)
    return console.export_text()


def test_read_rows_ordered(scrape: Scrape) -> None:
    """Totals come first, then channel totals, team totals and the detail."""
    pairs = [(row.channel, row.team) for row in scrape.rows]

    assert pairs == [("all", "all"), ("chat", "all"), ("all", "billing"), ("chat", "billing")]


def test_read_mean_values(scrape: Scrape) -> None:
    """Values are read at stat="mean", and other stats are ignored."""
    row = row_of(scrape, "chat", "billing")

    assert row.values["first_response_seconds"] == 42.0
    assert row.values["handle_seconds"] == 300.0
    assert row.values["nps"] == -12.5


def test_read_window_filter(scrape: Scrape) -> None:
    """Dimensions without values in the window are left out, but their window is listed."""
    pairs = {(row.channel, row.team) for row in scrape.rows}

    assert ("email", "tech") not in pairs
    assert scrape.windows == ("1h", "24h")


def test_read_targets(scrape: Scrape) -> None:
    """Targets attach to the row of their channel and team."""
    row = row_of(scrape, "chat", "billing")

    assert row.targets["first_response_seconds"] == 30.0
    assert row_of(scrape, "all", "all").targets == {}


def test_read_samples(scrape: Scrape) -> None:
    """Sample counts are kept by KPI."""
    row = row_of(scrape, "chat", "billing")

    assert row.samples == {"first_response": 4.0, "abandonment": 6.0, "csat": 2.0, "nps": 8.0}


def test_read_clock(scrape: Scrape) -> None:
    """The event-time clock is read as a Unix timestamp."""
    assert scrape.clock_seconds == CLOCK


def test_read_events_by_outcome(scrape: Scrape) -> None:
    """Event counters are summed over topics, and `_created` samples are ignored."""
    assert scrape.events == {"accepted": 42.0, "invalid": 2.0}


def test_read_empty_page() -> None:
    """A page without KPI families gives no rows, no clock and no events."""
    scrape = read_scrape("", window="1h")

    assert scrape.rows == ()
    assert scrape.clock_seconds is None
    assert scrape.events == {}


def test_read_invalid_text() -> None:
    """Text that is not exposition format raises ValueError."""
    with pytest.raises(ValueError):
        read_scrape("<html>not metrics</html>\n", window="1h")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("first_response_seconds", True),
        ("handle_seconds", False),
        ("first_contact_resolution_ratio", True),
        ("nps", True),
        ("csat_top_box_ratio", None),
    ],
)
def test_misses_target(scrape: Scrape, name: str, expected: bool | None) -> None:
    """A value misses an at-most target above it and an at-least target below it."""
    assert row_of(scrape, "chat", "billing").misses_target(name) is expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(None, "-"), (42.4, "42 s"), (89.0, "89 s"), (210.0, "3.5 min"), (7560.0, "2.1 h")],
)
def test_format_duration(seconds: float | None, expected: str) -> None:
    """Durations read in seconds, minutes or hours."""
    assert format_duration(seconds) == expected


def test_format_percent() -> None:
    """Ratios read as whole percentages."""
    assert format_percent(0.254) == "25%"
    assert format_percent(None) == "-"


def test_format_score() -> None:
    """Scores show two decimals, and NPS shows its sign."""
    assert format_score(4.333) == "4.33"
    assert format_score(-12.5, signed=True) == "-12"
    assert format_score(40.0, signed=True) == "+40"


def test_render_table(scrape: Scrape) -> None:
    """The table shows each row's values, samples, the clock and the event totals."""
    text = text_of(render(scrape, url=URL, now=CLOCK + 3, interval=2.0))

    assert "billing" in text
    assert "42 s" in text
    assert "4/6/10" in text
    assert "2024-05-01 10:00:00 UTC (3 s behind wall clock)" in text
    assert "42 accepted, 2 invalid, 0 duplicate" in text


def test_render_waiting() -> None:
    """Before the first successful scrape, the URL and the error are shown."""
    text = text_of(render(None, url=URL, now=CLOCK, error="Connection refused", interval=2.0))

    assert URL in text
    assert "Connection refused" in text


def test_render_stale(scrape: Scrape) -> None:
    """A failed scrape after a good one keeps the table and shows the error."""
    text = text_of(render(scrape, url=URL, now=CLOCK, error="timed out", interval=2.0))

    assert "timed out" in text
    assert "billing" in text


def test_render_empty_window() -> None:
    """A window without values lists the windows that have some."""
    scrape = read_scrape(EXPOSITION, window="7d")
    text = text_of(render(scrape, url=URL, now=CLOCK, interval=2.0))

    assert "No KPI values for window 7d yet (windows with values: 1h, 24h)" in text


@pytest.mark.parametrize(
    ("url", "interval", "message"),
    [("127.0.0.1:9464/metrics", 2.0, "url"), (URL, 0.0, "interval")],
)
def test_run_rejects_bad_option(url: str, interval: float, message: str) -> None:
    """A URL without http(s) scheme or a non-positive interval raises ValueError."""
    with pytest.raises(ValueError, match=message):
        run_watch(url, window="1h", interval=interval, once=True)


@pytest.fixture
def metrics_server() -> Iterator[str]:
    """Serve EXPOSITION on a loopback port for the duration of a test."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404, "Not Found")
                return
            body = EXPOSITION.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/metrics"
    server.shutdown()
    server.server_close()


def test_once_prints_table(metrics_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """With once, a served page prints one table and returns 0."""
    status = run_watch(metrics_server, window="1h", interval=2.0, once=True)

    assert status == 0
    assert "billing" in capsys.readouterr().out


def test_once_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    """With once, a URL that refuses connections prints the error and returns 1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/metrics"

    status = run_watch(url, window="1h", interval=2.0, once=True)

    assert status == 1
    assert f"Waiting for {url}" in capsys.readouterr().out


def test_loop_prints_when_piped(
    metrics_server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a terminal, each scrape is printed, and Ctrl-C ends the loop with status 0."""

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("streamproc.watch.time.sleep", interrupt)
    status = run_watch(metrics_server, window="1h", interval=2.0)

    assert status == 0
    assert "billing" in capsys.readouterr().out


def test_poll_http_error(metrics_server: str) -> None:
    """An HTTP error status is reported with its code, and nothing is read."""
    scrape, error = poll(metrics_server.replace("/metrics", "/missing"), window="1h")

    assert scrape is None
    assert error == "HTTP 404 Not Found"
