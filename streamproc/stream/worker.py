"""Start the Faust worker and its /metrics server from a settings object."""

from __future__ import annotations

import logging

from streamproc.settings import Settings

logger = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    """Run one worker until it receives SIGINT or SIGTERM."""
    # Faust is imported here, not at module level, because importing it reads the
    # command line and sets environment variables.
    import faust

    from streamproc.stream.app import create_app
    from streamproc.stream.exporter import Exporter
    from streamproc.stream.producer import prepare_worker_topics

    prepare_worker_topics(settings)
    exporter = Exporter()
    app = create_app(settings, exporter)
    exporter.start(host=settings.metrics_host, port=settings.metrics_port)
    logger.info(
        "starting worker %s on %s (topics: %s)",
        settings.app_id,
        settings.kafka_bootstrap_servers,
        ", ".join(settings.input_topics()),
    )
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    try:
        worker.execute_from_commandline()
    finally:
        exporter.stop()
