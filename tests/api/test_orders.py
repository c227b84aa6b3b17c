"""Orders through the HTTP API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Tenant, order_payload, tomorrow_window


def test_merchant_creates_and_reads_an_order(client: TestClient, tenant: Tenant) -> None:
    """A created order reads back with its parcels, windows, address and status created."""
    body = order_payload(
        instructions="Ring twice", declared_value={"amount": "49.90", "currency": "EUR"}
    )
    r = client.post("/v1/orders", json=body, headers=tenant.headers("merchant"))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["id"].startswith("ord_")
    assert order["status"] == "created"
    assert order["merchant_id"] == tenant.merchant_id
    assert order["parcels"][0]["barcode"] == body["parcels"][0]["barcode"]
    assert order["address"]["city"] == "Porto"
    assert order["declared_value"] == {"amount": "49.90", "currency": "EUR"}
    got = client.get(f"/v1/orders/{order['id']}", headers=tenant.headers("dispatcher")).json()
    assert got == order
    history = client.get(f"/v1/orders/{order['id']}/history", headers=tenant.headers("merchant"))
    assert [e["to_status"] for e in history.json()] == ["created"]


def test_list_paginates_with_cursor_and_filters(client: TestClient, tenant: Tenant) -> None:
    """Pages chain through next_cursor without gaps or repeats; filters narrow the list."""
    ids = []
    for i in range(5):
        r = client.post(
            "/v1/orders",
            json=order_payload(zone="north" if i % 2 else "south"),
            headers=tenant.headers("merchant"),
        )
        ids.append(r.json()["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/orders", params=params, headers=tenant.headers("dispatcher")).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)
    north = client.get("/v1/orders", params={"zone": "north"}, headers=tenant.headers("dispatcher"))
    assert len(north.json()["items"]) == 2
    created = client.get(
        "/v1/orders", params={"status": "created"}, headers=tenant.headers("dispatcher")
    )
    assert len(created.json()["items"]) == 5
    bad = client.get("/v1/orders", params={"cursor": "!!!"}, headers=tenant.headers("dispatcher"))
    assert bad.status_code == 422


def test_illegal_transition_is_refused_and_changes_nothing(
    client: TestClient, tenant: Tenant
) -> None:
    """created -> delivered answers 409 problem+json and leaves status and history as they were."""
    order = client.post(
        "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
    ).json()
    r = client.post(
        f"/v1/orders/{order['id']}/transitions",
        json={"status": "delivered"},
        headers=tenant.headers("dispatcher"),
    )
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "created" in r.json()["detail"]
    assert (
        client.get(f"/v1/orders/{order['id']}", headers=tenant.headers("dispatcher")).json()[
            "status"
        ]
        == "created"
    )
    ok = client.post(
        f"/v1/orders/{order['id']}/transitions",
        json={"status": "planned"},
        headers=tenant.headers("dispatcher"),
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "planned"
    history = client.get(
        f"/v1/orders/{order['id']}/history", headers=tenant.headers("dispatcher")
    ).json()
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        (None, "created"),
        ("created", "planned"),
    ]


def test_windows_change_on_planned_order_sends_it_back(client: TestClient, tenant: Tenant) -> None:
    """Changing the window of a planned order returns it to created for re-planning."""
    order = client.post(
        "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
    ).json()
    client.post(
        f"/v1/orders/{order['id']}/transitions",
        json={"status": "planned"},
        headers=tenant.headers("dispatcher"),
    )
    r = client.patch(
        f"/v1/orders/{order['id']}",
        json={"windows": [tomorrow_window((14, 16))]},
        headers=tenant.headers("merchant"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "created"
    assert r.json()["windows"][0]["start"].startswith(tomorrow_window((14, 16))["start"][:16])


def test_locker_delivery_needs_a_locker(client: TestClient, tenant: Tenant) -> None:
    """A locker order with the tenant's locker is accepted; with an unknown one it is a 422."""
    ok = client.post(
        "/v1/orders",
        json=order_payload(delivery_method="locker", pickup_point_id=tenant.locker_id),
        headers=tenant.headers("merchant"),
    )
    assert ok.status_code == 201, ok.text
    bad = client.post(
        "/v1/orders",
        json=order_payload(delivery_method="locker", pickup_point_id="pup_nope"),
        headers=tenant.headers("merchant"),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "pickup_point_id"


def test_duplicate_reference_is_a_conflict(client: TestClient, tenant: Tenant) -> None:
    """A second order with the same merchant reference answers 409 naming the field."""
    body = order_payload()
    assert (
        client.post("/v1/orders", json=body, headers=tenant.headers("merchant")).status_code == 201
    )
    again = order_payload(merchant_reference=body["merchant_reference"])
    r = client.post("/v1/orders", json=again, headers=tenant.headers("merchant"))
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "merchant_reference"
