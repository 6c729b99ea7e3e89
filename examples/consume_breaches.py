"""Print breach and recovery records from the streamproc breach topic.

Run with the project's environment, for example:

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python examples/consume_breaches.py

Each record is validated against the published model before it is printed, so a change
of format shows up as an error naming the field.
"""

from __future__ import annotations

import json
import os

from kafka import KafkaConsumer

from streamproc.kpi.records import BreachRecord


def main() -> None:
    consumer = KafkaConsumer(
        os.environ.get("STREAMPROC_TOPIC_BREACHES", "streamproc-breaches"),
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        group_id="breach-printer",
        auto_offset_reset="earliest",
    )
    for message in consumer:
        record = BreachRecord.model_validate(json.loads(message.value))
        where = record.window or record.bucket_start
        print(
            f"{record.state:9} {record.kpi} channel={record.channel} team={record.team} "
            f"window={where}: {record.value:.4g} against target {record.target} "
            f"({record.samples:.0f} samples)"
        )


if __name__ == "__main__":
    main()
