"""Planning through the HTTP API: start a job, follow it, commit it into routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from tests.factories import Tenant, order_payload


@pytest.fixture
def planning_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    """An app whose searches run in a thread (no worker process start-up in tests)."""
    fast = settings.model_copy(update={"planning_in_process": True, "planning_workers": 1})
    with TestClient(create_app(fast, database=database)) as client:
        yield client


def _tomorrow() -> date:
    return datetime.now(UTC).date() + timedelta(days=1)


def _at(hour: int) -> str:
    day = _tomorrow()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


def _fleet(client: TestClient, tenant: Tenant, vans: int = 2) -> list[str]:
    """Vans at the tenant's depot, each with a driver on shift tomorrow; returns vehicle ids."""
    staff = tenant.headers("dispatcher")
    ids = []
    for i in range(vans):
        van = client.post("/v1/vehicles", headers=staff, json={
            "name": f"Van {i}", "type": "van", "home_depot_id": tenant.depot_id,
            "capacity_parcels": 50, "capacity_kg": 500, "capacity_litres": 3000,
            "cost_per_km": 0.3, "cost_per_hour": 20})  # fmt: skip
        assert van.status_code == 201, van.text
        ids.append(van.json()["id"])
        driver = client.post("/v1/drivers", headers=staff, json={
            "name": f"Driver {i}", "home_depot_id": tenant.depot_id,
            "skills": ["in_home"]}).json()  # fmt: skip
        shift = client.post("/v1/shifts", headers=staff, json={
            "driver_id": driver["id"], "starts_at": _at(7), "ends_at": _at(17),
            "breaks": [{"earliest_start": _at(11), "latest_end": _at(14),
                        "duration_minutes": 30}]})  # fmt: skip
        assert shift.status_code == 201, shift.text
    return ids


def _orders(client: TestClient, tenant: Tenant, n: int) -> list[str]:
    ids = []
    for i in range(n):
        body = order_payload(service_level="next_day", windows=[], service_date=str(_tomorrow()))
        body["address"] |= {"lat": 41.15 + 0.002 * (i % 7), "lon": -8.61 + 0.003 * (i % 5)}
        r = client.post("/v1/orders", json=body, headers=tenant.headers("merchant"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def _solve(client: TestClient, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    body = {"service_date": str(_tomorrow()), "time_limit_s": 1} | extra
    r = client.post("/v1/plans", json=body, headers=tenant.headers("dispatcher"))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    client.app.state.plan_runner.wait(60)  # type: ignore[attr-defined]
    got = client.get(f"/v1/plans/{r.json()['id']}", headers=tenant.headers("dispatcher"))
    plan: dict[str, Any] = got.json()
    assert plan["status"] == "succeeded", plan
    return plan


def test_plan_commit_dispatches_orders_to_drivers(
    planning_client: TestClient, tenant: Tenant
) -> None:
    """A solved plan commits into routes with stops; its orders become dispatched to a driver."""
    client = planning_client
    _fleet(client, tenant)
    order_ids = _orders(client, tenant, 12)
    plan = _solve(client, tenant)
    assert plan["summary"]["assigned"] == 12
    assert plan["progress"] == 1.0
    planned = [o for r in plan["result"]["routes"] for s in r["stops"] for o in s["order_ids"]]
    assert sorted(planned) == sorted(order_ids)
    committed = client.post(f"/v1/plans/{plan['id']}/commit", headers=tenant.headers("dispatcher"))
    assert committed.status_code == 200, committed.text
    assert committed.json()["status"] == "committed"
    order = client.get(f"/v1/orders/{order_ids[0]}", headers=tenant.headers("dispatcher")).json()
    assert order["status"] == "dispatched"
    assert order["route_id"]
    assert order["driver_id"]
    routes = client.get(
        "/v1/routes",
        params={"service_date": str(_tomorrow())},
        headers=tenant.headers("dispatcher"),
    ).json()["items"]
    assert sum(len(s["order_ids"]) for r in routes for s in r["stops"]) == 12
    history = client.get(f"/v1/orders/{order_ids[0]}/history", headers=tenant.headers("dispatcher"))
    assert [e["to_status"] for e in history.json()] == ["created", "planned", "dispatched"]
    again = client.post(f"/v1/plans/{plan['id']}/commit", headers=tenant.headers("dispatcher"))
    assert again.status_code == 409


def test_driver_sees_only_own_route(planning_client: TestClient, tenant: Tenant) -> None:
    """A driver's route list holds only routes assigned to that driver."""
    client = planning_client
    _fleet(client, tenant)
    _orders(client, tenant, 6)
    plan = _solve(client, tenant)
    client.post(f"/v1/plans/{plan['id']}/commit", headers=tenant.headers("dispatcher"))
    mine = client.get("/v1/routes", headers=tenant.headers("driver")).json()["items"]
    assert all(r["driver_id"] == tenant.driver_id for r in mine)


def test_commit_refused_when_orders_changed(planning_client: TestClient, tenant: Tenant) -> None:
    """An order cancelled after solving makes the commit a 409 that changes nothing."""
    client = planning_client
    _fleet(client, tenant)
    order_ids = _orders(client, tenant, 4)
    plan = _solve(client, tenant)
    client.post(f"/v1/orders/{order_ids[0]}/cancel", headers=tenant.headers("merchant"))
    r = client.post(f"/v1/plans/{plan['id']}/commit", headers=tenant.headers("dispatcher"))
    assert r.status_code == 409
    assert order_ids[0] in r.json()["detail"]
    other = client.get(f"/v1/orders/{order_ids[1]}", headers=tenant.headers("dispatcher")).json()
    assert other["status"] == "created"
    assert (
        client.get(f"/v1/plans/{plan['id']}", headers=tenant.headers("dispatcher")).json()["status"]
        == "succeeded"
    )


def test_events_stream_ends_with_done(planning_client: TestClient, tenant: Tenant) -> None:
    """The SSE stream of a finished plan sends one `done` event with its summary."""
    client = planning_client
    _fleet(client, tenant)
    _orders(client, tenant, 3)
    plan = _solve(client, tenant)
    with client.stream(
        "GET", f"/v1/plans/{plan['id']}/events", headers=tenant.headers("dispatcher")
    ) as stream:
        body = "".join(stream.iter_text())
    assert body.startswith("event: done")
    assert '"succeeded"' in body


@pytest.mark.parametrize(
    ("setup", "body", "field"),
    [
        ("no_vehicles", {}, "vehicle_ids"),
        ("fleet", {"depot_ids": ["dep_unknown"]}, "depot_ids"),
        ("fleet", {"service_date": "2020-01-01"}, "service_date"),
        ("fleet", {"vehicle_ids": ["veh_nope"]}, "vehicle_ids"),
        ("no_orders", {}, "order_ids"),
    ],
)
def test_bad_planning_requests_get_4xx_with_reason(
    planning_client: TestClient, tenant: Tenant, setup: str, body: dict[str, Any], field: str
) -> None:
    """Unplannable requests answer 422 naming the field and create no plan."""
    client = planning_client
    if setup != "no_vehicles":
        _fleet(client, tenant, vans=1)
    if setup != "no_orders":
        _orders(client, tenant, 2)
    r = client.post(
        "/v1/plans",
        json={"service_date": str(_tomorrow())} | body,
        headers=tenant.headers("dispatcher"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert client.get("/v1/plans", headers=tenant.headers("dispatcher")).json()["items"] == []


def _van_with_shift(client: TestClient, tenant: Tenant, start: int, end: int) -> str:
    """One van and a driver on shift tomorrow from ``start`` to ``end`` o'clock (UTC)."""
    staff = tenant.headers("dispatcher")
    van = client.post("/v1/vehicles", headers=staff, json={
        "name": "Early van", "type": "van", "home_depot_id": tenant.depot_id,
        "capacity_parcels": 50, "capacity_kg": 500, "capacity_litres": 3000,
        "cost_per_km": 0.3, "cost_per_hour": 20})  # fmt: skip
    assert van.status_code == 201, van.text
    driver = client.post("/v1/drivers", headers=staff, json={
        "name": "Early driver", "home_depot_id": tenant.depot_id}).json()  # fmt: skip
    shift = client.post("/v1/shifts", headers=staff, json={
        "driver_id": driver["id"], "starts_at": _at(start), "ends_at": _at(end)})  # fmt: skip
    assert shift.status_code == 201, shift.text
    return str(van.json()["id"])


def _set_windows(client: TestClient, tenant: Tenant, order_id: str, *hours: int) -> None:
    windows = [{"start": _at(h), "end": _at(h + 1)} for h in hours]
    r = client.patch(f"/v1/orders/{order_id}", json={"windows": windows},
                     headers=tenant.headers("dispatcher"))  # fmt: skip
    assert r.status_code == 200, r.text


@pytest.fixture
def midday(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Planning happens at noon (UTC) of the service day: the day is under way."""
    day = _tomorrow()
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    monkeypatch.setattr("lastmile.planning.service.utcnow", lambda: noon)
    return noon


def test_replanning_a_day_under_way_skips_what_is_over(
    planning_client: TestClient, tenant: Tenant, midday: datetime
) -> None:
    """Orders whose windows are all over are unassigned (`window`); ended shifts are not used."""
    client = planning_client
    live_van = _fleet(client, tenant, vans=1)[0]
    ended_van = _van_with_shift(client, tenant, 6, 11)
    over, fine, open_all_day = _orders(client, tenant, 3)
    _set_windows(client, tenant, over, 8, 10)
    _set_windows(client, tenant, fine, 9, 14)  # the 9-10 window is over, 14-15 is not
    plan = _solve(client, tenant)
    routes = plan["result"]["routes"]
    assert [r["vehicle_id"] for r in routes] == [live_van]
    assert ended_van not in {r["vehicle_id"] for r in routes}
    planned = {o for r in routes for s in r["stops"] for o in s["order_ids"]}
    assert planned == {fine, open_all_day}
    assert plan["result"]["unassigned"] == [
        {"order_id": over, "reason": "window", "detail": "all its delivery windows are over"}
    ]
    assert (plan["summary"]["orders"], plan["summary"]["assigned"]) == (3, 2)
    assert plan["summary"]["unassigned"] == 1
    stop = next(s for r in routes for s in r["stops"] if fine in s["order_ids"])
    assert datetime.fromisoformat(stop["service_start"]) >= datetime.fromisoformat(_at(14))


def test_replanning_with_every_shift_over_is_refused(
    planning_client: TestClient, tenant: Tenant, midday: datetime
) -> None:
    """When every shift of the day has ended there is no vehicle to plan with: 422."""
    client = planning_client
    _van_with_shift(client, tenant, 6, 11)
    _orders(client, tenant, 1)
    r = client.post(
        "/v1/plans", json={"service_date": str(_tomorrow())}, headers=tenant.headers("dispatcher")
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "vehicle_ids"


def test_planning_needs_staff(planning_client: TestClient, tenant: Tenant) -> None:
    """Drivers and merchants cannot start plans (403)."""
    for who in ("driver", "merchant"):
        r = planning_client.post(
            "/v1/plans", json={"service_date": str(_tomorrow())}, headers=tenant.headers(who)
        )
        assert r.status_code == 403


def test_plans_and_routes_are_invisible_to_other_tenants(
    planning_client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Another organization's staff and drivers get 404 on a plan, its events, commit and routes."""
    client = planning_client
    _fleet(client, tenant)
    _orders(client, tenant, 3)
    plan = _solve(client, tenant)
    client.post(f"/v1/plans/{plan['id']}/commit", headers=tenant.headers("dispatcher"))
    route_id = client.get("/v1/routes", headers=tenant.headers("dispatcher")).json()["items"][0][
        "id"
    ]
    for who in ("admin", "dispatcher"):
        headers = other_tenant.headers(who)
        assert client.get(f"/v1/plans/{plan['id']}", headers=headers).status_code == 404
        assert client.get(f"/v1/plans/{plan['id']}/events", headers=headers).status_code == 404
        assert client.post(f"/v1/plans/{plan['id']}/commit", headers=headers).status_code == 404
        assert client.get(f"/v1/routes/{route_id}", headers=headers).status_code == 404
        assert client.get("/v1/plans", headers=headers).json()["items"] == []
    assert (
        client.get(f"/v1/routes/{route_id}", headers=other_tenant.headers("driver")).status_code
        == 404
    )
