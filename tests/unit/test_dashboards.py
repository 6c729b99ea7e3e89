"""Tests of the Grafana dashboards: regeneration, PromQL, template variables, metric names."""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from deploy.grafana import dashboards
from deploy.grafana.queries import panel_queries, panel_targets, substitute
from streamproc.kpi.families import FAMILY_BY_NAME
from streamproc.kpi.live import LIVE_FAMILIES
from streamproc.kpi.samples import KpiOptions
from streamproc.kpi.targets import TARGET_KPIS
from streamproc.kpi.windows import build_windows
from streamproc.offline import compute_kpis
from streamproc.simulator import plan_ticket
from streamproc.stream.exporter import Exporter

COMMITTED_DIR = Path(dashboards.__file__).parent / "dashboards"
PROVISIONING_DIR = Path(dashboards.__file__).parent / "provisioning"
REGENERATE = "run `python deploy/grafana/dashboards.py` and commit the result"
BOARDS = sorted(dashboards.DASHBOARDS)
# Values an end-to-end test would pick: any channel, the team rollup, one window.
VARIABLES = {"channel": ".*", "team": "all", "window": "1h"}
LABEL_VARIABLES = {
    "support-kpis.json": {"channel", "team", "window"},
    "live-queue.json": {"channel", "team"},
    "processor-health.json": set(),
}
GRAFANA_VARIABLE = re.compile(r"\$\{?(\w+)")


def load(name: str) -> dict[str, Any]:
    return json.loads((COMMITTED_DIR / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(substitute(expr, VARIABLES)), pre_visit=visit)
    return found


def equal_matcher_values(label: str, metric: str) -> set[str]:
    """Return the values that panel queries require of `label` on `metric`, over all boards."""
    values = set()
    for name in BOARDS:
        for expr in panel_queries(load(name)):
            for selector in selectors(expr):
                if selector.name != metric:
                    continue
                for matcher in selector.matchers.matchers:
                    if matcher.name == label and matcher.op == promql_parser.MatchOp.Equal:
                        values.add(matcher.value)
    return values


def test_committed_files_match_generator(tmp_path: Path) -> None:
    """The committed JSON files are exactly what the generator writes now."""
    written = {path.name: path for path in dashboards.write_dashboards(tmp_path)}
    committed = {path.name for path in COMMITTED_DIR.glob("*.json")}

    assert committed == set(written), f"dashboard files differ from the generated set: {REGENERATE}"
    for name, path in written.items():
        expected = path.read_text(encoding="utf-8")
        actual = (COMMITTED_DIR / name).read_text(encoding="utf-8")
        assert actual == expected, f"deploy/grafana/dashboards/{name} is out of date: {REGENERATE}"


def test_generator_output_stable(tmp_path: Path) -> None:
    """Two runs write byte-identical files."""
    first = {path.name: path.read_bytes() for path in dashboards.write_dashboards(tmp_path / "1")}
    second = {path.name: path.read_bytes() for path in dashboards.write_dashboards(tmp_path / "2")}

    assert first == second


def test_uids_unique() -> None:
    """Every dashboard has its own fixed uid."""
    uids = [load(name).get("uid") for name in BOARDS]

    assert None not in uids
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("name", BOARDS)
def test_panel_ids_unique(name: str) -> None:
    """Panel ids, rows included, are unique within a dashboard."""
    ids = [panel.get("id") for panel in all_panels(load(name)["panels"])]

    assert None not in ids
    assert len(set(ids)) == len(ids), f"{name} repeats a panel id: {ids}"


@pytest.mark.parametrize("name", BOARDS)
def test_every_panel_has_query(name: str) -> None:
    """Every panel that is not a row has a target with a non-empty expr."""
    for panel in all_panels(load(name)["panels"]):
        if panel["type"] == "row":
            continue
        exprs = [target.get("expr", "") for target in panel.get("targets", [])]
        assert any(expr.strip() for expr in exprs), (
            f"{name}: panel {panel.get('title')!r} has no expr"
        )


def test_parser_rejects_unbalanced_expression() -> None:
    """The PromQL parser behind the next test rejects an unclosed parenthesis."""
    with pytest.raises(ValueError, match="unclosed"):
        promql_parser.parse("sum(rate(streamproc_events_total[5m])")


@pytest.mark.parametrize("name", BOARDS)
def test_every_expression_parses(name: str) -> None:
    """Every panel expression is valid PromQL once its variables are substituted."""
    for query in panel_targets(load(name)):
        promql = substitute(query.expr, VARIABLES)
        try:
            promql_parser.parse(promql)
        except ValueError as exc:
            pytest.fail(f"{name}: panel {query.panel!r}, query {query.ref_id}: {exc}: {promql}")


@pytest.mark.parametrize("name", BOARDS)
def test_variables_only_in_regex_matchers(name: str) -> None:
    """$channel, $team and $window appear only as `label=~"$label"`, so a regex substitutes."""
    for expr in panel_queries(load(name)):
        for variable in ("channel", "team", "window"):
            uses = expr.count(f"${variable}")
            matchers = expr.count(f'{variable}=~"${variable}"')
            assert uses == matchers, f"{name}: ${variable} outside a regex matcher: {expr}"


@pytest.mark.parametrize("name", BOARDS)
def test_ranges_use_rate_interval(name: str) -> None:
    """Every range selector is [$__rate_interval], which a test can replace with 5m."""
    for expr in panel_queries(load(name)):
        ranges = re.findall(r"\[([^\]]*)\]", expr)
        assert set(ranges) <= {"$__rate_interval"}, f"{name}: unexpected range in {expr}"


@pytest.mark.parametrize("name", BOARDS)
def test_datasource_variable_present(name: str) -> None:
    """A datasource variable of type prometheus exists and every panel and query uses it."""
    variables = {variable["name"]: variable for variable in load(name)["templating"]["list"]}
    expected_ref = {"type": "prometheus", "uid": "${datasource}"}

    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in all_panels(load(name)["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == expected_ref, f"{name}: panel {panel['title']!r}"
        for target in panel["targets"]:
            assert target["datasource"] == expected_ref, f"{name}: panel {panel['title']!r}"


@pytest.mark.parametrize("name", BOARDS)
def test_label_variables_present(name: str) -> None:
    """The channel, team and window variables are label_values queries of their label."""
    variables = {variable["name"]: variable for variable in load(name)["templating"]["list"]}

    for label in LABEL_VARIABLES[name]:
        assert label in variables, f"{name} lacks variable {label!r}"
        variable = variables[label]
        assert variable["type"] == "query"
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"])
        assert match is not None, f"{name}: {label} query is {variable['query']!r}"
        assert match[2] == label
        promql_parser.parse(match[1])


@pytest.mark.parametrize("name", BOARDS)
def test_used_variables_defined(name: str) -> None:
    """Every variable that a panel query uses is defined, apart from Grafana's built-ins."""
    board = load(name)
    defined = {variable["name"] for variable in board["templating"]["list"]}

    for expr in panel_queries(board):
        used = {match for match in GRAFANA_VARIABLE.findall(expr) if not match.startswith("__")}
        assert used <= defined, f"{name}: {sorted(used - defined)} undefined in {expr}"


def test_metrics_exported() -> None:
    """Every metric a panel reads is a family that the worker exports, or Prometheus's up."""
    exporter_families = set()
    for family in Exporter().registry.collect():
        # prometheus_client names a counter family without its _total suffix.
        exporter_families.add(family.name + "_total" if family.type == "counter" else family.name)
    exported = {*FAMILY_BY_NAME, *LIVE_FAMILIES, *exporter_families, "up"}

    for name in BOARDS:
        for expr in panel_queries(load(name)):
            for selector in selectors(expr):
                assert selector.name in exported, f"{name}: {selector.name} is not exported: {expr}"


def test_target_kpis_exist() -> None:
    """Every kpi label read from support_kpi_target is a KPI with a configured target."""
    used = equal_matcher_values("kpi", "support_kpi_target")

    assert used
    assert used <= set(TARGET_KPIS), f"unknown target kpis: {sorted(used - set(TARGET_KPIS))}"


def test_sample_kpis_exist() -> None:
    """Every kpi label read from support_kpi_samples appears in the pipeline's output."""
    rng = random.Random(1)
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    lines = []
    for minute in range(200):
        for planned in plan_ticket(rng):
            moment = opened + timedelta(minutes=minute, seconds=planned.offset_seconds)
            lines.append((moment, json.dumps(planned.stamp(moment))))
    source = io.StringIO("\n".join(line for _, line in sorted(lines)))
    result = compute_kpis(
        source,
        options=KpiOptions(),
        whole_input=False,
        windows=build_windows(["1h"], buckets_per_window=60),
    )
    emitted = {dict(v.labels)["kpi"] for v in result.values if v.metric == "support_kpi_samples"}

    used = equal_matcher_values("kpi", "support_kpi_samples")

    assert used
    assert used <= emitted, f"kpis without samples in the output: {sorted(used - emitted)}"


def test_substitute_forms() -> None:
    """$name, ${name} and [[name]] are replaced, and the rate interval defaults to 5m."""
    expr = 'x{a=~"$channel", b=~"${team}", c=~"[[window]]"}[$__rate_interval]'

    result = substitute(expr, {"channel": "chat", "team": ".*", "window": "1h"})

    assert result == 'x{a=~"chat", b=~".*", c=~"1h"}[5m]'


def test_substitute_multi_value() -> None:
    """A list becomes a regex alternation with metacharacters escaped for a PromQL string."""
    result = substitute('x{a=~"$channel"}', {"channel": ["web.chat", "email"]})

    assert result == 'x{a=~"(web\\\\.chat|email)"}'


def test_substitute_missing_variable() -> None:
    """A variable without a value raises ValueError naming it."""
    with pytest.raises(ValueError, match="'team'"):
        substitute('x{a=~"$team"}', {"channel": ".*"})


def test_substitute_keeps_capture_groups() -> None:
    """label_replace's $1 is not a Grafana variable and stays."""
    expr = 'label_replace(x, "a", "$1", "b", "(.*)")'

    assert substitute(expr, {}) == expr


def test_panel_queries_reads_collapsed_rows() -> None:
    """Queries of panels nested in a collapsed row are returned."""
    board = {"panels": [{"type": "row", "panels": [{"title": "p", "targets": [{"expr": "up"}]}]}]}

    assert panel_queries(board) == ["up"]


def test_datasource_provisioning() -> None:
    """The provisioned data source is the compose stack's Prometheus."""
    config = yaml.safe_load((PROVISIONING_DIR / "datasources" / "prometheus.yml").read_text())
    (source,) = config["datasources"]

    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"


def test_dashboard_provisioning() -> None:
    """The dashboard provider reads JSON files from a folder of the Grafana container."""
    config = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "streamproc.yml").read_text())
    (provider,) = config["providers"]

    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")
