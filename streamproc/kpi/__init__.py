"""Pure KPI logic: samples, per-ticket state, windowed aggregates and KPI values.

Nothing in this package imports Faust, Kafka clients or prometheus-client.
"""
