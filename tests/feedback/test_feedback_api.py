"""Rating a delivery: once, after it ends, with who/where/when kept; and who may read it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.db.engine import Database
from lastmile.feedback.models import Feedback
from lastmile.kit.clock import utcnow
from lastmile.tracking.models import TrackingLink
from tests.factories import Tenant
from tests.feedback.conftest import deliver
from tests.helpers import assert_problem, row_counts

RATING = {"rating": 4, "tags": ["friendly", "on_time"], "comment": "  Very kind, thank you!  "}


def test_a_delivered_order_is_rated_once(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """The rating is stored with the order's driver, vehicle, hub, zone and day; a second: 409."""
    delivery = deliver(client, database, tenant)
    form = client.get(delivery.feedback)
    assert form.status_code == 200, form.text
    assert form.json() == {"can_rate": True, "reason": None, "feedback": None}

    rated = client.post(delivery.feedback, json=RATING)
    assert rated.status_code == 201, rated.text
    assert rated.json()["rating"] == 4
    assert rated.json()["tags"] == ["friendly", "on_time"]
    assert rated.json()["comment"] == "Very kind, thank you!"
    with database.unit_of_work(readonly=True) as session:
        stored = session.scalars(select(Feedback)).one()
        assert stored.driver_id == tenant.driver_id
        assert stored.vehicle_id == delivery.vehicle_id
        assert stored.hub_id == tenant.depot_id
        assert stored.zone == "centro"
        assert stored.order_status.value == "delivered"
        day = stored.day

    before = row_counts(database)
    again = client.post(delivery.feedback, json=RATING | {"rating": 1})
    assert "already" in assert_problem(again, 409)["detail"]
    assert row_counts(database) == before
    form = client.get(delivery.feedback).json()
    assert form["can_rate"] is False
    assert "already" in form["reason"]
    assert form["feedback"]["rating"] == 4

    staff = client.get(f"/v1/orders/{delivery.order_id}/feedback", headers=tenant.headers("admin"))
    assert staff.status_code == 200, staff.text
    assert staff.json() | {"created_at": None} == {
        "id": staff.json()["id"], "order_id": delivery.order_id, "rating": 4,
        "tags": ["friendly", "on_time"], "comment": "Very kind, thank you!",
        "order_status": "delivered", "driver_id": tenant.driver_id,
        "vehicle_id": delivery.vehicle_id, "hub_id": tenant.depot_id, "zone": "centro",
        "day": day.isoformat(), "created_at": None,
    }  # fmt: skip


def test_a_failed_attempt_may_be_rated(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A failed delivery can be rated too: the customer may tell how it went."""
    delivery = deliver(client, database, tenant, "out_for_delivery", "failed")
    rated = client.post(delivery.feedback, json={"rating": 2, "tags": ["wrong_place"]})
    assert rated.status_code == 201, rated.text
    with database.unit_of_work(readonly=True) as session:
        assert session.scalars(select(Feedback.order_status)).one().value == "failed"


def test_no_rating_before_the_delivery_ends(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Before delivered or failed the form says why not, and a rating is 409."""
    delivery = deliver(client, database, tenant, "out_for_delivery")
    form = client.get(delivery.feedback).json()
    assert form["can_rate"] is False
    assert "once it has been delivered" in form["reason"]
    before = row_counts(database)
    assert_problem(client.post(delivery.feedback, json=RATING), 409)
    assert row_counts(database) == before


def test_a_retried_rating_replays_with_its_idempotency_key(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """The same Idempotency-Key gives back the first answer; a new key is a second rating."""
    delivery = deliver(client, database, tenant)
    key = {"Idempotency-Key": "rate-once-7f3a"}
    first = client.post(delivery.feedback, json=RATING, headers=key)
    replay = client.post(delivery.feedback, json=RATING, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    with database.unit_of_work(readonly=True) as session:
        assert len(session.scalars(select(Feedback)).all()) == 1
    other = client.post(delivery.feedback, json=RATING, headers={"Idempotency-Key": "another"})
    assert_problem(other, 409)


def test_bad_ratings_are_refused_and_write_nothing(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Stars outside 1-5, unknown or repeated tags, long comments, unknown fields: 422."""
    delivery = deliver(client, database, tenant)
    before = row_counts(database)
    for body, field in [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "five"}, "rating"),
        ({}, "rating"),
        ({"rating": 3, "tags": ["rude"]}, "tags[0]"),
        ({"rating": 3, "tags": ["late", "late"]}, "tags"),
        ({"rating": 3, "comment": "x" * 1001}, "comment"),
        ({"rating": 3, "driver_id": "drv_x"}, "driver_id"),
    ]:
        assert_problem(client.post(delivery.feedback, json=body), 422, field)
    assert row_counts(database) == before


def test_unknown_revoked_and_expired_tokens(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Unknown token: 404; withdrawn or expired link: 410; nothing is stored."""
    delivery = deliver(client, database, tenant)
    before = row_counts(database)
    for url in ("/v1/self-service/" + "x" * 32 + "/feedback",):
        assert_problem(client.get(url), 404)
        assert_problem(client.post(url, json=RATING), 404)
    with database.unit_of_work() as session:
        session.execute(update(TrackingLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert_problem(client.get(delivery.feedback), 410)
    assert_problem(client.post(delivery.feedback, json=RATING), 410)
    revoked = deliver(client, database, tenant)
    links = client.get(
        f"/v1/orders/{revoked.order_id}/tracking-links", headers=tenant.headers("admin")
    ).json()
    client.delete(f"/v1/tracking-links/{links[0]['id']}", headers=tenant.headers("admin"))
    before = row_counts(database)
    assert_problem(client.post(revoked.feedback, json=RATING), 410)
    assert row_counts(database) == before


def test_who_may_read_an_orders_rating(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Staff and the order's merchant read it; another merchant or tenant: 404; drivers: 403."""
    delivery = deliver(client, database, tenant)
    url = f"/v1/orders/{delivery.order_id}/feedback"
    unrated = assert_problem(client.get(url, headers=tenant.headers("dispatcher")), 404)
    assert "not been rated" in unrated["detail"]
    client.post(delivery.feedback, json=RATING)
    for who in ("admin", "dispatcher", "merchant"):
        assert client.get(url, headers=tenant.headers(who)).status_code == 200, who
    assert_problem(client.get(url, headers=tenant.headers("merchant2")), 404)
    assert_problem(client.get(url, headers=other_tenant.headers("admin")), 404)
    assert_problem(client.get(url, headers=tenant.headers("driver")), 403)
