"""Concurrent bookings of the last place: exactly one wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.orders.models import Order
from lastmile.services import Services
from lastmile.slots.models import SlotBooking, SlotCounter
from lastmile.slots.policy import slot_id
from lastmile.slots.repository import SlotCounterRepository
from lastmile.slots.service import SlotFull, SlotService
from tests.factories import Tenant, order_payload, vehicle_payload

RACERS = 4


def test_only_one_of_several_concurrent_bookings_gets_the_last_place(
    client: TestClient, database: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window with one place left, booked by four orders at once: one booking, three 409s,
    and the counter says exactly full."""
    headers = tenant.headers("admin")
    assert client.post("/v1/vehicles", json=vehicle_payload(tenant.depot_id),
                       headers=headers).status_code == 201  # fmt: skip
    policy = client.get("/v1/slot-policy", headers=headers).json()
    client.put("/v1/slot-policy", json=policy | {"capacity_per_window": 2}, headers=headers)
    orders = []
    for _ in range(RACERS + 1):
        created = client.post(
            "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
        )
        orders.append(created.json()["id"])
    day = datetime.now(ZoneInfo("Europe/Lisbon")).date() + timedelta(days=2)
    start = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Europe/Lisbon"))
    slot = slot_id(start, 120, tenant.depot_id)
    assert client.post(f"/v1/orders/{orders[0]}/slot", json={"slot_id": slot},
                       headers=tenant.headers("merchant")).status_code == 200  # fmt: skip

    services = Services.from_settings(Settings(environment="test"))
    principal = Principal(tenant.organization_id, Access.merchant, merchant_id=tenant.merchant_id)
    outcomes: list[str] = []
    lock = threading.Lock()
    # On PostgreSQL every racer first reads one place left, then all update at once. SQLite
    # takes its write lock at BEGIN, so there the racers queue instead (no barrier to wait at).
    barrier = threading.Barrier(RACERS) if not database.is_sqlite else None
    take = SlotCounterRepository.take

    def synchronised_take(self: SlotCounterRepository, *args: Any) -> bool:
        if barrier is not None:
            barrier.wait(timeout=30)
        return take(self, *args)

    def race(order_id: str) -> None:
        try:
            with database.unit_of_work() as session:
                order = session.get(Order, order_id)
                assert order is not None
                SlotService(session, principal, services).book(order, slot)
            result = "booked"
        except SlotFull:
            result = "full"
        with lock:
            outcomes.append(result)

    monkeypatch.setattr(SlotCounterRepository, "take", synchronised_take)
    threads = [threading.Thread(target=race, args=(o,)) for o in orders[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes) == ["booked"] + ["full"] * (RACERS - 1)
    with database.unit_of_work() as session:
        assert session.scalar(select(SlotCounter.booked)) == 2
        assert session.scalar(select(func.count(SlotBooking.id))) == 2
