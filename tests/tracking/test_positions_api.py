"""The driver app's batch path: POST /v1/positions."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.tracking.models import PositionFix
from tests.factories import Tenant
from tests.helpers import assert_problem
from tests.tracking.builders import committed_route, iso

PORTO = [(41.1496, -8.6109), (41.1520, -8.6080), (41.1550, -8.6040)]


def fix(t: datetime, lat: float = 41.1496, lon: float = -8.6109, **extra: object) -> dict:
    return {"t": iso(t), "lat": lat, "lon": lon, "accuracy": 8.0} | extra


def stored(db: Database, vehicle_id: str) -> list[PositionFix]:
    with db.unit_of_work(readonly=True) as s:
        return list(
            s.scalars(
                select(PositionFix)
                .where(PositionFix.vehicle_id == vehicle_id)
                .order_by(PositionFix.recorded_at)
            )
        )


def test_driver_batch_is_stored_for_the_active_route_vehicle(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A driver's fixes land on their active route's vehicle, in time order, whatever order."""
    route = committed_route(client, database, tenant, PORTO)
    now = datetime.now(UTC)
    body = {"fixes": [fix(now - timedelta(seconds=s)) for s in (10, 30, 20)]}
    response = client.post("/v1/positions", json=body, headers=tenant.headers("driver"))
    assert response.status_code == 200, response.text
    assert response.json() == {"vehicle_id": route.vehicle_id, "accepted": 3, "refused": []}
    rows = stored(database, route.vehicle_id)
    assert [r.recorded_at for r in rows] == sorted(r.recorded_at for r in rows)
    assert len(rows) == 3
    assert rows[0].driver_id == tenant.driver_id


def test_duplicates_and_retries_store_nothing_twice(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A fix repeated in a batch, and a whole batch sent again, is reported as duplicate."""
    route = committed_route(client, database, tenant, PORTO)
    t = datetime.now(UTC) - timedelta(seconds=30)
    body = {"fixes": [fix(t), fix(t), fix(t + timedelta(seconds=5))]}
    first = client.post("/v1/positions", json=body, headers=tenant.headers("driver")).json()
    assert first["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in first["refused"]] == [(1, "duplicate")]
    again = client.post("/v1/positions", json=body, headers=tenant.headers("driver")).json()
    assert again["accepted"] == 0
    assert {r["reason"] for r in again["refused"]} == {"duplicate"}
    assert len(stored(database, route.vehicle_id)) == 2


def test_out_of_order_fix_completes_the_trace(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A late-arriving older fix is stored but does not move the vehicle's latest position."""
    route = committed_route(client, database, tenant, PORTO)
    now = datetime.now(UTC)
    post = lambda fixes: client.post(  # noqa: E731
        "/v1/positions", json={"fixes": fixes}, headers=tenant.headers("driver")
    )
    assert post([fix(now - timedelta(seconds=5), 41.1520, -8.6080)]).json()["accepted"] == 1
    assert post([fix(now - timedelta(seconds=60))]).json()["accepted"] == 1
    latest = client.get("/v1/fleet/positions", headers=tenant.headers("dispatcher")).json()
    assert [(p["vehicle_id"], p["lat"]) for p in latest] == [(route.vehicle_id, 41.1520)]
    assert len(stored(database, route.vehicle_id)) == 2


def test_each_bad_fix_is_refused_with_its_reason_and_the_rest_kept(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Out of range, NaN, future, too old and teleport fixes are refused one by one."""
    route = committed_route(client, database, tenant, PORTO)
    now = datetime.now(UTC)
    good = fix(now - timedelta(seconds=40))
    fixes = [
        good,
        fix(now - timedelta(seconds=39), lat=91.0),
        fix(now - timedelta(seconds=38), lon=-181.0),
        fix(now + timedelta(hours=1)),
        fix(now - timedelta(days=3)),
        # 10 km in 10 s: 3,600 km/h.
        fix(now - timedelta(seconds=30), lat=41.2396),
        fix(now - timedelta(seconds=20), lat=41.1497),
    ]
    response = client.post("/v1/positions", json={"fixes": fixes}, headers=tenant.headers("driver"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["accepted"] == 2
    reasons = {r["index"]: r["reason"] for r in report["refused"]}
    assert reasons == {
        1: "coordinates_out_of_range",
        2: "coordinates_out_of_range",
        3: "in_future",
        4: "too_old",
        5: "teleport",
    }
    assert all(r["detail"] for r in report["refused"])
    assert len(stored(database, route.vehicle_id)) == 2


def test_nan_is_refused_not_stored(client: TestClient, database: Database, tenant: Tenant) -> None:
    """A NaN coordinate (Python's JSON reader accepts the token) is refused as not_a_number."""
    route = committed_route(client, database, tenant, PORTO)
    t = iso(datetime.now(UTC))
    raw = f'{{"fixes": [{{"t": "{t}", "lat": NaN, "lon": -8.6}}]}}'
    response = client.post(
        "/v1/positions",
        content=raw,
        headers=tenant.headers("driver") | {"content-type": "application/json"},
    )
    if response.status_code == 422:  # a strict JSON parser refusing NaN is fine too
        assert_problem(response, 422)
    else:
        assert response.json()["refused"][0]["reason"] == "not_a_number"
    assert stored(database, route.vehicle_id) == []
    assert not any(math.isnan(r.lat) for r in stored(database, route.vehicle_id))


def test_malformed_batches_are_422_and_store_nothing(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A batch that cannot be read (naive time, text for a number, empty) is refused whole."""
    route = committed_route(client, database, tenant, PORTO)
    headers = tenant.headers("driver")
    naive = {"fixes": [{"t": "2026-01-01T10:00:00", "lat": 41.1, "lon": -8.6}]}
    assert_problem(client.post("/v1/positions", json=naive, headers=headers), 422, "fixes[0].t")
    text = {"fixes": [{"t": iso(datetime.now(UTC)), "lat": "north", "lon": -8.6}]}
    assert_problem(client.post("/v1/positions", json=text, headers=headers), 422, "fixes[0].lat")
    assert_problem(client.post("/v1/positions", json={"fixes": []}, headers=headers), 422)
    assert stored(database, route.vehicle_id) == []


def test_who_may_report(client: TestClient, database: Database, tenant: Tenant) -> None:
    """Merchants may not report; staff must name the vehicle; a driver without route must too."""
    body = {"fixes": [fix(datetime.now(UTC))]}
    assert_problem(client.post("/v1/positions", json=body, headers=tenant.headers("merchant")), 403)
    assert_problem(
        client.post("/v1/positions", json=body, headers=tenant.headers("dispatcher")), 409
    )
    assert_problem(client.post("/v1/positions", json=body, headers=tenant.headers("driver")), 409)
    route = committed_route(client, database, tenant, PORTO)
    staff = client.post(
        "/v1/positions",
        json=body | {"vehicle_id": route.vehicle_id},
        headers=tenant.headers("dispatcher"),
    )
    assert staff.status_code == 200
    assert staff.json()["accepted"] == 1


def test_rejections_are_counted_in_metrics(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Every refusal shows up in the Prometheus counter by source and reason."""
    committed_route(client, database, tenant, PORTO)

    def teleports() -> float:
        text = client.get("/metrics").text
        line = next(
            (x for x in text.splitlines()
             if x.startswith("lastmile_position_fixes_total") and 'outcome="teleport"' in x
             and 'source="app"' in x),
            None,
        )  # fmt: skip
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    before = teleports()
    now = datetime.now(UTC)
    body = {"fixes": [fix(now - timedelta(seconds=10)), fix(now, lat=42.0)]}
    client.post("/v1/positions", json=body, headers=tenant.headers("driver"))
    assert teleports() == before + 1


def test_trace_and_tenant_isolation(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Dispatchers read their vehicles' traces; another tenant sees neither trace nor position."""
    route = committed_route(client, database, tenant, PORTO)
    now = datetime.now(UTC)
    client.post("/v1/positions", json={"fixes": [fix(now)]}, headers=tenant.headers("driver"))
    trace = client.get(
        f"/v1/vehicles/{route.vehicle_id}/trace", headers=tenant.headers("dispatcher")
    )
    assert trace.status_code == 200
    assert len(trace.json()) == 1
    other = other_tenant.headers("dispatcher")
    assert_problem(client.get(f"/v1/vehicles/{route.vehicle_id}/trace", headers=other), 404)
    assert client.get("/v1/fleet/positions", headers=other).json() == []
    foreign = {"fixes": [fix(now)], "vehicle_id": route.vehicle_id}
    assert_problem(client.post("/v1/positions", json=foreign, headers=other), 404)
