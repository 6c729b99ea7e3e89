"""Read the PromQL of generated dashboards and replace Grafana variables, for tests.

A test that runs every panel expression against a real Prometheus does this::

    import json
    from deploy.grafana.queries import panel_queries, substitute

    board = json.loads(Path("deploy/grafana/dashboards/support-kpis.json").read_text())
    variables = {"channel": ".*", "team": "all", "window": "1h"}
    for expr in panel_queries(board):
        promql = substitute(expr, variables)  # then GET /api/v1/query?query=<promql>

The dashboards use `$channel`, `$team` and `$window` only inside regex matchers, so a value
may be a regex (`.*`) or one label value (`chat`). Channel and team also take the rollup value
`all`, so `.*` selects the rollup series together with every single channel or team.
`$__rate_interval`, `$__interval` and `$__range` become `5m` unless the caller passes them.
Only the standard library is used, so any test environment can import this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

# Grafana's built-in interval variables, all five minutes long. At the 15 s scrape interval
# of deploy/prometheus/prometheus.yml, a rate over five minutes has 20 samples.
BUILTIN_DEFAULTS: dict[str, str] = {
    "__rate_interval": "5m",
    "__interval": "5m",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
    "__interval_ms": "300000",
}

# The three forms Grafana expands: $name, ${name} or ${name:format}, and [[name]] or
# [[name:format]].
VARIABLE = re.compile(
    r"\$(?P<plain>\w+)"
    r"|\$\{(?P<braced>\w+)(?::(?P<braced_format>[^}]+))?\}"
    r"|\[\[(?P<bracketed>\w+)(?::(?P<bracketed_format>[^\]]+))?\]\]"
)
# Characters that Grafana escapes in each value of a multi-value selection. The doubled
# backslash survives the PromQL string literal that the value lands in.
REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}]")


class PanelQuery(NamedTuple):
    """One panel query: the panel title, the query's refId and its PromQL expression."""

    panel: str
    ref_id: str
    expr: str


def panel_targets(dashboard: Mapping[str, Any]) -> list[PanelQuery]:
    """Return every Prometheus query of every panel, rows' nested panels included.

    Targets without an `expr` (none in the generated dashboards) are left out.
    Template variable queries such as `label_values(...)` are not panel queries.
    """
    queries = []
    for panel in _panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if expr:
                queries.append(PanelQuery(panel.get("title", ""), target.get("refId", ""), expr))
    return queries


def panel_queries(dashboard: Mapping[str, Any]) -> list[str]:
    """Return the PromQL expression of every panel query of a parsed dashboard JSON."""
    return [query.expr for query in panel_targets(dashboard)]


def _panels(panels: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        # A collapsed row keeps its panels inside it.
        yield from _panels(panel.get("panels", []))


def substitute(expr: str, variables: Mapping[str, str | Sequence[str]]) -> str:
    """Replace the Grafana variables in `expr` with values from `variables`.

    A string value is inserted as written, so it can be a regex such as `.*`. A list of
    label values becomes `(a|b)` with regex metacharacters escaped, as Grafana formats a
    multi-value selection for Prometheus. Built-in interval variables default to
    BUILTIN_DEFAULTS. Raises ValueError for a variable missing from `variables` or a
    format other than `regex` (`${name:regex}`). `$1`-style capture group references of
    label_replace are left unchanged.
    """
    values: dict[str, str | Sequence[str]] = {**BUILTIN_DEFAULTS, **variables}

    def replace(match: re.Match[str]) -> str:
        name = match["plain"] or match["braced"] or match["bracketed"]
        format_name = match["braced_format"] or match["bracketed_format"]
        if name.isdigit():
            return match[0]
        if name not in values:
            raise ValueError(
                f"expression uses variable {name!r}, which is missing from variables "
                f"{sorted(variables)}; pass a value for it (for example {name!r}: '.*'). "
                f"Expression: {expr}"
            )
        if format_name not in (None, "regex"):
            raise ValueError(
                f"variable {name!r} uses format {format_name!r}, which substitute() does not "
                f"support; write ${name} or ${{{name}:regex}} in the dashboard. Expression: {expr}"
            )
        return _format(values[name])

    return VARIABLE.sub(replace, expr)


def _format(value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return value
    escaped = [REGEX_SPECIAL.sub(lambda m: "\\\\" + m[0], item) for item in value]
    return "(" + "|".join(escaped) + ")"
