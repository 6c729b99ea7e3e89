"""`streamproc replay`: produce a JSON Lines file of events into the input topics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streamproc.jsonl import open_input
from streamproc.settings import Settings
from streamproc.stream.producer import Record, make_producer, paced, parse_record


@dataclass(slots=True)
class ReplayReport:
    sent: int = 0
    errors: list[str] = field(default_factory=list)


def replay_file(path: Path, settings: Settings, *, speed: float | None, progress: bool) -> ReplayReport:
    """Send every line of `path` to the topic of its `type`, keyed by ticket, in file order.

    Lines are sent as they are, so the worker validates them and dead-letters invalid
    ones. A line whose topic cannot be determined (not JSON, no known `type`) is not sent and
    is listed in the report.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"invalid --speed {speed}: use a factor above 0, such as 60")

    report = ReplayReport()
    records: list[Record] = []
    with open_input(path) as source:
        for number, text in enumerate(source, start=1):
            text = text.strip()
            if not text:
                continue
            try:
                records.append(parse_record(number, text, settings))
            except ValueError as exc:
                report.errors.append(str(exc))

    producer = make_producer(settings)
    try:
        for record in _with_progress(paced(records, speed=speed), len(records), progress):
            producer.send(record.topic, key=record.key, value=record.text.encode("utf-8"))
            report.sent += 1
        producer.flush()
    finally:
        producer.close()
    return report


def _with_progress(records, total: int, enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        yield from records
        return
    from rich.progress import Progress

    with Progress(transient=False) as bar:
        task = bar.add_task("replaying", total=total)
        for record in records:
            yield record
            bar.advance(task)
