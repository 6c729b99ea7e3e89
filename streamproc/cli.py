"""The `streamproc` command line: worker, replay, import, kpis, create-topics, schemas."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from kafka.errors import KafkaError
from pydantic import ValidationError

from streamproc.errors import StreamprocError
from streamproc.settings import Settings

logger = logging.getLogger("streamproc")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kafka-python logs every connection at INFO; its warnings and errors still show.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    try:
        settings = Settings()
        return int(args.handler(args, settings) or 0)
    except ValidationError as exc:
        print(f"streamproc: invalid settings:\n{_describe_settings_errors(exc)}", file=sys.stderr)
        return 2
    except KafkaError as exc:
        print(
            f"streamproc: Kafka request failed: {exc!r}; check that the brokers in "
            "KAFKA_BOOTSTRAP_SERVERS are running and reachable, and the security settings",
            file=sys.stderr,
        )
        return 2
    except (StreamprocError, ValueError, OSError) as exc:
        print(f"streamproc: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _describe_settings_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        variable = f"STREAMPROC_{field.upper()}" if field else "settings"
        value = error.get("input")
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        lines.append(f"  {variable}{shown}: {error['msg']}")
    return "\n".join(lines)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamproc",
        description="Live customer-service KPIs from Kafka events. Settings come from "
        "STREAMPROC_* environment variables (see README).",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    worker = commands.add_parser("worker", help="run a Faust worker and its /metrics server")
    worker.set_defaults(handler=_run_worker)

    kpis = commands.add_parser("kpis", help="compute the KPIs of a JSON Lines file offline")
    kpis.add_argument("file", help="JSON Lines file of events, or - for standard input")
    kpis.add_argument("--format", choices=("table", "json"), default="table",
                      help="table for people, json for one JSON object per value (default: table)")
    kpis.add_argument("--window", action="append", default=None, metavar="LENGTH",
                      help="rolling window length such as 1h (repeatable; default: the configured "
                      "windows); 'all' adds a window over the whole input")
    kpis.add_argument("--bucket", default=None, metavar="LENGTH",
                      help="report each fixed interval of this length, such as 1h or 1d, "
                      "instead of rolling windows")
    kpis.add_argument("--time-zone", default=None, metavar="ZONE",
                      help="IANA time zone that --bucket intervals follow (default: STREAMPROC_TIME_ZONE, UTC)")
    kpis.set_defaults(handler=_run_kpis)

    replay = commands.add_parser("replay", help="produce a JSON Lines file into the input topics")
    replay.add_argument("file", help="JSON Lines file of events, or - for standard input")
    replay.add_argument("--speed", type=float, default=None, metavar="FACTOR",
                        help="send at FACTOR times the pace of event time (default: as fast as possible)")
    replay.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    replay.set_defaults(handler=_run_replay)

    importer = commands.add_parser("import", help="turn a CSV export into JSON Lines events on stdout")
    importer.add_argument("file", help="CSV file")
    importer.add_argument("--mapping", required=True, help="YAML mapping file (see docs/import-mappings.md)")
    importer.set_defaults(handler=_run_import)

    topics = commands.add_parser("create-topics", help="create the input and dead-letter topics")
    topics.add_argument("--partitions", type=int, default=None,
                        help="partitions per topic (default: STREAMPROC_TOPIC_PARTITIONS)")
    topics.set_defaults(handler=_run_create_topics)

    schemas = commands.add_parser("schemas", help="write the JSON Schema of each event type")
    schemas.add_argument("directory", help="output directory")
    schemas.set_defaults(handler=_run_schemas)

    simulate = commands.add_parser("simulate", help="produce live simulated support traffic")
    simulate.add_argument("--rate", type=float, default=5.0, help="new tickets per second (default: 5)")
    simulate.add_argument("--duration", type=float, default=None,
                          help="stop after this many seconds (default: run until Ctrl-C)")
    simulate.add_argument("--seed", type=int, default=None,
                          help="random seed for repeatable arrival times and ticket plans "
                          "(event ids stay unique in every run)")
    simulate.add_argument("--invalid-ratio", type=float, default=0.0, metavar="SHARE",
                          help="share of events, 0 to 1, each followed by a malformed copy that "
                          "the worker sends to the dead-letter topic (default: 0)")
    simulate.set_defaults(handler=_run_simulate)

    watch = commands.add_parser("watch", help="show a worker's live KPIs from its /metrics")
    watch.add_argument("--url", default=None,
                       help="metrics URL (default: http://127.0.0.1:STREAMPROC_METRICS_PORT/metrics)")
    watch.add_argument("--window", default=None, metavar="LENGTH",
                       help="window to show, such as 1h (default: the first configured window)")
    watch.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                       help="seconds between scrapes (default: 2)")
    watch.add_argument("--once", action="store_true",
                       help="print one table and exit, with status 1 if the scrape fails")
    watch.set_defaults(handler=_run_watch)
    return parser


def _run_worker(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.stream.worker import run_worker

    run_worker(settings)
    return 0


def _run_kpis(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.jsonl import open_input
    from streamproc.kpi.windows import build_windows
    from streamproc.offline import compute_kpis, write_json, write_table

    requested = args.window or []
    whole_input = "all" in requested
    lengths = [w for w in requested if w != "all"] or settings.windows
    windows = build_windows(lengths, buckets_per_window=settings.buckets_per_window)

    tumbling = None
    if args.bucket is not None:
        from streamproc.kpi.tumbling import TumblingBuckets

        tumbling = TumblingBuckets(args.bucket, time_zone=args.time_zone or settings.time_zone)

    from streamproc.kpi.durations import parse_duration_us

    with open_input(args.file) as source:
        result = compute_kpis(
            source,
            max_future_us=parse_duration_us(settings.max_future_skew),
            options=settings.kpi_options(),
            windows=windows,
            whole_input=whole_input,
            lateness=settings.lateness(),
            tumbling=tumbling,
        )
    if args.format == "json":
        write_json(result.values, sys.stdout)
    else:
        write_table(result.values, sys.stdout)
    print(
        f"{result.events} events ({result.duplicates} duplicates, {result.late} late), "
        f"{result.invalid} invalid lines",
        file=sys.stderr,
    )
    return 1 if result.invalid else 0


def _run_replay(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.replay import replay_file

    report = replay_file(
        Path(args.file), settings, speed=args.speed, progress=not args.no_progress
    )
    print(f"sent {report.sent} events; {len(report.errors)} lines not sent", file=sys.stderr)
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if report.errors else 0


def _run_import(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.importer import import_csv, load_mapping

    mapping = load_mapping(Path(args.mapping))
    with open(args.file, encoding=mapping.encoding, newline="") as csv_file:
        report = import_csv(mapping, csv_file, sys.stdout)
    print(report.summary(), file=sys.stderr)
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if report.errors else 0


def _run_create_topics(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.stream.producer import create_topics

    created = create_topics(settings, partitions=args.partitions)
    print("created: " + (", ".join(created) if created else "none (all exist)"))
    return 0


def _run_schemas(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.events import event_json_schemas

    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in event_json_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(path)
    return 0


def _run_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.simulator import run_simulation

    run_simulation(
        settings,
        rate=args.rate,
        duration=args.duration,
        seed=args.seed,
        invalid_ratio=args.invalid_ratio,
    )
    return 0


def _run_watch(args: argparse.Namespace, settings: Settings) -> int:
    from streamproc.watch import run_watch

    url = args.url or f"http://127.0.0.1:{settings.metrics_port}/metrics"
    window = args.window or settings.windows[0]
    return run_watch(url, window=window, interval=args.interval, once=args.once)


if __name__ == "__main__":
    sys.exit(main())
