"""The Kafka side: the Faust worker, the exporter and the producers."""
