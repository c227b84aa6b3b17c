"""Scopes inside one organization: merchants see only their own data, drivers only their orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.auth import service as auth
from lastmile.auth.models import Role
from lastmile.db.engine import Database
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route
from tests.factories import Tenant, address_payload, customer_payload, order_payload
from tests.helpers import assert_problem, set_order, snapshot
from tests.tracking.builders import committed_route


def _create(client: TestClient, tenant: Tenant, who: str, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, json=body, headers=tenant.headers(who))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _listed(client: TestClient, tenant: Tenant, who: str, path: str, **params: str) -> set[str]:
    response = client.get(path, params={"limit": 200, **params}, headers=tenant.headers(who))
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.fixture
def theirs(client: TestClient, tenant: Tenant) -> dict[str, str]:
    """An order, customer and address belonging to the tenant's second merchant."""
    customer = _create(client, tenant, "merchant2", "/v1/customers", customer_payload())
    return {
        "order": _create(client, tenant, "merchant2", "/v1/orders", order_payload()),
        "customer": customer,
        "address": _create(
            client, tenant, "merchant2", "/v1/addresses", address_payload(customer_id=customer)
        ),
    }


ITEM_ROUTES = [
    ("GET", "/v1/orders/{order}", None),
    ("GET", "/v1/orders/{order}/history", None),
    ("PATCH", "/v1/orders/{order}", {"instructions": "leave it"}),
    ("POST", "/v1/orders/{order}/cancel", None),
    ("POST", "/v1/orders/{order}/transitions", {"status": "cancelled"}),
    ("GET", "/v1/customers/{customer}", None),
    ("PATCH", "/v1/customers/{customer}", {"name": "Eve"}),
    ("DELETE", "/v1/customers/{customer}", None),
    ("GET", "/v1/addresses/{address}", None),
    ("PATCH", "/v1/addresses/{address}", {"line2": "2 dto"}),
    ("DELETE", "/v1/addresses/{address}", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), ITEM_ROUTES, ids=[f"{m} {p}" for m, p, _ in ITEM_ROUTES]
)
def test_merchant_cannot_touch_another_merchants_data(
    client: TestClient,
    tenant: Tenant,
    database: Database,
    theirs: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """Another merchant's order, customer or address is a 404 for a merchant and unchanged."""
    before = snapshot(database)
    url = path.format(**theirs)
    assert_problem(client.request(method, url, json=body, headers=tenant.headers("merchant")), 404)
    assert snapshot(database) == before
    owner = client.request(method, url, json=body, headers=tenant.headers("merchant2"))
    assert owner.status_code in (200, 204), owner.text


def test_merchant_lists_only_its_own(
    client: TestClient, tenant: Tenant, theirs: dict[str, str]
) -> None:
    """Lists show a merchant its own rows only, even when filtering for the other merchant."""
    mine = _create(client, tenant, "merchant", "/v1/orders", order_payload())
    assert _listed(client, tenant, "merchant", "/v1/orders") == {mine}
    assert (
        _listed(client, tenant, "merchant", "/v1/orders", merchant_id=tenant.merchant2_id) == set()
    )
    assert theirs["customer"] not in _listed(client, tenant, "merchant", "/v1/customers")
    assert theirs["address"] not in _listed(client, tenant, "merchant", "/v1/addresses")
    assert _listed(client, tenant, "dispatcher", "/v1/orders") == {mine, theirs["order"]}


def test_merchant_cannot_use_another_merchants_records(
    client: TestClient, tenant: Tenant, database: Database, theirs: dict[str, str]
) -> None:
    """A new order or address cannot point at the other merchant's customer or address."""
    before = snapshot(database)
    by_id = order_payload(customer_id=theirs["customer"], address_id=theirs["address"])
    del by_id["customer"], by_id["address"]
    response = client.post("/v1/orders", json=by_id, headers=tenant.headers("merchant"))
    assert_problem(response, 422, "customer_id", "address_id")
    address = address_payload(customer_id=theirs["customer"])
    response = client.post("/v1/addresses", json=address, headers=tenant.headers("merchant"))
    assert_problem(response, 422, "customer_id")
    assert snapshot(database) == before


def test_staff_edit_keeps_merchant_ownership(
    client: TestClient, tenant: Tenant, theirs: dict[str, str]
) -> None:
    """After staff edit a merchant's customer or address, the merchant still owns and sees it."""
    edits = (("customer", "customers", {"name": "Rita"}), ("address", "addresses", {"line2": "1"}))
    for kind, collection, patch in edits:
        url = f"/v1/{collection}/{theirs[kind]}"
        assert client.patch(url, json=patch, headers=tenant.headers("admin")).status_code == 200
        assert client.get(url, headers=tenant.headers("merchant2")).status_code == 200
        assert_problem(client.get(url, headers=tenant.headers("merchant")), 404)


# --- drivers ---------------------------------------------------------------------------------


@pytest.fixture
def orders(client: TestClient, tenant: Tenant, database: Database) -> dict[str, str]:
    """Three dispatched orders: one for the tenant's driver, one for another, one unassigned."""
    other = _create(client, tenant, "dispatcher", "/v1/drivers", {"name": "Otto"})
    made = {
        name: _create(client, tenant, "merchant", "/v1/orders", order_payload())
        for name in ("mine", "other", "unassigned")
    }
    set_order(database, made["mine"], driver_id=tenant.driver_id, status=OrderStatus.dispatched)
    set_order(database, made["other"], driver_id=other, status=OrderStatus.dispatched)
    set_order(database, made["unassigned"], status=OrderStatus.dispatched)
    return made | {"other_driver": other}


def test_driver_sees_only_assigned_orders(
    client: TestClient, tenant: Tenant, orders: dict[str, str]
) -> None:
    """A driver lists and reads the orders whose driver_id is its own, and no others."""
    assert _listed(client, tenant, "driver", "/v1/orders") == {orders["mine"]}
    filtered = _listed(client, tenant, "driver", "/v1/orders", driver_id=orders["other_driver"])
    assert filtered == set()
    driver = tenant.headers("driver")
    assert client.get(f"/v1/orders/{orders['mine']}", headers=driver).status_code == 200
    assert client.get(f"/v1/orders/{orders['mine']}/history", headers=driver).status_code == 200
    for name in ("other", "unassigned"):
        assert_problem(client.get(f"/v1/orders/{orders[name]}", headers=driver), 404)
        assert_problem(client.get(f"/v1/orders/{orders[name]}/history", headers=driver), 404)
        moved = client.post(
            f"/v1/orders/{orders[name]}/transitions", json={"status": "out_for_delivery"},
            headers=driver,
        )  # fmt: skip
        assert_problem(moved, 404)


def test_driver_cannot_edit_or_cancel(
    client: TestClient, tenant: Tenant, database: Database, orders: dict[str, str]
) -> None:
    """Editing and cancelling are not driver routes: 403 even on the driver's own order."""
    before = snapshot(database)
    url = f"/v1/orders/{orders['mine']}"
    driver = tenant.headers("driver")
    assert_problem(client.patch(url, json={"instructions": "x"}, headers=driver), 403)
    assert_problem(client.post(f"{url}/cancel", headers=driver), 403)
    assert_problem(client.post("/v1/orders", json=order_payload(), headers=driver), 403)
    assert snapshot(database) == before


def test_driver_login_without_profile_sees_nothing(
    client: TestClient, tenant: Tenant, database: Database, orders: dict[str, str]
) -> None:
    """A driver user that no driver profile names sees no orders, not the unassigned ones."""
    with database.unit_of_work() as session:
        user = auth.create_user(
            session, tenant.organization_id, email="new-driver@example.org", name="New",
            role=Role.driver, password="long enough secret",
        )  # fmt: skip
        token = auth.issue_access_token(session, user, timedelta(hours=1)).token
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/me", headers=headers).json()["driver_id"] is None
    assert client.get("/v1/orders", headers=headers).json()["items"] == []
    assert_problem(client.get(f"/v1/orders/{orders['unassigned']}", headers=headers), 404)


def test_driver_login_without_profile_sees_no_route(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Routes without a driver stay hidden from a driver login no driver profile names."""
    route = committed_route(client, database, tenant, [(41.15, -8.61), (41.16, -8.62)])
    with database.unit_of_work() as session:
        session.execute(update(Route).where(Route.id == route.route_id).values(driver_id=None))
        user = auth.create_user(
            session, tenant.organization_id, email="no-profile@example.org", name="New",
            role=Role.driver, password="long enough secret",
        )  # fmt: skip
        token = auth.issue_access_token(session, user, timedelta(hours=1)).token
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/routes", headers=tenant.headers("admin")).json()["items"]
    assert client.get("/v1/routes", headers=headers).json()["items"] == []
    assert_problem(client.get(f"/v1/routes/{route.route_id}", headers=headers), 404)
