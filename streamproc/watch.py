"""`streamproc watch`: a live terminal table of the KPIs that a worker serves on /metrics.

`read_scrape` turns exposition text into rows and totals, and `render` draws them. Both are
pure. `run_watch` scrapes over HTTP on an interval and redraws with rich's Live display.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NoReturn

from prometheus_client.parser import text_string_to_metric_families
from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from streamproc.kpi.targets import TARGET_KPIS, Direction

ALL = "all"
SCRAPE_TIMEOUT_SECONDS = 5.0
# Width used when output is not a terminal (a pipe or file), wide enough for the whole table.
PLAIN_OUTPUT_WIDTH = 160

# Exported family -> row value name. The `_seconds` families are read at stat="mean".
VALUE_FAMILIES: dict[str, str] = {
    "support_first_response_seconds": "first_response_seconds",
    "support_first_response_target_met_ratio": "first_response_target_met_ratio",
    "support_resolution_seconds": "resolution_seconds",
    "support_handle_seconds": "handle_seconds",
    "support_abandonment_ratio": "abandonment_ratio",
    "support_first_contact_resolution_ratio": "first_contact_resolution_ratio",
    "support_csat_mean": "csat_mean",
    "support_csat_top_box_ratio": "csat_top_box_ratio",
    "support_ces_mean": "ces_mean",
    "support_nps": "nps",
}
SURVEY_SAMPLE_KPIS = ("csat", "ces", "nps")


@dataclass(frozen=True, slots=True)
class Row:
    """The KPI values of one channel and team in one window, with their targets and samples."""

    channel: str
    team: str
    values: dict[str, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    samples: dict[str, float] = field(default_factory=dict)

    def misses_target(self, name: str) -> bool | None:
        """Return whether value `name` misses its target, or None without a value or target."""
        value = self.values.get(name)
        target = self.targets.get(name)
        if value is None or target is None:
            return None
        if TARGET_KPIS[name] is Direction.AT_MOST:
            return value > target
        return value < target


@dataclass(frozen=True, slots=True)
class Scrape:
    """The content of one /metrics scrape, for one window."""

    window: str
    rows: tuple[Row, ...]
    windows: tuple[str, ...]
    clock_seconds: float | None
    events: dict[str, float]


def read_scrape(text: str, *, window: str) -> Scrape:
    """Parse Prometheus exposition text into the rows of `window`, ordered for display.

    Raises ValueError when the text is not valid exposition format.
    """
    rows: dict[tuple[str, str], Row] = {}
    targets: dict[tuple[str, str], dict[str, float]] = {}
    windows: set[str] = set()
    events: dict[str, float] = {}
    clock_seconds = None

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "streamproc_event_time_seconds":
                clock_seconds = sample.value
            elif sample.name == "streamproc_events_total":
                outcome = labels.get("outcome", "unknown")
                events[outcome] = events.get(outcome, 0.0) + sample.value
            elif sample.name == "support_kpi_target":
                pair = (labels["channel"], labels["team"])
                targets.setdefault(pair, {})[labels["kpi"]] = sample.value
            elif "window" in labels:
                windows.add(labels["window"])
                if labels["window"] == window:
                    row = rows.setdefault(
                        (labels["channel"], labels["team"]), Row(labels["channel"], labels["team"])
                    )
                    _add_sample(row, sample.name, labels, sample.value)

    for pair, row in rows.items():
        row.targets.update(targets.get(pair, {}))
    ordered = tuple(rows[pair] for pair in sorted(rows, key=_display_order))
    return Scrape(window, ordered, tuple(sorted(windows)), clock_seconds, events)


def _add_sample(row: Row, name: str, labels: dict[str, str], value: float) -> None:
    if name == "support_kpi_samples":
        row.samples[labels["kpi"]] = value
        return
    if labels.get("stat", "mean") != "mean":
        return
    key = VALUE_FAMILIES.get(name)
    if key is not None:
        row.values[key] = value


def _display_order(pair: tuple[str, str]) -> tuple[int, str, str]:
    # Totals first, then each channel's total, then each team's total, then the detail.
    channel, team = pair
    group = int(channel != ALL) + 2 * int(team != ALL)
    return group, channel, team


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    """Format seconds as `42 s`, `3.5 min` or `2.1 h`, or a dash when absent."""
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_percent(ratio: float | None) -> str:
    """Format a 0-to-1 ratio as a whole percentage, or a dash when absent."""
    return "-" if ratio is None else f"{ratio * 100:.0f}%"


def format_score(score: float | None, *, signed: bool = False) -> str:
    """Format a survey score with two decimals, or NPS as a signed whole number."""
    if score is None:
        return "-"
    return f"{score:+.0f}" if signed else f"{score:.2f}"


COLUMNS: tuple[tuple[str, str], ...] = (
    ("channel", "left"),
    ("team", "left"),
    ("FRT mean", "right"),
    ("FRT met", "right"),
    ("resolution", "right"),
    ("AHT", "right"),
    ("abandoned", "right"),
    ("FCR", "right"),
    ("CSAT", "right"),
    ("CSAT top", "right"),
    ("CES", "right"),
    ("NPS", "right"),
    ("samples", "right"),
)


def row_cells(row: Row) -> list[Text]:
    """Return a row's table cells, red where a value misses its target and green where it meets it."""
    values = row.values
    surveys = sum(row.samples.get(kpi, 0) for kpi in SURVEY_SAMPLE_KPIS)
    samples = "{:.0f}/{:.0f}/{:.0f}".format(
        row.samples.get("first_response", 0), row.samples.get("abandonment", 0), surveys
    )

    def judged(name: str, text: str) -> Text:
        miss = row.misses_target(name)
        if miss is None:
            return Text(text)
        return Text(text, style="red" if miss else "green")

    return [
        Text(row.channel, style="bold" if row.channel == ALL else ""),
        Text(row.team, style="bold" if row.team == ALL else ""),
        judged("first_response_seconds", format_duration(values.get("first_response_seconds"))),
        Text(format_percent(values.get("first_response_target_met_ratio"))),
        judged("resolution_seconds", format_duration(values.get("resolution_seconds"))),
        judged("handle_seconds", format_duration(values.get("handle_seconds"))),
        Text(format_percent(values.get("abandonment_ratio"))),
        judged(
            "first_contact_resolution_ratio",
            format_percent(values.get("first_contact_resolution_ratio")),
        ),
        Text(format_score(values.get("csat_mean"))),
        judged("csat_top_box_ratio", format_percent(values.get("csat_top_box_ratio"))),
        judged("ces_mean", format_score(values.get("ces_mean"))),
        judged("nps", format_score(values.get("nps"), signed=True)),
        Text(samples),
    ]


def render(
    scrape: Scrape | None, *, url: str, now: float, error: str | None = None, interval: float
) -> RenderableType:
    """Draw the header lines and the KPI table, or a waiting message before the first scrape."""
    parts: list[RenderableType] = []
    if scrape is None:
        parts.append(Text(f"Waiting for {url}: {error}", style="yellow"))
        parts.append(Text(f"Retrying every {interval:g} s. Press Ctrl-C to quit.", style="dim"))
        return Group(*parts)

    parts.append(Text(f"{url}  window {scrape.window}", style="bold"))
    parts.append(_status_line(scrape, now=now))
    if error is not None:
        parts.append(
            Text(f"The last scrape failed ({error}); showing the previous one.", style="yellow")
        )

    if not scrape.rows:
        seen = ", ".join(scrape.windows) or "none yet"
        parts.append(
            Text(f"No KPI values for window {scrape.window} yet (windows with values: {seen}).")
        )
        return Group(*parts)

    parts.append(_table(scrape.rows))
    parts.append(
        Text(
            "samples: first responses / contacts / survey answers. Red misses the target, green meets it.",
            style="dim",
        )
    )
    return Group(*parts)


def _status_line(scrape: Scrape, *, now: float) -> Text:
    if scrape.clock_seconds is None:
        clock = "event time: no events yet"
    else:
        moment = datetime.fromtimestamp(scrape.clock_seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
        lag = now - scrape.clock_seconds
        relation = "behind" if lag >= 0 else "ahead of"
        clock = f"event time {moment} UTC ({abs(lag):.0f} s {relation} wall clock)"
    events = scrape.events
    counts = ", ".join(
        f"{events.get(outcome, 0):.0f} {outcome}"
        for outcome in ("accepted", "invalid", "duplicate")
    )
    return Text(f"{clock}   events: {counts}")


def _table(rows: Iterable[Row]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    for title, justify in COLUMNS:
        table.add_column(title, justify=justify, no_wrap=True)  # type: ignore[arg-type]

    previous_group = None
    for row in rows:
        group = _display_order((row.channel, row.team))[0]
        if previous_group is not None and group != previous_group:
            table.add_section()
        previous_group = group
        table.add_row(*row_cells(row))
    return table


# ---------------------------------------------------------------------------------------------
# Scraping loop
# ---------------------------------------------------------------------------------------------


def fetch_metrics(url: str, *, timeout: float = SCRAPE_TIMEOUT_SECONDS) -> str:
    """GET `url` and return the body as text. Raises OSError or HTTPException on failure."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
    return body.decode("utf-8")


def poll(url: str, *, window: str) -> tuple[Scrape | None, str | None]:
    """Scrape `url` once and return the scrape and None, or None and the error text."""
    try:
        return read_scrape(fetch_metrics(url), window=window), None
    except urllib.error.HTTPError as exc:
        return None, f"HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        return None, str(exc.reason)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, str(exc) or type(exc).__name__


def run_watch(url: str, *, window: str, interval: float, once: bool = False) -> int:
    """Show the KPIs of `window` from `url`, redrawn every `interval` seconds until Ctrl-C.

    With `once`, print one table and return 1 if the scrape failed.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")
    if not interval > 0:
        raise ValueError(f"interval must be above 0 seconds, got {interval}")

    console = Console()
    if not console.is_terminal:
        console = Console(width=PLAIN_OUTPUT_WIDTH)
    if once:
        scrape, error = poll(url, window=window)
        console.print(render(scrape, url=url, now=time.time(), error=error, interval=interval))
        return 0 if error is None else 1

    try:
        if console.is_terminal:
            with Live(console=console, auto_refresh=False) as live:
                _watch(lambda frame: live.update(frame, refresh=True), url, window, interval)
        else:
            # A pipe or a file cannot be redrawn in place, so each scrape is printed in turn.
            _watch(console.print, url, window, interval)
    except KeyboardInterrupt:
        pass
    return 0


def _watch(
    show: Callable[[RenderableType], None], url: str, window: str, interval: float
) -> NoReturn:
    last: Scrape | None = None
    while True:
        scrape, error = poll(url, window=window)
        last = scrape or last
        show(render(last, url=url, now=time.time(), error=error, interval=interval))
        time.sleep(interval)
