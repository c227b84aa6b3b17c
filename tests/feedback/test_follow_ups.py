"""A low rating opens a follow-up that dispatch sees live, lists and resolves with a note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.live.channels import fleet_channel
from tests.factories import Tenant
from tests.feedback.conftest import deliver
from tests.helpers import assert_problem, row_counts
from tests.tracking.test_route_progress import collect


def open_follow_ups(client: TestClient, tenant: Tenant) -> list[dict[str, object]]:
    response = client.get("/v1/follow-ups?status=open", headers=tenant.headers("dispatcher"))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_low_rating_opens_a_follow_up_announced_live(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Two stars or fewer: an open follow-up, published on the fleet stream after commit."""
    delivery = deliver(client, database, tenant)
    low = {"rating": 1, "tags": ["damaged", "late"], "comment": "Box was crushed"}
    events = collect(
        client,
        [fleet_channel(tenant.organization_id)],
        lambda: client.post(delivery.feedback, json=low),
    )
    [follow_up] = open_follow_ups(client, tenant)
    assert follow_up["order_id"] == delivery.order_id
    assert follow_up["rating"] == 1
    assert follow_up["tags"] == ["damaged", "late"]
    assert follow_up["comment"] == "Box was crushed"
    assert follow_up["driver_id"] == tenant.driver_id
    assert follow_up["reason"] == "Rated 1 of 5"
    assert [(e.kind, e.data["id"], e.data["status"]) for e in events] == [
        ("follow_up", follow_up["id"], "open")]  # fmt: skip


def test_good_ratings_open_none(client: TestClient, database: Database, tenant: Tenant) -> None:
    """Three stars and more need no follow-up."""
    for stars in (3, 5):
        client.post(deliver(client, database, tenant).feedback, json={"rating": stars})
    assert open_follow_ups(client, tenant) == []


def test_resolving_closes_it_once(client: TestClient, database: Database, tenant: Tenant) -> None:
    """Resolve with a note: it leaves the open list, names who resolved it; again: 409."""
    delivery = deliver(client, database, tenant)
    client.post(delivery.feedback, json={"rating": 2})
    [follow_up] = open_follow_ups(client, tenant)
    url = f"/v1/follow-ups/{follow_up['id']}/resolve"
    headers = tenant.headers("dispatcher")
    before = row_counts(database)
    assert_problem(client.post(url, json={"note": "  "}, headers=headers), 422, "note")
    assert_problem(client.post(url, json={}, headers=headers), 422, "note")
    assert row_counts(database) == before

    events = collect(
        client,
        [fleet_channel(tenant.organization_id)],
        lambda: client.post(url, json={"note": "Called; sent a voucher"}, headers=headers),
    )
    resolved = client.get("/v1/follow-ups?status=resolved", headers=headers).json()["items"]
    assert [r["id"] for r in resolved] == [follow_up["id"]]
    assert resolved[0]["note"] == "Called; sent a voucher"
    assert resolved[0]["resolved_by"].startswith("user:")
    assert resolved[0]["resolved_at"] is not None
    assert [(e.kind, e.data["status"]) for e in events] == [("follow_up", "resolved")]
    assert open_follow_ups(client, tenant) == []
    again = client.post(url, json={"note": "Twice"}, headers=headers)
    assert "already resolved" in assert_problem(again, 409)["detail"]
    everything = client.get("/v1/follow-ups", headers=headers).json()["items"]
    assert [r["status"] for r in everything] == ["resolved"]


def test_follow_ups_are_for_staff_of_their_tenant(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Drivers and merchants get 403; another tenant's dispatcher cannot see or resolve it."""
    client.post(deliver(client, database, tenant).feedback, json={"rating": 1})
    [follow_up] = open_follow_ups(client, tenant)
    url = f"/v1/follow-ups/{follow_up['id']}/resolve"
    for who in ("driver", "merchant"):
        assert_problem(client.get("/v1/follow-ups", headers=tenant.headers(who)), 403)
        assert_problem(client.post(url, json={"note": "x"}, headers=tenant.headers(who)), 403)
    assert client.get("/v1/follow-ups", headers=other_tenant.headers("admin")).json() == {
        "items": [], "next_cursor": None}  # fmt: skip
    assert_problem(client.post(url, json={"note": "x"}, headers=other_tenant.headers("admin")), 404)
    assert_problem(client.get("/v1/follow-ups?status=closed", headers=tenant.headers("admin")),
                   422, "query.status")  # fmt: skip
    assert len(open_follow_ups(client, tenant)) == 1


@pytest.fixture
def lenient(tmp_path: Path, database: Database) -> Iterator[TestClient]:
    settings = Settings(
        environment="test", data_dir=tmp_path, auto_migrate=False, feedback_follow_up_max_rating=1
    )
    with TestClient(create_app(settings, database=database)) as client:
        yield client


def test_the_threshold_is_a_setting(
    lenient: TestClient, database: Database, tenant: Tenant
) -> None:
    """With feedback_follow_up_max_rating=1, two stars open nothing and one star does."""
    for stars in (2, 1):
        lenient.post(deliver(lenient, database, tenant).feedback, json={"rating": stars})
    assert [f["rating"] for f in open_follow_ups(lenient, tenant)] == [1]
