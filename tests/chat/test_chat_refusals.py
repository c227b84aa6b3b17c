"""Every way a chat request is refused: closed, rate-limited, bad token, not your order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.app import create_app
from lastmile.chat.models import ChatMessage
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.fleet.models import Driver
from lastmile.kit.clock import utcnow
from lastmile.kit.ids import new_id
from lastmile.tracking.models import TrackingLink
from tests.chat.conftest import DELIVER, Thread, backdate_status, move, open_thread
from tests.factories import Tenant
from tests.helpers import assert_problem, row_counts, set_order


def say(
    client: TestClient, url: str, text: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(url, json={"body": text}, headers=headers or {})


def test_conversation_closes_a_set_time_after_delivery(
    client: TestClient, database: Database, tenant: Tenant, thread: Thread
) -> None:
    """Delivered less than chat_close_after_hours ago: still open; after that read-only (409)."""
    driver = tenant.headers("driver")
    assert say(client, thread.customer, "Hello").status_code == 201
    move(client, tenant, thread.order_id, *DELIVER)
    view = client.get(thread.customer).json()
    assert view["open"] is True
    assert view["closes_at"] is not None
    assert say(client, thread.staff, "Left it with the neighbour", driver).status_code == 201

    backdate_status(database, thread.order_id, "delivered", timedelta(hours=25))
    before = row_counts(database)
    closed = say(client, thread.customer, "Thanks!")
    assert "closed" in assert_problem(closed, 409)["detail"]
    assert_problem(say(client, thread.staff, "You're welcome", driver), 409)
    assert row_counts(database) == before
    view = client.get(thread.customer).json()
    assert view["open"] is False
    assert [m["body"] for m in view["messages"]] == ["Hello", "Left it with the neighbour"]
    # Reading stays possible: it is the conversation that is read-only, not the receipts.
    assert client.post(f"{thread.customer}/read").json()["up_to"] == 2


def test_failed_and_cancelled_orders_close_too(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A failed attempt and a cancellation close the conversation like a delivery."""
    failed = open_thread(client, database, tenant)
    move(client, tenant, failed.order_id, "planned", "dispatched", "out_for_delivery", "failed")
    backdate_status(database, failed.order_id, "failed", timedelta(hours=24, seconds=1))
    assert_problem(say(client, failed.customer, "When will you come back?"), 409)
    cancelled = open_thread(client, database, tenant)
    move(client, tenant, cancelled.order_id, "cancelled")
    backdate_status(database, cancelled.order_id, "cancelled", timedelta(days=2))
    assert_problem(say(client, cancelled.staff, "Sorry", tenant.headers("dispatcher")), 409)


@pytest.fixture
def strict(settings: Settings, database: Database) -> Iterator[TestClient]:
    """An app allowing 3 messages a minute and 5 a day per side."""
    limits = settings.model_copy(update={"chat_messages_per_minute": 3, "chat_messages_per_day": 5})
    with TestClient(create_app(limits, database=database)) as client:
        yield client


def test_each_side_is_rate_limited_per_minute(
    strict: TestClient, database: Database, tenant: Tenant
) -> None:
    """The 4th message in a minute is 429 with Retry-After; the other side may still write."""
    thread = open_thread(strict, database, tenant)
    for i in range(3):
        assert say(strict, thread.customer, f"message {i}").status_code == 201
    before = row_counts(database)
    limited = say(strict, thread.customer, "one more")
    body = assert_problem(limited, 429)
    assert "per minute" in body["detail"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert row_counts(database) == before
    assert say(strict, thread.staff, "Easy!", tenant.headers("driver")).status_code == 201


def test_each_side_is_rate_limited_per_day(
    strict: TestClient, database: Database, tenant: Tenant
) -> None:
    """Five messages within 24 hours use up the day; Retry-After says when the oldest expires."""
    thread = open_thread(strict, database, tenant)
    for hours_ago in (5, 4, 3, 2, 1):
        assert say(strict, thread.staff, "Update", tenant.headers("dispatcher")).status_code == 201
        with database.unit_of_work() as session:  # sent over the day, not all in one minute
            session.execute(
                update(ChatMessage)
                .where(ChatMessage.created_at > utcnow() - timedelta(minutes=1))
                .values(created_at=utcnow() - timedelta(hours=hours_ago))
            )
    limited = say(strict, thread.staff, "Another update", tenant.headers("driver"))
    assert "per day" in assert_problem(limited, 429)["detail"]
    wait = int(limited.headers["retry-after"])
    assert timedelta(hours=18) < timedelta(seconds=wait) <= timedelta(hours=19)
    assert say(strict, thread.customer, "Stop, please").status_code == 201


def test_unknown_revoked_and_expired_tokens(
    client: TestClient, database: Database, tenant: Tenant, thread: Thread
) -> None:
    """Unknown token: 404; withdrawn or expired link: 410, on every customer route."""

    def each_route(token: str, status: int) -> None:
        base = f"/v1/self-service/{token}/messages"
        assert_problem(client.get(base), status)
        assert_problem(say(client, base, "Hello?"), status)
        assert_problem(client.post(f"{base}/read"), status)

    before = row_counts(database)
    each_route("x" * 32, 404)
    revoked = open_thread(client, database, tenant)
    response = client.delete(
        f"/v1/tracking-links/{revoked.link_id}", headers=tenant.headers("merchant")
    )
    assert response.status_code == 200
    before = row_counts(database)
    each_route(revoked.token, 410)
    with database.unit_of_work() as session:
        session.execute(
            update(TrackingLink)
            .where(TrackingLink.id == thread.link_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    each_route(thread.token, 410)
    assert row_counts(database) == before


def test_staff_routes_answer_only_the_orders_driver_and_staff(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant, thread: Thread
) -> None:
    """Another driver's order is 404 to a driver; merchants get 403; other tenants 404."""
    say(client, thread.customer, "Hi")
    with database.unit_of_work() as session:
        other = Driver(id=new_id("drv"), organization_id=tenant.organization_id, name="Rui")
        session.add(other)
    set_order(database, thread.order_id, driver_id=other.id)
    before = row_counts(database)
    driver = tenant.headers("driver")
    for response in (
        client.get(thread.staff, headers=driver),
        say(client, thread.staff, "Hello", driver),
        client.post(f"{thread.staff}/read", headers=driver),
    ):
        assert_problem(response, 404)
    for who in ("merchant", "merchant2"):
        assert_problem(client.get(thread.staff, headers=tenant.headers(who)), 403)
        assert_problem(client.get("/v1/chat/quick-replies", headers=tenant.headers(who)), 403)
    for response in (
        client.get(thread.staff, headers=other_tenant.headers("dispatcher")),
        say(client, thread.staff, "Hello", other_tenant.headers("admin")),
    ):
        assert_problem(response, 404)
    assert row_counts(database) == before
    assert client.get(thread.staff, headers=tenant.headers("admin")).status_code == 200
