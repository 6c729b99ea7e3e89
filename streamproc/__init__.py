"""streamproc: live customer-service KPIs from Kafka events, for Prometheus."""

__version__ = "0.1.0"
