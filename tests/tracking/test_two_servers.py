"""Two server processes share live events through Redis: a fix accepted by one reaches a
dispatcher streaming from the other."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis

from lastmile.db.engine import Database
from lastmile.db.migrate import upgrade
from tests.conftest import IN_CI, service_url
from tests.factories import make_tenant, vehicle_payload

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def redis_url() -> str:
    url = service_url("LASTMILE_TEST_REDIS_URL")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"Redis unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(env: dict[str, str], tmp: Path, name: str) -> Iterator[str]:
    """A real `uvicorn` process serving the app; yields its base URL."""
    port = free_port()
    log = (tmp / f"{name}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "lastmile.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=os.environ | env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / f"{name}.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_fix_on_one_server_reaches_stream_on_the_other(tmp_path: Path, redis_url: str) -> None:
    """Server A accepts a fix; server B's /v1/live/fleet stream delivers it (via Redis)."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    upgrade(url)
    db = Database(url)
    tenant = make_tenant(db, "Two Servers")
    db.dispose()
    env = {
        "LASTMILE_DATABASE_URL": url, "LASTMILE_REDIS_URL": redis_url,
        "LASTMILE_ENVIRONMENT": "test", "LASTMILE_DATA_DIR": str(tmp_path),
    }  # fmt: skip
    with server(env, tmp_path, "a") as a, server(env, tmp_path, "b") as b:
        headers = tenant.headers("dispatcher")
        vehicle = httpx.post(
            f"{a}/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=headers
        ).json()["id"]
        received: list[dict[str, object]] = []
        connected = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{b}/v1/live/fleet", headers=headers, timeout=20) as r:
                assert r.status_code == 200
                event = None
                for line in r.iter_lines():
                    if line.startswith(":"):
                        connected.set()
                    elif line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event == "position":
                        received.append(json.loads(line.split(":", 1)[1]))
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert connected.wait(10)
        fix = {"t": datetime.now(UTC).isoformat(), "lat": 41.15, "lon": -8.61}
        posted = httpx.post(
            f"{a}/v1/positions", json={"fixes": [fix], "vehicle_id": vehicle}, headers=headers
        )
        assert posted.status_code == 200, posted.text
        listener.join(10)
        assert [e["vehicle_id"] for e in received] == [vehicle]
        # The hot position is shared too: server B answers with what server A accepted.
        latest = httpx.get(f"{b}/v1/fleet/positions", headers=headers).json()
        assert [p["vehicle_id"] for p in latest] == [vehicle]
