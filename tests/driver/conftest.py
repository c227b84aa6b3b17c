"""Fixtures of the driver API tests: a committed route, a second driver, real image bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from lastmile.auth import service as auth
from lastmile.auth.models import Role
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.fleet.models import Driver
from lastmile.kit.ids import new_id
from tests.factories import PASSWORD, Tenant
from tests.tracking.builders import BuiltRoute, committed_route

# Three doors north of the tenant's depot (41.15, -8.61).
STOPS = [(41.1770, -8.6100), (41.2040, -8.6100), (41.2310, -8.6100)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Tracking runs inline, so a start or arrival shows its effects at once."""
    return Settings(environment="test", data_dir=tmp_path, auto_migrate=False, tracking_inline=True)


@pytest.fixture
def route(client: TestClient, database: Database, tenant: Tenant) -> BuiltRoute:
    """A dispatched route of the tenant's driver: three doorstep orders, one parcel each."""
    return committed_route(client, database, tenant, STOPS)


@dataclass
class OtherDriver:
    driver_id: str
    headers: dict[str, str]


@pytest.fixture
def other_driver(database: Database, tenant: Tenant) -> OtherDriver:
    """A second driver of the same organization."""
    with database.unit_of_work() as s, patch.object(auth, "hash_password", lambda p: "x"):
        user = auth.create_user(
            s, tenant.organization_id, email=f"{new_id('d')}@example.org", name="Other",
            role=Role.driver, password=PASSWORD,
        )  # fmt: skip
        driver = Driver(
            id=new_id("drv"), organization_id=tenant.organization_id, name="Other Driver",
            skills=[], user_id=user.id,
        )  # fmt: skip
        s.add(driver)
        s.flush()
        token = auth.issue_access_token(s, user, timedelta(hours=1)).token
    return OtherDriver(driver.id, {"Authorization": f"Bearer {token}"})


def image(kind: str, size: tuple[int, int] = (40, 30), color: str = "red") -> bytes:
    """Real image bytes of ``kind`` (JPEG, PNG or WEBP)."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=kind)
    return out.getvalue()


def now_iso(shift: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + shift).isoformat()


def deliver(
    client: TestClient,
    order_id: str,
    headers: dict[str, str],
    *,
    fields: dict[str, Any] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    key: str | None = None,
    action: str = "deliver",
) -> httpx.Response:
    """POST a multipart proof (``action`` deliver or fail); ``captured_at`` defaults to now."""
    data = {"captured_at": now_iso()} | (fields or {})
    sent = dict(headers) | ({"Idempotency-Key": key} if key else {})
    return client.post(
        f"/v1/driver/orders/{order_id}/{action}", data=data, files=files or {}, headers=sent
    )
