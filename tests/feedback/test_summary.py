"""Aggregates for the dashboard: per driver, hub, zone and day, within the caller's tenant."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from lastmile.feedback.models import Feedback, FeedbackTag, Tag
from lastmile.fleet.models import Depot, DepotKind, Driver
from lastmile.kit.ids import new_id
from lastmile.orders.status import OrderStatus
from tests.factories import Tenant, order_payload
from tests.helpers import assert_problem

D1 = date(2031, 5, 5)
D2, D3 = D1 + timedelta(days=1), D1 + timedelta(days=2)
A, B, HUB1, HUB2 = "driver A", "driver B", "hub 1", "hub 2"
# driver, hub, zone, day, rating, tags
RATINGS: list[tuple[str | None, str | None, str | None, date, int, list[str]]] = [
    (A, HUB1, "centro", D1, 5, ["on_time", "friendly"]),
    (A, HUB1, "centro", D1, 4, ["on_time"]),
    (A, HUB2, "norte", D2, 2, ["late"]),
    (B, HUB2, "norte", D2, 1, ["late", "damaged"]),
    (B, HUB1, None, D3, 3, []),
    (None, None, "centro", D3, 5, ["careful"]),
]


def seed(client: TestClient, db: Database, tenant: Tenant, rows: list[Any]) -> dict[str, str]:
    """Store ``rows`` as ratings of new orders; returns the ids standing for the names."""
    ids = {A: tenant.driver_id, HUB1: tenant.depot_id, B: new_id("drv"), HUB2: new_id("dep")}
    orders = []
    for _ in rows:
        created = client.post(
            "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
        )
        assert created.status_code == 201, created.text
        orders.append(created.json()["id"])
    org = tenant.organization_id
    with db.unit_of_work() as session:
        session.add(Driver(id=ids[B], organization_id=org, name="Rui Costa"))
        session.add(Depot(id=ids[HUB2], organization_id=org, name="North hub",
                          kind=DepotKind.hub, lat=41.17, lon=-8.6, opening_hours=[]))  # fmt: skip
        session.flush()  # before the ratings that name them
        for order_id, (driver, hub, zone, day, rating, tags) in zip(orders, rows, strict=True):
            session.add(
                Feedback(
                    id=new_id("fbk"), organization_id=org, order_id=order_id,
                    merchant_id=tenant.merchant_id, rating=rating,
                    order_status=OrderStatus.delivered, driver_id=ids.get(driver),
                    hub_id=ids.get(hub), zone=zone, day=day,
                    tags=[FeedbackTag(organization_id=org, tag=Tag(t)) for t in tags],
                )
            )  # fmt: skip
    return ids


def expected(rows: list[Any], column: int, ids: dict[str, str]) -> dict[Any, dict[str, Any]]:
    """The summary computed the slow way, keyed like the API (ids, zones, ISO days)."""
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        key = row[column]
        key = key.isoformat() if isinstance(key, date) else ids.get(key, key)
        groups[key].append(row)
    out = {}
    for key, members in groups.items():
        ratings = [m[4] for m in members]
        out[key] = {
            "count": len(ratings),
            "mean_rating": round(sum(ratings) / len(ratings), 2),
            "distribution": {str(s): ratings.count(s) for s in range(1, 6)},
            "tags": {t.value: sum(t.value in m[5] for m in members) for t in Tag},
        }
    return out


def summary(client: TestClient, tenant: Tenant, query: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/feedback/summary?{query}", headers=tenant.headers("dispatcher"))
    assert response.status_code == 200, response.text
    return list(response.json()["groups"])


@pytest.mark.parametrize(("group_by", "column"), [("driver", 0), ("hub", 1), ("zone", 2),
                                                    ("day", 3)])  # fmt: skip
def test_groups_count_mean_distribution_and_tags(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant,
    group_by: str, column: int,
) -> None:  # fmt: skip
    """Each group's numbers match the ratings; another tenant's ratings never count."""
    ids = seed(client, database, tenant, RATINGS)
    seed(client, database, other_tenant, [(A, HUB1, "centro", D1, 1, ["damaged"])])
    groups = summary(client, tenant, f"group_by={group_by}")
    assert {g["key"]: {k: g[k] for k in ("count", "mean_rating", "distribution", "tags")}
            for g in groups} == expected(RATINGS, column, ids)  # fmt: skip
    assert groups[-1]["key"] is None or group_by == "day"  # "no driver/hub/zone" comes last


def test_driver_groups_by_hand(client: TestClient, database: Database, tenant: Tenant) -> None:
    """Driver A: 3 ratings (5, 4, 2), mean 3.67; labelled with the driver's name."""
    ids = seed(client, database, tenant, RATINGS)
    groups = {g["key"]: g for g in summary(client, tenant, "group_by=driver")}
    a = groups[tenant.driver_id]
    assert a["label"] == "Dee River"
    assert (a["count"], a["mean_rating"]) == (3, 3.67)
    assert a["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert a["tags"]["on_time"] == 2
    assert a["tags"]["late"] == 1
    assert groups[ids[B]]["label"] == "Rui Costa"
    assert groups[None]["label"] is None
    hubs = {g["key"]: g["label"] for g in summary(client, tenant, "group_by=hub")}
    assert hubs[ids[HUB2]] == "North hub"


def test_days_filter_the_ratings(client: TestClient, database: Database, tenant: Tenant) -> None:
    """from and to are inclusive days; without them every day counts."""
    ids = seed(client, database, tenant, RATINGS)
    inside = [r for r in RATINGS if D2 <= r[3] <= D3]
    got = summary(client, tenant, f"group_by=zone&from={D2}&to={D3}")
    assert {g["key"]: g["count"] for g in got} == {
        k: v["count"] for k, v in expected(inside, 2, ids).items()}  # fmt: skip
    response = client.get(f"/v1/feedback/summary?from={D2}", headers=tenant.headers("admin"))
    assert response.json()["from"] == D2.isoformat()
    assert response.json()["group_by"] == "driver"
    assert sum(g["count"] for g in response.json()["groups"]) == 4
    assert summary(client, tenant, f"to={D1 - timedelta(days=1)}") == []


def test_bad_queries_and_callers(client: TestClient, tenant: Tenant) -> None:
    """Unknown grouping, reversed days, bad dates: 422; merchants and drivers: 403."""
    staff = tenant.headers("admin")
    for query, field in [
        ("group_by=merchant", "query.group_by"),
        (f"from={D2}&to={D1}", "query.to"),
        ("from=yesterday", "query.from"),
    ]:
        assert_problem(client.get(f"/v1/feedback/summary?{query}", headers=staff), 422, field)
    for who in ("merchant", "driver"):
        assert_problem(client.get("/v1/feedback/summary", headers=tenant.headers(who)), 403)
