"""Fixtures for the live tests: the test Redis (skipped locally when absent) and a key prefix."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.conftest import IN_CI, service_url


@pytest.fixture
def redis_url() -> str:
    """``LASTMILE_TEST_REDIS_URL``, checked reachable: skip locally, fail under ``CI=true``."""
    url = service_url("LASTMILE_TEST_REDIS_URL")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"Redis unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture
def prefix() -> str:
    """A key and channel prefix of this test alone (parallel workers share the Redis)."""
    return f"lmtest-{uuid.uuid4().hex[:12]}"
