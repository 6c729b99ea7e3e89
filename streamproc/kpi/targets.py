"""KPI targets: built-in defaults and per-channel, per-team overrides.

Defaults follow common industry practice: first response within 30 s on live channels
(phone, chat) and within 1 h on asynchronous ones, resolution within 24 h, average
handling time under 6 min, first contact resolution and CSAT top-box of at least 70 %,
CES mean of at least 5 (of 7) and NPS of at least 50.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from streamproc.errors import ConfigurationError


class Direction(StrEnum):
    """Whether a KPI value meets its target by staying at most or at least at it."""

    AT_MOST = "at_most"
    AT_LEAST = "at_least"


# KPI name (the `kpi` label of support_kpi_target) -> direction.
TARGET_KPIS: dict[str, Direction] = {
    "first_response_seconds": Direction.AT_MOST,
    "resolution_seconds": Direction.AT_MOST,
    "handle_seconds": Direction.AT_MOST,
    "first_contact_resolution_ratio": Direction.AT_LEAST,
    "csat_top_box_ratio": Direction.AT_LEAST,
    "ces_mean": Direction.AT_LEAST,
    "nps": Direction.AT_LEAST,
}

DEFAULT_TARGETS: dict[str, float] = {
    "first_response_seconds": 3_600.0,
    "resolution_seconds": 86_400.0,
    "handle_seconds": 360.0,
    "first_contact_resolution_ratio": 0.70,
    "csat_top_box_ratio": 0.70,
    "ces_mean": 5.0,
    "nps": 50.0,
}

# Live channels answer within seconds; the rest keep the 1 h default above.
DEFAULT_CHANNEL_TARGETS: dict[str, dict[str, float]] = {
    "phone": {"first_response_seconds": 30.0},
    "chat": {"first_response_seconds": 30.0},
}


@dataclass(frozen=True, kw_only=True)
class Targets:
    """Target values, looked up most specific first: channel and team, team, channel, default."""

    defaults: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    channels: dict[str, dict[str, float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_CHANNEL_TARGETS.items()}
    )
    teams: dict[str, dict[str, float]] = field(default_factory=dict)
    channel_teams: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)

    def target(self, kpi: str, *, channel: str, team: str) -> float:
        """Return the target of `kpi` for one channel and team."""
        for table in (
            self.channel_teams.get((channel, team)),
            self.teams.get(team),
            self.channels.get(channel),
        ):
            if table is not None and kpi in table:
                return table[kpi]
        return self.defaults[kpi]

    def overridden_pairs(self) -> set[tuple[str, str]]:
        """Return the (channel, team) pairs named by an override, for exporting targets."""
        pairs = set(self.channel_teams)
        pairs.update((channel, "all") for channel in self.channels)
        pairs.update(("all", team) for team in self.teams)
        return pairs


def load_targets(path: Path | None) -> Targets:
    """Load targets from a YAML file, or return the defaults when `path` is None.

    The file has up to four sections, each optional::

        defaults: {handle_seconds: 300}
        channels: {email: {first_response_seconds: 7200}}
        teams: {vip: {first_response_seconds: 20}}
        overrides:
          - {channel: chat, team: vip, first_response_seconds: 15}
    """
    if path is None:
        return Targets()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read targets file {str(path)!r}: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigurationError(f"targets file {str(path)!r} must hold a mapping at the top level")

    unknown = set(document) - {"defaults", "channels", "teams", "overrides"}
    if unknown:
        raise ConfigurationError(
            f"targets file {str(path)!r} has unknown sections {sorted(unknown)}; "
            "use defaults, channels, teams and overrides"
        )

    base = Targets()
    defaults = dict(base.defaults)
    defaults.update(_kpi_table(document.get("defaults") or {}, where="defaults"))
    channels = {k: dict(v) for k, v in base.channels.items()}
    for channel, table in (document.get("channels") or {}).items():
        channels.setdefault(str(channel), {}).update(_kpi_table(table, where=f"channels.{channel}"))
    teams = {
        str(team): _kpi_table(table, where=f"teams.{team}")
        for team, table in (document.get("teams") or {}).items()
    }
    channel_teams: dict[tuple[str, str], dict[str, float]] = {}
    for index, entry in enumerate(document.get("overrides") or []):
        where = f"overrides[{index}]"
        if not isinstance(entry, dict) or "channel" not in entry or "team" not in entry:
            raise ConfigurationError(f"{where} in {str(path)!r} needs both channel and team")
        values = {k: v for k, v in entry.items() if k not in {"channel", "team"}}
        channel_teams[(str(entry["channel"]), str(entry["team"]))] = _kpi_table(values, where=where)
    return Targets(defaults=defaults, channels=channels, teams=teams, channel_teams=channel_teams)


def _kpi_table(table: Any, *, where: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ConfigurationError(f"targets {where} must be a mapping of KPI name to number")
    result: dict[str, float] = {}
    for kpi, value in table.items():
        if kpi not in TARGET_KPIS:
            raise ConfigurationError(
                f"targets {where}: unknown KPI {kpi!r}; use one of {', '.join(TARGET_KPIS)}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(f"targets {where}.{kpi}: {value!r} is not a number")
        result[kpi] = float(value)
    return result
