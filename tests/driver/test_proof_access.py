"""Who sees a proof and its files: staff, the order's merchant and driver, and the customer
(their photo only, by tracking token); anyone else finds nothing."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from tests.driver.conftest import OtherDriver, deliver, image
from tests.factories import Tenant
from tests.helpers import assert_problem, set_order
from tests.tracking.builders import BuiltRoute

PHOTO = image("JPEG", color="green")
SIGNATURE = image("PNG", color="white")


@pytest.fixture
def delivered(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> dict[str, Any]:
    """The route's first order, delivered with a photo and a signature."""
    order_id = route.order_ids[0]
    set_order(database, order_id, signature_required=True)
    response = deliver(
        client, order_id, tenant.headers("driver"), fields={"recipient_name": "Ana"},
        files={"photo": ("p.jpg", PHOTO, "image/jpeg"),
               "signature": ("s.png", SIGNATURE, "image/png")},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_proof_reads_the_same_for_everyone_entitled(
    client: TestClient, tenant: Tenant, delivered: dict[str, Any]
) -> None:
    """Staff, the merchant and the driver read the order's attempts with file URLs."""
    url = f"/v1/orders/{delivered['order_id']}/proof"
    for who in ("admin", "dispatcher", "merchant", "driver"):
        response = client.get(url, headers=tenant.headers(who))
        assert response.status_code == 200, (who, response.text)
        body = response.json()
        assert body["status"] == "delivered"
        assert body["proofs"] == [delivered]


def test_files_are_served_with_their_type_to_those_entitled(
    client: TestClient, tenant: Tenant, delivered: dict[str, Any]
) -> None:
    """The bytes come back under their hash, typed, privately cacheable."""
    for who in ("admin", "merchant", "driver"):
        photo = client.get(delivered["photo"]["url"], headers=tenant.headers(who))
        assert photo.status_code == 200, (who, photo.text)
        assert photo.content == PHOTO
        assert photo.headers["content-type"] == "image/jpeg"
        assert photo.headers["cache-control"].startswith("private")
        assert photo.headers["x-content-type-options"] == "nosniff"
    signature = client.get(delivered["signature"]["url"], headers=tenant.headers("merchant"))
    assert hashlib.sha256(signature.content).hexdigest() == delivered["signature"]["sha256"]
    assert signature.headers["content-type"] == "image/png"


def test_others_find_no_proof_and_no_file(
    client: TestClient,
    tenant: Tenant,
    other_tenant: Tenant,
    other_driver: OtherDriver,
    delivered: dict[str, Any],
) -> None:
    """Another merchant, another driver and another organization get 404, as for a hash that
    exists nowhere."""
    url = f"/v1/orders/{delivered['order_id']}/proof"
    photo = delivered["photo"]["url"]
    strangers = [tenant.headers("merchant2"), other_driver.headers,
                 *(other_tenant.headers(w) for w in ("admin", "merchant", "driver"))]  # fmt: skip
    nowhere = assert_problem(client.get("/v1/proofs/" + "0" * 64, headers=tenant.headers("admin")),
                             404)  # fmt: skip
    for headers in strangers:
        assert_problem(client.get(url, headers=headers), 404)
        refused = assert_problem(client.get(photo, headers=headers), 404)
        assert refused["detail"] == nowhere["detail"]


def test_the_customer_sees_their_photo_by_tracking_token(
    client: TestClient, tenant: Tenant, route: BuiltRoute, delivered: dict[str, Any]
) -> None:
    """The order's token opens its photo, not its signature; another order's token neither."""

    def token(order_id: str) -> str:
        issued = client.post(f"/v1/orders/{order_id}/tracking-links",
                             headers=tenant.headers("merchant"))  # fmt: skip
        return str(issued.json()["token"])

    mine, theirs = token(delivered["order_id"]), token(route.order_ids[1])
    photo = client.get(f"{delivered['photo']['url']}?token={mine}")
    assert photo.status_code == 200, photo.text
    assert photo.content == PHOTO
    assert_problem(client.get(f"{delivered['signature']['url']}?token={mine}"), 404)
    assert_problem(client.get(f"{delivered['photo']['url']}?token={theirs}"), 404)
    assert_problem(client.get(f"{delivered['photo']['url']}?token={'x' * 32}"), 404)
    assert_problem(client.get(delivered["photo"]["url"]), 401)


def test_an_order_without_attempts_has_an_empty_proof(
    client: TestClient, tenant: Tenant, route: BuiltRoute
) -> None:
    """No attempt yet: an empty list, not an error."""
    response = client.get(f"/v1/orders/{route.order_ids[2]}/proof", headers=tenant.headers("admin"))
    assert response.json() == {"order_id": route.order_ids[2], "status": "dispatched",
                               "proofs": []}  # fmt: skip
