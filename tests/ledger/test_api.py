"""The ledger's HTTP routes: receipts and who may read them, day roots, key, verification."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import text

from lastmile.db.engine import Database
from lastmile.kit.crypto import random_token
from lastmile.kit.pagination import encode_cursor
from lastmile.ledger.core.canonical import canonical_json
from lastmile.ledger.core.keys import load_public_key, signature_valid
from lastmile.ledger.core.receipt import verify_receipt
from tests.factories import Tenant, order_payload
from tests.helpers import assert_problem
from tests.ledger.builders import append, day


def new_order(client: TestClient, tenant: Tenant) -> str:
    response = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def custody(db: Database, tenant: Tenant, order_id: str) -> None:
    """Two entries on a past day (sealed by the publish route) and one today (open)."""
    append(db, tenant.organization_id, order_id, now=day(0))
    append(db, tenant.organization_id, "ord_someone_else", now=day(0, 9))
    append(db, tenant.organization_id, order_id, now=datetime.now(UTC))


def publish(client: TestClient, tenant: Tenant) -> list[dict[str, object]]:
    response = client.post("/v1/ledger/roots:publish", json={}, headers=tenant.headers("admin"))
    assert response.status_code == 200, response.text
    published: list[dict[str, object]] = response.json()["published"]
    return published


def public_key(client: TestClient, tenant: Tenant) -> str:
    response = client.get("/v1/ledger/public-key", headers=tenant.headers("merchant"))
    assert response.status_code == 200, response.text
    return str(response.json()["public_key"])


def test_staff_merchant_and_recipient_get_a_receipt_that_verifies(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Each allowed reader gets the same receipt; it verifies offline against the API's key."""
    order_id = new_order(client, tenant)
    custody(database, tenant, order_id)
    publish(client, tenant)
    link = client.post(f"/v1/orders/{order_id}/tracking-links", headers=tenant.headers("merchant"))
    token = link.json()["token"]
    answers = [
        client.get(f"/v1/orders/{order_id}/receipt", headers=tenant.headers(who))
        for who in ("admin", "dispatcher", "merchant")
    ] + [client.get(f"/v1/orders/{order_id}/receipt", params={"token": token})]
    key = public_key(client, tenant)
    entries = []
    for answer in answers:
        assert answer.status_code == 200, answer.text
        result = verify_receipt(answer.text, public_key=key)
        assert result.ok, result.problems
        assert (result.entries, result.sealed) == (2, 1)
        entries.append(answer.json()["entries"])
    assert all(e == entries[0] for e in entries)


def test_a_receipt_is_not_found_for_anyone_else(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Another tenant, another merchant, a wrong token or another order's token get 404; a
    driver 403; no credential 401."""
    order_id = new_order(client, tenant)
    other_order = new_order(client, tenant)
    custody(database, tenant, order_id)
    url = f"/v1/orders/{order_id}/receipt"
    other_link = client.post(
        f"/v1/orders/{other_order}/tracking-links", headers=tenant.headers("merchant")
    ).json()["token"]
    assert_problem(client.get(url, headers=other_tenant.headers("admin")), 404)
    assert_problem(client.get(url, headers=tenant.headers("merchant2")), 404)
    assert_problem(client.get(url, params={"token": random_token(24)}), 404)
    assert_problem(client.get(url, params={"token": other_link}), 404)
    assert_problem(client.get(url, headers=tenant.headers("driver")), 403)
    assert_problem(client.get(url), 401)


def test_day_roots_are_published_signed_and_scoped(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """A sealed day is listed and readable, its signature holds over its statement, and
    other organizations do not see it; today stays open."""
    custody(database, tenant, "ord_1")
    published = publish(client, tenant)
    assert [root["day"] for root in published] == ["2024-05-01"]
    assert publish(client, tenant) == []
    listed = client.get("/v1/ledger/roots", headers=tenant.headers("merchant")).json()
    assert [root["day"] for root in listed["items"]] == ["2024-05-01"]
    root = client.get("/v1/ledger/roots/2024-05-01", headers=tenant.headers("dispatcher")).json()
    assert (root["entry_count"], root["first_sequence"], root["last_sequence"]) == (2, 1, 2)
    key = load_public_key(public_key(client, tenant))
    assert signature_valid(key, root["signature"], canonical_json(root["statement"]))
    today = datetime.now(UTC).date().isoformat()
    assert_problem(client.get(f"/v1/ledger/roots/{today}", headers=tenant.headers("admin")), 404)
    assert_problem(client.get("/v1/ledger/roots/2024-13-01", headers=tenant.headers("admin")), 422)
    theirs = client.get("/v1/ledger/roots", headers=other_tenant.headers("admin")).json()
    assert theirs["items"] == []
    assert_problem(
        client.get("/v1/ledger/roots/2024-05-01", headers=other_tenant.headers("admin")), 404
    )
    assert_problem(client.get("/v1/ledger/public-key", headers=other_tenant.headers("admin")), 404)
    assert_problem(
        client.post("/v1/ledger/roots:publish", json={}, headers=tenant.headers("dispatcher")), 403
    )


def test_admins_verify_the_ledger_and_see_tampering(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """GET /v1/ledger/verify is ok on an intact ledger and names the edited entry after an
    UPDATE in SQL; only admins may run it."""
    custody(database, tenant, "ord_1")
    publish(client, tenant)
    report = client.get("/v1/ledger/verify", headers=tenant.headers("admin")).json()
    assert (report["ok"], report["entries"], report["days_sealed"]) == (True, 3, 1)
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE custody_entries SET actor = 'user:x' WHERE organization_id = :org "
                 "AND sequence = 2"),
            {"org": tenant.organization_id},
        )  # fmt: skip
    for signatures in ("anchors", "all"):
        report = client.get(
            "/v1/ledger/verify", params={"signatures": signatures}, headers=tenant.headers("admin")
        ).json()
        assert report["ok"] is False
        assert report["signatures"] == signatures
        assert (report["faults"][0]["kind"], report["faults"][0]["sequence"]) == ("edited", 2)
    assert_problem(client.get("/v1/ledger/verify", headers=tenant.headers("dispatcher")), 403)


def test_roots_page_in_day_order(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Pages follow the days; a cursor that is not one of the caller's roots is a 422."""
    for index in (0, 1, 2):
        append(database, tenant.organization_id, "ord_1", now=day(index))
    append(database, other_tenant.organization_id, "ord_1", now=day(0))
    publish(client, tenant)
    theirs = publish(client, other_tenant)
    headers = tenant.headers("admin")
    first = client.get("/v1/ledger/roots", params={"limit": 2}, headers=headers).json()
    assert [root["day"] for root in first["items"]] == ["2024-05-01", "2024-05-02"]
    params = {"limit": 2, "cursor": first["next_cursor"]}
    second = client.get("/v1/ledger/roots", params=params, headers=headers).json()
    assert ([root["day"] for root in second["items"]], second["next_cursor"]) == (
        ["2024-05-03"], None,
    )  # fmt: skip
    foreign = client.get(
        "/v1/ledger/roots", params={"cursor": encode_cursor(str(theirs[0]["id"]))}, headers=headers
    )
    assert_problem(foreign, 422, "cursor")
    assert_problem(client.get("/v1/ledger/roots", params={"cursor": "??"}, headers=headers), 422)
