"""Shared fixtures: the real Kafka broker and isolated topic names per test."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.integration.worker import KafkaEnv


@pytest.fixture(scope="session")
def bootstrap_servers() -> str:
    """Bootstrap servers of the real broker that scripts/test.sh started or found."""
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS is not set; run the suite with scripts/test.sh")
    return servers


@pytest.fixture
def kafka_env(bootstrap_servers: str) -> KafkaEnv:
    """Topic names, consumer group and settings that no other test shares, topics created."""
    env = KafkaEnv(bootstrap_servers=bootstrap_servers, prefix=f"t{uuid.uuid4().hex[:10]}")
    env.create_topics()
    return env
