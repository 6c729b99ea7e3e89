"""Generate the streamproc Grafana dashboards as JSON: run `python deploy/grafana/dashboards.py`.

It writes deploy/grafana/dashboards/*.json (or `--output-dir DIR`), which Grafana loads through
deploy/grafana/provisioning/dashboards/streamproc.yml. Output is deterministic: keys sorted, and
uids and panel ids fixed here. tests/unit/test_dashboards.py fails when the committed files differ.

Library: grafana-foundation-sdk (Grafana Labs) rather than grafanalib. The SDK is generated from
Grafana's own schemas, ships type hints (py.typed), and 0.0.21 writes dashboard schemaVersion 42.
grafanalib's last release, 0.7.1 of January 2024, has no type hints and writes schemaVersion 12,
which Grafana migrates on every load. Grafana Labs calls the SDK a public preview, so
constraints.txt pins its exact version.

Queries and template variables. The variables are `datasource` (type prometheus) in every
dashboard, `channel` and `team` in the KPI and queue dashboards, and `window` in the KPI
dashboard. Panel expressions use them only inside regex matchers (`channel=~"$channel"`), and use
Grafana's built-in `$__rate_interval` only as a rate range. A test that runs every expression
against Prometheus reads them with `panel_queries()` from deploy/grafana/queries.py, then
replaces the variables with `substitute()`: a regex such as `.*` or one label value per
variable, and `5m` for `$__rate_interval`.

NOTE: no test loads the JSON into a Grafana server, so the layout and panel options (the Wilson
band fill, the status value mappings, the merged queue table) are checked only by reading.
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

with warnings.catch_warnings():
    # The SDK's dashboard classes warn on import in favour of dashboardv2. Grafana's docs for
    # 12.2 to 12.4 call dashboard schema v2 experimental or public preview, enabled only by the
    # dynamic dashboards feature toggle, so this generator writes the classic model.
    warnings.filterwarnings("ignore", "Prefer using dashboardv2", DeprecationWarning)
    from grafana_foundation_sdk.builders import common as common_builder
    from grafana_foundation_sdk.builders import dashboard as dashboard_builder
    from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common
    from grafana_foundation_sdk.models import dashboard as model
    from grafana_foundation_sdk.models.prometheus import PromQueryFormat

OUTPUT_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = common.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAG = "streamproc"
WHERE = 'channel=~"$channel", team=~"$team"'
WINDOW = 'window=~"$window"'
RATE = "[$__rate_interval]"
# The gauge is 0 until a worker has processed its first message, so panels keep only values > 0.
LAST_PROCESSED = "streamproc_last_event_processed_timestamp_seconds"
NO_COLOR = [model.Threshold(value=None, color="text")]


@dataclass(frozen=True, kw_only=True)
class Kpi:
    """One windowed KPI family and where its sample count and target come from."""

    title: str
    metric: str
    samples: str  # `kpi` label of support_kpi_samples
    unit: str
    kind: str  # "duration" (has a stat label), "ratio" (has Wilson bounds) or "score"
    clock: bool = False  # whether the family has a clock label (calendar or business)
    target: str | None = None  # `kpi` label of support_kpi_target
    meets: str = ">="  # how a value compares with its target when it meets it


# Targets and their directions follow streamproc/kpi/targets.py; sample names follow
# kpi_values() in streamproc/kpi/families.py.
# fmt: off
KPIS = (
    Kpi(title="First response time", metric="support_first_response_seconds",
        samples="first_response", unit="s", kind="duration", clock=True,
        target="first_response_seconds", meets="<="),
    Kpi(title="Resolution time", metric="support_resolution_seconds", samples="resolution",
        unit="s", kind="duration", clock=True, target="resolution_seconds", meets="<="),
    Kpi(title="Handle time", metric="support_handle_seconds", samples="handle", unit="s",
        kind="duration", target="handle_seconds", meets="<="),
    Kpi(title="First contact resolution", metric="support_first_contact_resolution_ratio",
        samples="first_contact_resolution", unit="percentunit", kind="ratio",
        target="first_contact_resolution_ratio"),
    Kpi(title="CSAT top box", metric="support_csat_top_box_ratio", samples="csat",
        unit="percentunit", kind="ratio", target="csat_top_box_ratio"),
    Kpi(title="CES mean", metric="support_ces_mean", samples="ces", unit="none", kind="score",
        target="ces_mean"),
    Kpi(title="NPS", metric="support_nps", samples="nps", unit="none", kind="score", target="nps"),
    Kpi(title="First responses within target", metric="support_first_response_target_met_ratio",
        samples="first_response", unit="percentunit", kind="ratio"),
    Kpi(title="Resolutions within target", metric="support_resolution_target_met_ratio",
        samples="resolution", unit="percentunit", kind="ratio"),
    Kpi(title="Abandonment", metric="support_abandonment_ratio", samples="abandonment",
        unit="percentunit", kind="ratio"),
    Kpi(title="CSAT satisfied", metric="support_csat_satisfied_ratio", samples="csat",
        unit="percentunit", kind="ratio"),
    Kpi(title="CES easy", metric="support_ces_easy_ratio", samples="ces", unit="percentunit",
        kind="ratio"),
    Kpi(title="CSAT mean", metric="support_csat_mean", samples="csat", unit="none", kind="score"),
)
# fmt: on


def windowed(metric: str, *matchers: str) -> str:
    """Return a selector of a windowed gauge filtered by the channel, team and window variables."""
    return f"{metric}{{{', '.join([*matchers, WHERE, WINDOW])}}}"


def query(expr: str, legend: str, ref_id: str, *, instant: bool = False) -> prometheus.Dataquery:
    """Build one Prometheus query of a panel."""
    built = prometheus.Dataquery().datasource(DATASOURCE).expr(expr).legend_format(legend)
    built = built.ref_id(ref_id)
    return built.instant() if instant else built


def fixed_color(color: str) -> model.DynamicConfigValue:
    return model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color})


def config(name: str, value: object) -> model.DynamicConfigValue:
    return model.DynamicConfigValue(id_val=name, value=value)


def stat_panel(
    title: str, unit: str, ids: Iterator[int], *, width: int = 4, height: int = 5
) -> stat.Panel:
    """Build a stat panel that shows the last value of each series, colored only by mappings."""
    return (
        stat.Panel()
        .id(next(ids))
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .reduce_options(common_builder.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .thresholds(
            dashboard_builder.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(NO_COLOR)
        )
    )


def time_series_panel(
    title: str, unit: str, ids: Iterator[int], *, width: int = 8, height: int = 8
) -> timeseries.Panel:
    """Build a time series panel with a legend and a tooltip that lists every series."""
    return (
        timeseries.Panel()
        .id(next(ids))
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .line_width(1)
        .fill_opacity(0)
        .legend(
            common_builder.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
        .tooltip(
            common_builder.VizTooltipOptions()
            .mode(common.TooltipDisplayMode.MULTI)
            .sort(common.SortOrder.NONE)
        )
    )


def base_dashboard(uid: str, title: str, description: str) -> dashboard_builder.Dashboard:
    """Build a dashboard with the datasource variable, the built-in annotations and links."""
    annotations = (
        dashboard_builder.AnnotationQuery()
        .name("Annotations & Alerts")
        .built_in(1)
        .datasource(common.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
        .enable(True)
        .hide(True)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard")
    )
    links = (
        dashboard_builder.DashboardLink("streamproc dashboards")
        .type(model.DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(True)
        .include_vars(True)
        .keep_time(True)
    )
    return (
        dashboard_builder.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .editable()
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .annotation(annotations)
        .link(links)
        .with_variable(
            dashboard_builder.DatasourceVariable("datasource")
            .label("Data source")
            .type("prometheus")
        )
    )


def label_variable(
    name: str, metric: str, default: str, *, repeat: bool = False
) -> dashboard_builder.QueryVariable:
    """Build a variable over the values of label `name` of `metric`.

    With `repeat`, several values can be selected and a row repeats once per value.
    Otherwise exactly one value is selected, so a stat panel shows one dimension and a
    queue sum never adds the `all` rollup to its own parts.
    """
    definition = f"label_values({metric}, {name})"
    # Grafana stores the selection of a multi-value variable as a list.
    selected: str | list[str] = [default] if repeat else default
    return (
        dashboard_builder.QueryVariable(name)
        .label(name)
        .datasource(DATASOURCE)
        .query(definition)
        .definition(definition)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(repeat)
        .include_all(repeat)
        .current(model.VariableOption(selected=True, text=selected, value=selected))
    )


def kpi_selector(kpi: Kpi, *matchers: str) -> str:
    """Return the selector of a KPI's values, on the calendar clock where the family has clocks."""
    clock = ('clock="calendar"',) if kpi.clock else ()
    return windowed(kpi.metric, *clock, *matchers)


def kpi_stat(kpi: Kpi, ids: Iterator[int]) -> stat.Panel:
    """Build the stat panel of one KPI: value, target, whether it meets it, and samples."""
    value = kpi_selector(kpi, 'stat="mean"') if kpi.kind == "duration" else kpi_selector(kpi)
    described = f"{kpi.title} in the selected window"
    if kpi.kind == "duration":
        described = f"Mean {kpi.title.lower()} in the selected window, calendar clock,"
    panel = (
        stat_panel(kpi.title, kpi.unit, ids, width=5, height=7)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .orientation(common.VizOrientation.HORIZONTAL)
        .with_target(query(value, "mean" if kpi.kind == "duration" else "value", "A", instant=True))
        .with_target(
            query(
                windowed("support_kpi_samples", f'kpi="{kpi.samples}"'),
                "samples",
                "B",
                instant=True,
            )
        )
        .override_by_query("B", [config("unit", "short"), config("decimals", 0)])
    )
    if kpi.target is None:
        return panel.description(
            f"{described} and the number of samples behind it. This KPI has no target."
        )

    target = target_expr(kpi.target)
    status = f"{value} {kpi.meets} bool on (channel, team) group_left () {target}"
    meets = model.ValueMappingResult(text="meets target", color="green", index=1)
    misses = model.ValueMappingResult(text="misses target", color="red", index=0)
    return (
        panel.description(
            f"{described} against its target from support_kpi_target, and the number of "
            "samples behind it."
        )
        .with_target(query(target, "target", "C", instant=True))
        .with_target(query(status, "status", "D", instant=True))
        .override_by_query("D", [config("mappings", [model.ValueMap({"0": misses, "1": meets})])])
    )


def target_expr(kpi_label: str) -> str:
    # `max by` drops the instance label, so a join never finds two targets for one dimension.
    return f'max by (channel, team) (support_kpi_target{{kpi="{kpi_label}", {WHERE}}})'


def kpi_time_series(kpi: Kpi, ids: Iterator[int]) -> timeseries.Panel:
    """Build the time series of one KPI, with its target and, for ratios, the Wilson band."""
    panel = time_series_panel(kpi.title, kpi.unit, ids, width=7, height=7)
    if kpi.kind == "duration":
        series = kpi_selector(kpi, 'stat=~"mean|p50|p90"')
        panel = panel.with_target(query(series, "{{stat}}", "A"))
    else:
        panel = panel.with_target(query(kpi_selector(kpi), "value", "A"))
    if kpi.target is not None:
        dashed = {"fill": "dash", "dash": [10, 10]}
        panel = panel.with_target(query(target_expr(kpi.target), "target", "B")).override_by_query(
            "B", [fixed_color("red"), config("custom.lineStyle", dashed)]
        )
    if kpi.kind != "ratio":
        return panel

    # Grafana fills from the upper bound down to the series named in fillBelowTo.
    band = [fixed_color("blue"), config("custom.lineWidth", 0)]
    return (
        panel.min(0)
        .max(1)
        .with_target(query(windowed(kpi.metric + "_lower"), "95 % lower", "C"))
        .with_target(query(windowed(kpi.metric + "_upper"), "95 % upper", "D"))
        .override_by_query("A", [fixed_color("blue")])
        .override_by_query("C", band)
        .override_by_query(
            "D",
            [*band, config("custom.fillOpacity", 20), config("custom.fillBelowTo", "95 % lower")],
        )
    )


def kpi_dashboard() -> dashboard_builder.Dashboard:
    """Build the KPI overview: one row per selected channel, each KPI as a stat and a graph."""
    ids = itertools.count(1)
    board = (
        base_dashboard(
            "streamproc-kpis",
            "streamproc / Support KPIs by channel",
            "Customer-service KPIs per channel against their targets, with the "
            "sample counts behind them. Ratio graphs show the 95 % Wilson interval.",
        )
        .time("now-24h", "now")
        .refresh("1m")
        .with_variable(label_variable("channel", "support_kpi_samples", "all", repeat=True))
        .with_variable(label_variable("team", "support_kpi_samples", "all"))
        .with_variable(label_variable("window", "support_kpi_samples", "24h"))
        .with_row(
            dashboard_builder.Row("Channel $channel, team $team, window $window")
            .id(next(ids))
            .repeat("channel")
        )
    )
    for kpi in KPIS:
        board = board.with_panel(kpi_stat(kpi, ids)).with_panel(kpi_time_series(kpi, ids))

    outcomes = windowed("support_service_level_contacts")
    description = "First-episode outcomes of contacts on live channels (phone and chat)."
    board = board.with_panel(
        stat_panel("Service level outcomes", "short", ids, width=5, height=7)
        .description(description)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .orientation(common.VizOrientation.HORIZONTAL)
        .with_target(query(outcomes, "{{outcome}}", "A", instant=True))
    )
    return board.with_panel(
        time_series_panel("Service level outcomes", "short", ids, width=7, height=7)
        .description(description)
        .with_target(query(outcomes, "{{outcome}}", "A"))
    )


class LiveSignal(NamedTuple):
    """A live gauge, its panel title and unit, and how its series combine across workers."""

    metric: str
    title: str
    unit: str
    combine: str


# Each worker reports the tickets of its own partitions, so counts add up across workers
# and the oldest ages take the maximum.
# fmt: off
QUEUE_SIGNALS = (
    LiveSignal("support_open_tickets", "Open tickets", "short", "sum"),
    LiveSignal("support_awaiting_first_response_tickets", "Waiting for first response", "short",
               "sum"),
    LiveSignal("support_awaiting_first_response_over_target_tickets",
               "Waiting longer than first-response target", "short", "sum"),
    LiveSignal("support_oldest_awaiting_first_response_seconds", "Oldest wait for first response",
               "s", "max"),
    LiveSignal("support_awaiting_resolution_over_target_tickets",
               "Open longer than resolution target", "short", "sum"),
    LiveSignal("support_oldest_awaiting_resolution_seconds", "Oldest open ticket", "s", "max"),
)
# fmt: on


def queue_dashboard() -> dashboard_builder.Dashboard:
    """Build the live queue: waiting tickets, oldest ages and over-target counts."""
    ids = itertools.count(1)
    board = (
        base_dashboard(
            "streamproc-queue",
            "streamproc / Live queue",
            "Tickets open and waiting now, from the workers' per-ticket state.",
        )
        .time("now-6h", "now")
        .refresh("30s")
        .with_variable(label_variable("channel", "support_open_tickets", "all"))
        .with_variable(label_variable("team", "support_open_tickets", "all"))
        .with_row(dashboard_builder.Row("Now: channel $channel, team $team").id(next(ids)))
    )
    for signal in QUEUE_SIGNALS:
        expr = f"{signal.combine} by (channel, team) ({signal.metric}{{{WHERE}}})"
        board = board.with_panel(
            stat_panel(signal.title, signal.unit, ids)
            .no_value("none")
            .with_target(query(expr, "{{channel}} / {{team}}", "A", instant=True))
        )

    # The `all` rollups are left out where the panel draws one line per channel or team.
    breakdowns = (
        ("channel", "team", 'channel!="all", team=~"$team"'),
        ("team", "channel", 'team!="all", channel=~"$channel"'),
    )
    for label, other, matchers in breakdowns:
        board = board.with_row(
            dashboard_builder.Row(f"By {label} ({other} ${other})").id(next(ids))
        )
        for signal in QUEUE_SIGNALS:
            expr = f"{signal.combine} by ({label}) ({signal.metric}{{{matchers}}})"
            board = board.with_panel(
                time_series_panel(signal.title, signal.unit, ids).with_target(
                    query(expr, f"{{{{{label}}}}}", "A")
                )
            )
    return board.with_row(dashboard_builder.Row("Every channel and team").id(next(ids))).with_panel(
        queue_table(ids)
    )


def queue_table(ids: Iterator[int]) -> table.Panel:
    """Build a table of every live signal per channel and team, rollups left out."""
    panel = (
        table.Panel()
        .id(next(ids))
        .title("Queue by channel and team")
        .datasource(DATASOURCE)
        .span(24)
        .height(10)
        .with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
    )
    renames: dict[str, str] = {}
    for ref_id, signal in zip("ABCDEF", QUEUE_SIGNALS, strict=True):
        matchers = 'channel!="all", team!="all"'
        expr = f"{signal.combine} by (channel, team) ({signal.metric}{{{matchers}}})"
        target = query(expr, "", ref_id, instant=True).format(PromQueryFormat.TABLE)
        # Grafana names the value column of each merged table query "Value #<refId>".
        renames[f"Value #{ref_id}"] = signal.title
        panel = panel.with_target(target).override_by_name(
            signal.title, [config("unit", signal.unit)]
        )
    organize = {"excludeByName": {"Time": True}, "renameByName": renames}
    return panel.with_transformation(
        model.DataTransformerConfig(id_val="organize", options=organize)
    )


def share(outcome: str) -> str:
    """Return the share of input messages with `outcome`: 0 while none has had it."""
    part = f'sum(rate(streamproc_events_total{{outcome="{outcome}"}}{RATE})) or vector(0)'
    return f"({part}) / sum(rate(streamproc_events_total{RATE}))"


def health_dashboard() -> dashboard_builder.Dashboard:
    """Build processor health: input outcomes, dead-letter and late rates, clocks, workers."""
    ids = itertools.count(1)
    up = 'up{job="streamproc"}'
    # `or vector(0)` draws a zero line while an outcome has not happened yet: the counter
    # child appears only at its first increment.
    invalid = f'sum(rate(streamproc_events_total{{outcome="invalid"}}{RATE})) or vector(0)'
    late = f'sum(rate(streamproc_events_total{{outcome="late"}}{RATE})) or vector(0)'
    board = (
        base_dashboard(
            "streamproc-health",
            "streamproc / Processor health",
            "Input outcomes, dead-letter and late rates, event-time lag and the "
            "state of each worker.",
        )
        .time("now-6h", "now")
        .refresh("30s")
        .with_row(dashboard_builder.Row("Now").id(next(ids)))
    )
    stats = (
        ("Workers up", "short", f"sum({up})", "up"),
        ("Assigned partitions", "short", "sum(streamproc_assigned_partitions)", "partitions"),
        ("Event-time lag", "s", "time() - max(streamproc_event_time_seconds)", "lag"),
        (
            "Since last processed message",
            "s",
            f"time() - max({LAST_PROCESSED} > 0)",
            "age",
        ),
        ("Dead-lettered share", "percentunit", share("invalid"), "invalid"),
        ("Late share", "percentunit", share("late"), "late"),
    )
    for title, unit, expr, legend in stats:
        board = board.with_panel(stat_panel(title, unit, ids).with_target(query(expr, legend, "A")))

    board = board.with_row(dashboard_builder.Row("Input").id(next(ids)))
    by_outcome = f"sum by (outcome) (rate(streamproc_events_total{RATE}))"
    by_topic = f"sum by (topic, outcome) (rate(streamproc_events_total{RATE}))"
    graphs = (
        ("Input messages by outcome", "cps", [(by_outcome, "{{outcome}}")]),
        ("Input messages by topic and outcome", "cps", [(by_topic, "{{topic}} {{outcome}}")]),
        (
            "Dead-lettered (invalid) and late messages",
            "cps",
            [(invalid, "invalid"), (late, "late")],
        ),
        (
            "Dead-lettered and late share of input",
            "percentunit",
            [(share("invalid"), "invalid"), (share("late"), "late")],
        ),
    )
    board = add_graphs(board, graphs, ids, width=12)

    board = board.with_row(dashboard_builder.Row("Workers").id(next(ids)))
    graphs = (
        (
            "Event-time lag (wall clock minus event-time clock)",
            "s",
            [("time() - streamproc_event_time_seconds", "{{instance}}")],
        ),
        (
            "Since last processed message",
            "s",
            [(f"time() - ({LAST_PROCESSED} > 0)", "{{instance}}")],
        ),
        ("Assigned partitions", "short", [("streamproc_assigned_partitions", "{{instance}}")]),
        ("Scrape target up", "short", [(up, "{{instance}}")]),
    )
    return add_graphs(board, graphs, ids, width=12)


def add_graphs(
    board: dashboard_builder.Dashboard,
    graphs: tuple[tuple[str, str, list[tuple[str, str]]], ...],
    ids: Iterator[int],
    *,
    width: int,
) -> dashboard_builder.Dashboard:
    """Add one time series panel per (title, unit, [(expr, legend), ...]) entry."""
    for title, unit, queries in graphs:
        panel = time_series_panel(title, unit, ids, width=width)
        for ref_id, (expr, legend) in zip("ABCDEFGH", queries, strict=False):
            panel = panel.with_target(query(expr, legend, ref_id))
        board = board.with_panel(panel)
    return board


DASHBOARDS = {
    "support-kpis.json": kpi_dashboard,
    "live-queue.json": queue_dashboard,
    "processor-health.json": health_dashboard,
}


def render(name: str) -> str:
    """Return the JSON text of dashboard file `name`, keys sorted, with a final newline."""
    return JSONEncoder(sort_keys=True, indent=2).encode(DASHBOARDS[name]().build()) + "\n"


def write_dashboards(output_dir: Path) -> list[Path]:
    """Write every dashboard into `output_dir` and return the paths written."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in sorted(DASHBOARDS):
        path = output_dir / name
        path.write_text(render(name), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and write the dashboards."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=OUTPUT_DIR,
        help=f"directory for the JSON files (default: {OUTPUT_DIR})",
    )
    args = parser.parse_args(argv)
    for path in write_dashboards(args.output_dir):
        print(path)


if __name__ == "__main__":
    main()
