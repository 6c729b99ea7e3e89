"""Checks of the Prometheus rules and the Alertmanager configuration under deploy/.

The promtool and amtool tests run the real tools and skip when they are not installed
(scripts/install-monitoring.sh installs them). The static tests read the YAML files only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
RULE_FILES = (RULES_DIR / "recording.yml", RULES_DIR / "alerts.yml")
RULE_TEST_FILES = tuple(sorted((RULES_DIR / "tests").glob("*.yml")))
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"

# Only stops a hung process: a normal run takes seconds.
TOOL_TIMEOUT_SECONDS = 120
SEVERITIES = {"page", "ticket"}
COMPONENTS = {"kpi", "processor"}
# Alerts on completed KPI samples, which must be gated on the minimum sample count.
KPI_GROUP = "support-kpi-alerts"
MIN_SAMPLES_GATE = "channel_team_window:support_kpi_samples:gated_max"
MIN_SAMPLES_RULE = "streamproc:alert_min_samples:constant"
DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def require_tool(name: str) -> str:
    """Return the path of `name`, or skip the test when it is not on PATH."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} not found on PATH; run scripts/install-monitoring.sh or install the "
            "Debian packages prometheus and prometheus-alertmanager"
        )
    return path


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (group name, rule) for every alerting rule in alerts.yml."""
    for group in load_yaml(RULES_DIR / "alerts.yml")["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                yield group["name"], rule


def alert_names() -> list[str]:
    return [rule["alert"] for _, rule in alert_rules()]


def recording_names() -> list[str]:
    return [
        rule["record"]
        for path in RULE_FILES
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
        if "record" in rule
    ]


def parse_duration(text: str) -> float:
    """Return a Prometheus duration such as `1h10m` in seconds."""
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"invalid Prometheus duration {text!r}, expected a form like 1h30m")
    return sum(int(number) * DURATION_UNITS[unit] for number, unit in parts)


def alert_cases() -> dict[str, list[list[tuple[float, bool]]]]:
    """Map each tested alert to its test cases: per test, (eval time, fires) in time order."""
    cases: dict[str, list[list[tuple[float, bool]]]] = {}
    for path in RULE_TEST_FILES:
        for test in load_yaml(path)["tests"]:
            per_alert: dict[str, list[tuple[float, bool]]] = {}
            for case in test.get("alert_rule_test", []):
                fires = bool(case.get("exp_alerts"))
                per_alert.setdefault(case["alertname"], []).append(
                    (parse_duration(case["eval_time"]), fires)
                )
            for name, evaluations in per_alert.items():
                cases.setdefault(name, []).append(sorted(evaluations))
    return cases


def test_promtool_check_rules() -> None:
    """promtool accepts the recording and alerting rule files."""
    promtool = require_tool("promtool")

    result = run_tool(promtool, "check", "rules", *map(str, RULE_FILES))

    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules() -> None:
    """Every promtool unit test of the rules passes."""
    promtool = require_tool("promtool")
    assert RULE_TEST_FILES, f"no rule tests in {RULES_DIR / 'tests'}"

    result = run_tool(promtool, "test", "rules", *map(str, RULE_TEST_FILES))

    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_config() -> None:
    """promtool accepts prometheus.yml and the rule files it loads."""
    promtool = require_tool("promtool")

    result = run_tool(promtool, "check", "config", str(PROMETHEUS_CONFIG))

    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_check_config() -> None:
    """amtool accepts the Alertmanager configuration."""
    amtool = require_tool("amtool")

    result = run_tool(amtool, "check-config", str(ALERTMANAGER_CONFIG))

    assert result.returncode == 0, result.stdout + result.stderr


def test_config_loads_rules_and_alertmanager() -> None:
    """prometheus.yml loads rules/*.yml and sends alerts to the compose Alertmanager."""
    config = load_yaml(PROMETHEUS_CONFIG)
    targets = [
        target
        for manager in config["alerting"]["alertmanagers"]
        for group in manager["static_configs"]
        for target in group["targets"]
    ]

    assert config["rule_files"] == ["rules/*.yml"]
    assert targets == ["alertmanager:9093"]


@pytest.mark.parametrize("name", alert_names())
def test_alert_fields(name: str) -> None:
    """Each alert has a `for` duration, severity, component, summary, description and runbook."""
    rule = next(rule for _, rule in alert_rules() if rule["alert"] == name)
    labels = rule.get("labels", {})
    annotations = rule.get("annotations", {})

    assert parse_duration(rule.get("for", "")) > 0, f"{name} has no for duration"
    assert labels.get("severity") in SEVERITIES, f"{name}: severity {labels.get('severity')!r}"
    assert labels.get("component") in COMPONENTS, f"{name}: component {labels.get('component')!r}"
    for key in ("summary", "description", "runbook"):
        assert str(annotations.get(key, "")).strip(), f"{name} has no {key} annotation"


def test_alert_names_unique() -> None:
    """No two alerting rules share a name, so each test case names exactly one rule."""
    names = alert_names()

    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", alert_names())
def test_alert_fires_in_a_test(name: str) -> None:
    """Some promtool test case expects the alert to fire."""
    tests = alert_cases().get(name, [])

    assert any(fires for evaluations in tests for _, fires in evaluations), name


@pytest.mark.parametrize("name", alert_names())
def test_alert_resolves_in_a_test(name: str) -> None:
    """Some promtool test expects the alert to fire and, at a later time, to be gone."""
    tests = alert_cases().get(name, [])

    def resolves(evaluations: list[tuple[float, bool]]) -> bool:
        fired_at = [time for time, fires in evaluations if fires]
        return bool(fired_at) and any(
            time > fired_at[0] and not fires for time, fires in evaluations
        )

    assert any(resolves(evaluations) for evaluations in tests), name


@pytest.mark.parametrize("name", alert_names())
def test_alert_quiet_in_a_test(name: str) -> None:
    """Some promtool test expects the alert never to fire (small sample, short burst, guard)."""
    tests = alert_cases().get(name, [])

    assert any(not any(fires for _, fires in evaluations) for evaluations in tests), name


@pytest.mark.parametrize(
    "name", [rule["alert"] for group, rule in alert_rules() if group == KPI_GROUP]
)
def test_kpi_alert_gated(name: str) -> None:
    """Each KPI alert joins the minimum-sample gate and never reads the channel `all` rollup."""
    rule = next(rule for _, rule in alert_rules() if rule["alert"] == name)

    assert MIN_SAMPLES_GATE in rule["expr"]
    assert 'channel!="all"' in rule["expr"]


def test_min_samples_defined_once() -> None:
    """The minimum sample count is one recording rule, the single place to change it."""
    names = recording_names()

    assert names.count(MIN_SAMPLES_RULE) == 1


@pytest.mark.parametrize("name", recording_names())
def test_recording_rule_name(name: str) -> None:
    """Recording rules are named level:metric:operations."""
    assert re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", name), name
