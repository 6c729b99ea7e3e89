"""Settings of the worker and the commands: one frozen object, read from the environment.

Every field can be set with an environment variable named `STREAMPROC_` plus the field
name in upper case (for example `STREAMPROC_WINDOWS='["1h","24h"]'`). The bootstrap
servers also accept the common `KAFKA_BOOTSTRAP_SERVERS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from streamproc.events import EventType
from streamproc.kpi.durations import parse_duration_us
from streamproc.kpi.pipeline import Lateness
from streamproc.kpi.samples import KpiOptions
from streamproc.kpi.targets import Targets, load_targets
from streamproc.kpi.tumbling import TumblingBuckets
from streamproc.kpi.windows import Window, build_windows


class Settings(BaseSettings):
    """Configuration shared by `streamproc worker`, `replay`, `kpis` and the demo."""

    model_config = SettingsConfigDict(
        env_prefix="STREAMPROC_", frozen=True, extra="ignore", populate_by_name=True
    )

    # Kafka connection.
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "STREAMPROC_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"
        ),
        description="Comma-separated host:port list of Kafka brokers.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="Kafka security protocol."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="SASL mechanism when the protocol is SASL_*."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="PEM file of the CA that signed the brokers' certificates."
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="PEM client certificate, for brokers that require one."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="PEM private key of the client certificate."
    )

    kafka_session_timeout_seconds: float = Field(
        default=30.0,
        ge=6,
        le=300,
        description="Seconds without heartbeats before the group gives a worker's partitions "
        "to others; shorter moves work faster after a crash, longer tolerates stalls.",
    )

    consumer_instance_id: str | None = Field(
        default=None,
        description="Static group membership id of this worker (Kafka group.instance.id). A "
        "worker restarted with the same id takes its partitions back without a rebalance; "
        "give every worker its own, or leave it unset.",
    )

    # Topics.
    app_id: str = Field(
        default="streamproc",
        description="Consumer group id and prefix of the worker's internal topics.",
    )
    topic_ticket_opened: str = Field(default="ticket-opened", description="Topic of ticket_opened events.")
    topic_first_reply: str = Field(default="first-reply", description="Topic of first_reply events.")
    topic_resolved: str = Field(default="resolved", description="Topic of resolved events.")
    topic_survey: str = Field(default="survey", description="Topic of survey events.")
    topic_dead_letter: str = Field(
        default="streamproc-dead-letter",
        description="Topic that receives rejected messages with the reason in headers.",
    )
    topic_snapshots: str = Field(
        default="streamproc-kpi-snapshots",
        description="Compacted topic of KPI snapshots, keyed by KPI, channel, team and period.",
    )
    topic_breaches: str = Field(
        default="streamproc-breaches",
        description="Topic that receives a record when a KPI enters breach and when it recovers.",
    )
    topic_partitions: int = Field(
        default=8,
        ge=1,
        description="Partitions of the input and internal topics; input topics must share it.",
    )
    topic_replication_factor: int = Field(
        default=1, ge=1, description="Replication factor of the topics the worker creates."
    )

    # KPI computation.
    windows: Annotated[list[str], NoDecode] = Field(
        default=["1h", "24h", "7d"], description="Rolling event-time window lengths."
    )
    buckets_per_window: int = Field(
        default=60, ge=1, description="Buckets each window is kept in; its step is length / count."
    )
    targets_file: Path | None = Field(
        default=None, description="YAML file of KPI targets; built-in defaults when unset."
    )
    reopen_period: str = Field(
        default="7d",
        description="A reopen this soon after a resolution voids its first contact resolution.",
    )
    short_abandon: str = Field(
        default="5s", description="Abandons at or under this time after the open are short abandons."
    )
    service_level_channels: Annotated[list[str], NoDecode] = Field(
        default=["phone", "chat"], description="Channels that report service-level outcomes."
    )
    first_response_from: Literal["episode", "open"] = Field(
        default="episode",
        description="Start of first response time: the episode the reply falls in "
        "(a reopen restarts it when nobody had replied), or always the first open.",
    )
    no_touch_fcr: Literal["not_fcr", "excluded"] = Field(
        default="not_fcr",
        description="A resolution without a human reply counts as not first contact "
        "resolution, or stays out of first contact resolution.",
    )
    business_hours_file: Path | None = Field(
        default=None,
        description="YAML file of business-hours schedules; without it only calendar time is reported.",
    )
    grace_period: str = Field(
        default="10m",
        description="Events that arrive later than this after their tumbling bucket ends count as late.",
    )
    tumbling_bucket: str = Field(
        default="1h", description="Length of the fixed intervals that lateness is measured against."
    )
    time_zone: str = Field(
        default="UTC", description="IANA time zone of tumbling buckets of a day or longer."
    )

    max_future_skew: str = Field(
        default="1d",
        description="Events stamped further than this ahead of the worker's wall clock are "
        "rejected to the dead-letter topic.",
    )
    ticket_retention: str = Field(
        default="30d",
        description="How long, in event time after its latest event, a closed ticket's state "
        "(and so its duplicate detection) is kept; open tickets are always kept.",
    )
    live_clock: Literal["event", "wall"] = Field(
        default="event",
        description="What the ages of waiting tickets are measured against: the event-time "
        "clock (replays give the same ages) or wall-clock time (for a worker that runs live, "
        "so ages grow while no events arrive).",
    )

    # Exporter and worker process.
    metrics_host: str = Field(default="127.0.0.1", description="Address the /metrics server binds.")
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="Port of the /metrics server.")
    clock_broadcast_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often each worker sends its event-time clock to every aggregate partition.",
    )
    snapshot_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Minimum seconds between two snapshots of one key; changes in between "
        "are sent together at the next one.",
    )
    breach_min_samples: int = Field(
        default=20,
        ge=1,
        description="Samples a window needs before its KPI can enter or leave breach.",
    )
    prune_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often expired window buckets are deleted."
    )
    data_dir: Path = Field(
        default=Path(".streamproc"), description="Directory for the worker's local files."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level of the worker."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "reopen_period", "short_abandon", "grace_period", "tumbling_bucket", "ticket_retention",
        "max_future_skew",
    )
    @classmethod
    def _check_duration(cls, value: str) -> str:
        parse_duration_us(value)
        return value

    @field_validator("windows", "service_level_channels", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        # Environment variables may give a JSON list or plain comma-separated names.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _check_topics_distinct(self) -> Settings:
        names = [
            self.topic_ticket_opened, self.topic_first_reply, self.topic_resolved,
            self.topic_survey, self.topic_dead_letter, self.topic_snapshots, self.topic_breaches,
        ]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"topic names must differ, but {', '.join(repeated)} is used for more than "
                "one purpose; set distinct STREAMPROC_TOPIC_* names"
            )
        return self

    @field_validator("windows")
    @classmethod
    def _check_windows(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("windows must list at least one length, such as 1h")
        return value

    def build_windows(self) -> tuple[Window, ...]:
        """Return the configured rolling windows."""
        return build_windows(self.windows, buckets_per_window=self.buckets_per_window)

    def kpi_options(self) -> KpiOptions:
        """Return the definitional KPI settings, with targets and schedules loaded."""
        business_hours = None
        if self.business_hours_file is not None:
            from streamproc.kpi.business_hours_config import load_business_hours

            business_hours = load_business_hours(self.business_hours_file)
        return KpiOptions(
            targets=self.load_targets(),
            reopen_period_us=parse_duration_us(self.reopen_period),
            short_abandon_us=parse_duration_us(self.short_abandon),
            service_level_channels=frozenset(self.service_level_channels),
            business_hours=business_hours,
            first_response_from=self.first_response_from,
            no_touch_fcr=self.no_touch_fcr,
        )

    def lateness(self) -> Lateness:
        """Return the rule that decides which events are late."""
        return Lateness(
            grace_period_us=parse_duration_us(self.grace_period),
            tumbling=TumblingBuckets(self.tumbling_bucket, time_zone=self.time_zone),
        )

    def load_targets(self) -> Targets:
        """Return the KPI targets from `targets_file`, or the defaults."""
        return load_targets(self.targets_file)

    def input_topics(self) -> dict[str, EventType]:
        """Return each input topic name with the event type it carries."""
        return {
            self.topic_ticket_opened: EventType.TICKET_OPENED,
            self.topic_first_reply: EventType.FIRST_REPLY,
            self.topic_resolved: EventType.RESOLVED,
            self.topic_survey: EventType.SURVEY,
        }

    def aggregate_topic(self) -> str:
        """Return the internal topic that carries contributions to the aggregates."""
        return f"{self.app_id}-kpi-contributions"

    def kafka_client_options(self) -> dict[str, object]:
        """Return security options in kafka-python's keyword form."""
        options: dict[str, object] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            if self.kafka_sasl_password is not None:
                options["sasl_plain_password"] = self.kafka_sasl_password.get_secret_value()
        if self.kafka_ssl_cafile:
            options["ssl_cafile"] = str(self.kafka_ssl_cafile)
        if self.kafka_ssl_certfile:
            options["ssl_certfile"] = str(self.kafka_ssl_certfile)
        if self.kafka_ssl_keyfile:
            options["ssl_keyfile"] = str(self.kafka_ssl_keyfile)
        return options
