"""End to end with the real Prometheus and Alertmanager: breaches page, small samples don't.

The test runs the project's own rule and Alertmanager files, rewritten only for speed:
every `for:` becomes 5 s, rule groups evaluate every second, and Alertmanager groups
after a second. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.test_snapshots import read_topic
from tests.integration.test_worker import replay, settled, write_events
from tests.integration.worker import KafkaEnv, Worker, free_port, wait_until

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
DEFAULT_WEBHOOK = "http://127.0.0.1:5001/alerts"


class Receiver:
    """A webhook receiver that keeps every alert Alertmanager posts."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.alerts.extend(json.loads(body)["alerts"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def seen(self, alertname: str, status: str, **labels: str) -> bool:
        return any(
            alert["labels"].get("alertname") == alertname
            and alert["status"] == status
            and labels.items() <= alert["labels"].items()
            for alert in self.alerts
        )


def fast_rules(target: Path) -> list[str]:
    """Copy the rule files with short `for:` durations and 1 s evaluation."""
    target.mkdir()
    files = []
    for path in sorted(RULES.glob("*.yml")):
        document = yaml.safe_load(path.read_text())
        for group in document["groups"]:
            group["interval"] = "1s"
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "5s"
        (target / path.name).write_text(yaml.safe_dump(document))
        files.append(str(target / path.name))
    return files


def fast_alertmanager(target: Path, webhook: str) -> Path:
    document = yaml.safe_load(ALERTMANAGER_CONFIG.read_text().replace(DEFAULT_WEBHOOK, webhook))

    def speed_up(route: dict[str, Any]) -> None:
        for key, value in (("group_wait", "1s"), ("group_interval", "1s"), ("repeat_interval", "1m")):
            if key in route or route is document["route"]:
                route[key] = value
        for child in route.get("routes", []):
            speed_up(child)

    speed_up(document["route"])
    target.write_text(yaml.safe_dump(document))
    return target


@pytest.fixture
def monitoring(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Prometheus and Alertmanager on loopback, with the project's rules and routes."""
    for binary in ("prometheus", "prometheus-alertmanager"):
        if shutil.which(binary) is None:
            pytest.skip(f"{binary} is not installed; scripts/install-monitoring.sh installs it")

    receiver = Receiver()
    metrics_port, prometheus_port, alertmanager_port = free_port(), free_port(), free_port()
    rule_files = fast_rules(tmp_path / "rules")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": rule_files,
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
        "scrape_configs": [
            {"job_name": "streamproc", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    am_config = fast_alertmanager(tmp_path / "alertmanager.yml", receiver.url)

    logs = []
    processes = []
    try:
        for command in (
            ["prometheus-alertmanager", f"--config.file={am_config}",
             f"--storage.path={tmp_path / 'am-data'}",
             f"--web.listen-address=127.0.0.1:{alertmanager_port}", "--cluster.listen-address="],
            ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'prom-data'}",
             f"--web.listen-address=127.0.0.1:{prometheus_port}"],
        ):
            log = open(tmp_path / f"{command[0]}.log", "wb")
            logs.append(log)
            processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        yield {
            "receiver": receiver,
            "metrics_port": metrics_port,
            "prometheus": f"http://127.0.0.1:{prometheus_port}",
        }
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        for log in logs:
            log.close()
        receiver.server.shutdown()


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def firing(prometheus: str, alertname: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{prometheus}/api/v1/alerts", timeout=10) as response:
        alerts = json.loads(response.read())["data"]["alerts"]
    return [a["labels"] for a in alerts if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


def ticket(ticket_id: str, channel: str, team: str, opened: str, replied: str | None) -> list[dict]:
    events = [{"type": "ticket_opened", "event_id": f"{ticket_id}-o", "ticket_id": ticket_id,
               "occurred_at": f"2024-05-06T{opened}Z", "channel": channel, "team": team}]
    if replied is not None:
        events.append({"type": "first_reply", "event_id": f"{ticket_id}-r", "ticket_id": ticket_id,
                       "occurred_at": f"2024-05-06T{replied}Z", "agent_id": "a1"})
    return events


def minute(offset_s: int) -> str:
    return f"10:{offset_s // 60:02d}:{offset_s % 60:02d}"


def traffic() -> list[dict]:
    """Slow chat replies on team support (25), on team small (3), and two unanswered phone calls."""
    events: list[dict] = []
    for index in range(25):
        events += ticket(f"C{index}", "chat", "support", minute(index * 10), minute(index * 10 + 60))
    for index in range(3):
        events += ticket(f"S{index}", "chat", "small", minute(index * 20), minute(index * 20 + 120))
    events += ticket("P1", "phone", "queue", "10:05:00", None)
    events += ticket("P2", "phone", "queue", "10:05:10", None)
    # An email ticket answered later moves the event-time clock past the phone target.
    events += ticket("E1", "email", "support", "10:06:00", "10:07:00")
    # A resolution, a survey, a late event, a duplicate and an invalid message, so the
    # dashboards' queries of those series have data.
    events.append({"type": "resolved", "event_id": "E1-x", "ticket_id": "E1",
                   "occurred_at": "2024-05-06T10:08:00Z", "talk_seconds": 200, "contacts": 1})
    events.append({"type": "survey", "event_id": "E1-s", "ticket_id": "E1",
                   "occurred_at": "2024-05-06T10:09:00Z", "survey": "csat", "score": 4})
    events.append({"type": "survey", "event_id": "E1-s", "ticket_id": "E1",
                   "occurred_at": "2024-05-06T10:09:00Z", "survey": "csat", "score": 4})
    events.append({"type": "survey", "event_id": "E1-c", "ticket_id": "E1",
                   "occurred_at": "2024-05-06T10:09:00Z", "survey": "ces", "score": 6})
    events.append({"type": "survey", "event_id": "E1-n", "ticket_id": "E1",
                   "occurred_at": "2024-05-06T10:09:00Z", "survey": "nps", "score": 10})
    events.append({"type": "survey", "event_id": "late", "ticket_id": "C0",
                   "occurred_at": "2024-05-06T08:00:00Z", "survey": "nps", "score": 9})
    events.append({"type": "survey", "event_id": "bad", "ticket_id": "C1",
                   "occurred_at": "2024-05-06T10:09:00", "survey": "nps", "score": 9})
    return events


def test_alerts_end_to_end(kafka_env: KafkaEnv, tmp_path: Path, monitoring: dict[str, Any]) -> None:
    """FRT breach and waiting tickets page via Alertmanager; small samples stay quiet."""
    receiver: Receiver = monitoring["receiver"]
    prometheus: str = monitoring["prometheus"]
    worker = Worker(kafka_env, tmp_path, port=monitoring["metrics_port"]).start()
    try:
        replay(kafka_env, write_events(tmp_path / "traffic.jsonl", traffic()))
        settled(worker, accepted=len(traffic()) - 3, invalid=1)

        wait_until(
            lambda: receiver.seen("SupportFirstResponseSlow", "firing", channel="chat"),
            timeout=120, what="the first-response alert at the webhook", worker=worker,
        )
        wait_until(
            lambda: receiver.seen("SupportFirstResponseOverdue", "firing", channel="phone"),
            timeout=120, what="the waiting-ticket alert at the webhook", worker=worker,
        )

        slow_teams = {labels["team"] for labels in firing(prometheus, "SupportFirstResponseSlow")}
        assert "support" in slow_teams
        assert "small" not in slow_teams  # 3 samples, under the minimum of 20

        empty = []
        sys.path.insert(0, str(ROOT / "deploy" / "grafana"))
        try:
            from queries import panel_queries, substitute  # type: ignore[import-not-found]
        finally:
            sys.path.pop(0)
        variables = {"channel": ".*", "team": ".*", "window": "1h", "datasource": "prometheus"}
        for path in sorted(DASHBOARDS.glob("*.json")):
            for expr in panel_queries(json.loads(path.read_text())):
                if not query(prometheus, substitute(expr, variables)):
                    empty.append(f"{path.name}: {expr}")
        assert empty == [], "\n".join(empty)

        replies = [
            {"type": "first_reply", "event_id": f"{t}-r", "ticket_id": t,
             "occurred_at": "2024-05-06T10:10:00Z", "agent_id": "a2"}
            for t in ("P1", "P2")
        ]
        replay(kafka_env, write_events(tmp_path / "replies.jsonl", replies))
        wait_until(
            lambda: receiver.seen("SupportFirstResponseOverdue", "resolved", channel="phone"),
            timeout=120, what="the waiting-ticket alert to resolve", worker=worker,
        )

        # 100 chats answered in 10 s bring the mean first response of team support under 30 s.
        fast = [
            e for index in range(100)
            for e in ticket(f"F{index}", "chat", "support", minute(420 + index), minute(430 + index))
        ]
        replay(kafka_env, write_events(tmp_path / "fast.jsonl", fast))
        key = json.dumps(["support_first_response_seconds", "chat", "support", "window", "1h"], separators=(",", ":"))
        topic = kafka_env.settings().topic_breaches
        states = wait_until(
            lambda: (lambda found: found if "recovered" in found else None)(
                [v["state"] for k, v in read_topic(kafka_env, topic) if k == key]
            ),
            timeout=120, what="breach and recovery records", worker=worker,
        )
    finally:
        worker.stop()

    assert states == ["breach", "recovered"]

    assert not any(
        alert["labels"].get("alertname") == "SupportFirstResponseSlow"
        and alert["labels"].get("team") == "small"
        for alert in receiver.alerts
    )
