"""Tracking links: issued once, stored hashed, scoped to one order, revocable, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.db.engine import Database
from lastmile.kit.crypto import sha256_hex
from lastmile.orders.models import OrderEvent
from lastmile.tracking.models import TrackingLink
from tests.factories import Tenant, order_payload
from tests.helpers import assert_problem
from tests.tracking.builders import committed_route

POINTS = [(41.1496, -8.6109), (41.1520, -8.6080), (41.1550, -8.6040)]


def issue(client: TestClient, tenant: Tenant, order_id: str, who: str = "merchant") -> dict:
    response = client.post(f"/v1/orders/{order_id}/tracking-links", headers=tenant.headers(who))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def test_link_token_is_long_random_and_stored_hashed(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """The token has at least 128 bits, appears in the URL, and only its hash is stored."""
    order = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    link = issue(client, tenant, order.json()["id"])
    token = link["token"]
    assert len(token) >= 22
    assert link["url"].endswith(f"/t/{token}")
    with database.unit_of_work(readonly=True) as s:
        row = s.scalars(select(TrackingLink)).one()
    assert row.token_hash == sha256_hex(token)
    assert token not in row.token_hash
    listed = client.get(
        f"/v1/orders/{order.json()['id']}/tracking-links", headers=tenant.headers("dispatcher")
    ).json()
    assert [x["id"] for x in listed] == [link["id"]]
    assert "token" not in listed[0]


def test_view_shows_this_order_only(client: TestClient, database: Database, tenant: Tenant) -> None:
    """The view answers for its own order; a token used for another order's stream is 404."""
    route = committed_route(client, database, tenant, POINTS)
    link = issue(client, tenant, route.order_ids[2])
    view = client.get(f"/v1/tracking/{link['token']}")
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["order"]["id"] == route.order_ids[2]
    assert body["stops_before"] == 2
    assert body["driver"] is None
    assert body["path"] is None
    assert body["eta"]["earliest"] < body["eta"]["latest"]
    text = view.text
    for other in route.order_ids[:2]:
        assert other not in text
    assert "phone" not in text
    assert "+351" not in text
    assert "@example.org" not in text
    other_stream = client.get(f"/v1/live/orders/{route.order_ids[0]}?token={link['token']}")
    assert_problem(other_stream, 404)


def test_refusals_unknown_revoked_expired_closed(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Unknown tokens are 404; revoked, expired and long-delivered links are 410."""
    assert_problem(client.get("/v1/tracking/" + "x" * 32), 404)
    order = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    order_id = order.json()["id"]
    revoked = issue(client, tenant, order_id)
    assert_problem(
        client.delete(f"/v1/tracking-links/{revoked['id']}", headers=other_tenant.headers("admin")),
        404,
    )
    assert (
        client.delete(
            f"/v1/tracking-links/{revoked['id']}", headers=tenant.headers("merchant")
        ).status_code
        == 200
    )
    assert_problem(client.get(f"/v1/tracking/{revoked['token']}"), 410)

    expired = issue(client, tenant, order_id)
    with database.unit_of_work() as s:
        s.execute(
            update(TrackingLink)
            .where(TrackingLink.id == expired["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_problem(client.get(f"/v1/tracking/{expired['token']}"), 410)

    closed = issue(client, tenant, order_id)
    cancel = client.post(f"/v1/orders/{order_id}/cancel", headers=tenant.headers("merchant"))
    assert cancel.status_code == 200, cancel.text
    assert client.get(f"/v1/tracking/{closed['token']}").status_code == 200
    with database.unit_of_work() as s:
        s.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id == order_id)
            .values(at=datetime.now(UTC) - timedelta(days=10))
        )
    assert_problem(client.get(f"/v1/tracking/{closed['token']}"), 410)


def test_only_the_owning_merchant_or_staff_issue_links(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Another merchant, a driver or another tenant cannot issue a link for the order."""
    order_id = client.post(
        "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
    ).json()["id"]
    for headers, status in (
        (tenant.headers("merchant2"), 404),
        (tenant.headers("driver"), 403),
        (other_tenant.headers("admin"), 404),
    ):
        response = client.post(f"/v1/orders/{order_id}/tracking-links", headers=headers)
        assert_problem(response, status)
    issue(client, tenant, order_id, "dispatcher")
