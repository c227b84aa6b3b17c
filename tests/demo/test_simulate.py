"""The demo's simulated fleet: where a planned vehicle is, and driving a small city live."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.demo import generate_city, generate_orders
from lastmile.demo.city import live_day
from lastmile.demo.loader import (
    hand_route_to_login,
    issue_links,
    live_fleet,
    load_city,
    plan_day,
)
from lastmile.demo.simulate import (
    FleetSimulator,
    RoutePlan,
    SimStop,
    load_route_plans,
    positions_at,
    route_plan,
)
from lastmile.orders.models import Order
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus
from lastmile.planning.schemas import PlanRequest
from lastmile.planning.solve import SolveSettings
from lastmile.routing.geo import great_circle_m
from lastmile.services import Services
from lastmile.tracking.models import PositionFix

T0 = 1_800_000_000.0
DEPOT = (41.1500, -8.6100)
A = (41.1500, -8.6000)  # about 840 m east of the depot
B = (41.1590, -8.6000)  # about 1 km north of A


def line(*points: tuple[float, float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in points]}


def simple_plan(*, second_leg_s: float = 200.0) -> RoutePlan:
    """Depot -> A -> B -> depot: 100 s to A, 60 s there, ``second_leg_s`` to B, 60 s there."""
    a_arrival = T0 + 100
    b_arrival = a_arrival + 60 + second_leg_s
    stops = [
        SimStop("a", *A, a_arrival, a_arrival + 60, ("ord_a",)),
        SimStop("b", *B, b_arrival, b_arrival + 60, ("ord_b",)),
    ]
    return route_plan("rte", "veh", None, T0, b_arrival + 300, line(DEPOT, A, B, DEPOT), stops)


def test_positions_follow_the_plan() -> None:
    """The vehicle waits at the depot, drives each leg at its planned pace, parks on stops."""
    plan = simple_plan()
    before = positions_at(plan, T0 - 60)
    assert (before.lat, before.lon, before.phase) == (*DEPOT, "depot")
    halfway = positions_at(plan, T0 + 50)
    assert halfway.phase == "driving"
    assert halfway.stop_index == 0
    assert great_circle_m(halfway.lat, halfway.lon, *DEPOT) == pytest.approx(
        great_circle_m(*DEPOT, *A) / 2, rel=1e-3
    )
    assert halfway.speed_mps == pytest.approx(great_circle_m(*DEPOT, *A) / 100, rel=1e-3)
    assert halfway.heading_deg == pytest.approx(90.0, abs=1.0)  # due east
    at_stop = positions_at(plan, T0 + 130)
    assert (at_stop.lat, at_stop.lon, at_stop.phase, at_stop.speed_mps) == (*A, "stop", 0.0)
    home = positions_at(plan, plan.ends_at + 1)
    assert (home.lat, home.lon, home.phase) == (*DEPOT, "done")


def test_a_leg_with_idle_time_is_parked_first() -> None:
    """A leg planned far slower than the route's pace (a break) parks, then drives at pace."""
    plan = simple_plan(second_leg_s=200.0 + 1800.0)  # a 30-minute break before B
    leg = plan.legs[1]
    assert leg.moving_from > leg.start
    parked = positions_at(plan, leg.start + 600)
    assert (parked.lat, parked.lon, parked.phase, parked.speed_mps) == (*A, "parked", 0.0)
    moving = positions_at(plan, leg.end - 10)
    assert moving.phase == "driving"
    assert moving.speed_mps > 5


def test_geometry_through_a_stop_twice_keeps_the_visiting_order() -> None:
    """A route passing a stop's point before serving it still splits its legs in order."""
    stops = [
        SimStop("b", *B, T0 + 200, T0 + 260),
        SimStop("a", *A, T0 + 400, T0 + 460),
    ]
    plan = route_plan("r", "v", None, T0, T0 + 700, line(DEPOT, A, B, A, DEPOT), stops)
    assert plan.legs[0].points == (DEPOT, A, B)
    assert plan.legs[1].points == (B, A)
    assert plan.legs[2].points == (A, DEPOT)


class _RecordingIngest:
    def __init__(self) -> None:
        self.fixes: list[tuple[str, Any]] = []

    def record(self, session: Any, org: str, vehicle_id: str, fixes: list[Any], *a: Any,
               **k: Any) -> Any:  # fmt: skip
        self.fixes += [(vehicle_id, f) for f in fixes]
        return type("Result", (), {"accepted": len(fixes)})()


def _noise(db: Database, seed: int) -> list[tuple[str, Any]]:
    ingest = _RecordingIngest()
    tracking: Any = type("Runtime", (), {"ingest": ingest})()
    plans = [simple_plan()]
    sim = FleetSimulator(db, tracking, Services.from_settings(Settings()), "org", plans, seed=seed)
    for k in range(5):
        sim.tick(datetime.fromtimestamp(T0 + 5 * k, UTC))
    return ingest.fixes


def test_the_simulated_noise_is_repeatable_by_seed(sqlite_database: Database) -> None:
    """The same seed gives the same fixes; another seed, other noise within 15 m."""
    first, again, other = (_noise(sqlite_database, s) for s in (7, 7, 8))
    assert first == again
    assert first != other
    for (_, fix), (_, moved) in zip(first, other, strict=True):
        assert 5.0 <= fix.accuracy_m <= 15.0
        assert great_circle_m(fix.lat, fix.lon, moved.lat, moved.lon) <= 30.0


@pytest.fixture
def live_app(tmp_path: Path, sqlite_database: Database) -> Iterator[TestClient]:
    settings = Settings(
        environment="test", data_dir=tmp_path, auto_migrate=False, tracking_inline=True
    )
    with TestClient(create_app(settings, database=sqlite_database)) as client:
        yield client


def _far_from_neighbours(plan: RoutePlan, after: float) -> int:
    """A stop after ``after`` whose neighbours are far enough apart for clean geofences."""
    ends = plan.legs[0].points[0], plan.legs[-1].points[-1]
    points = [ends[0], *((s.lat, s.lon) for s in plan.stops), ends[1]]
    for k, stop in enumerate(plan.stops):
        near = [points[k], points[k + 2]]
        if stop.arrival > after and all(great_circle_m(stop.lat, stop.lon, *p) > 300 for p in near):
            return k
    raise AssertionError("no stop far from its neighbours")


def test_the_fleet_drives_a_small_city_and_delivers(
    live_app: TestClient, sqlite_database: Database, tmp_path: Path
) -> None:
    """Fixes are stored for moving vehicles, a stop is arrived at and left by geofence, and
    its orders (and those of stops passed before the simulator started) are delivered."""
    db, app = sqlite_database, live_app.app
    services: Services = app.state.services  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    service_date, day_start_h = live_day(now)
    city = generate_city(service_date, seed=3, drivers=6, lockers=5, day_start_h=day_start_h)
    city.orders = generate_orders(city, 30, seed=4, now=now)
    logins = load_city(db, services, city)
    request = PlanRequest(
        service_date=service_date, time_limit_s=1, seed=1,
        vehicle_ids=live_fleet(city, logins.vehicle_ids, 1), order_ids=logins.order_ids[:20],
    )  # fmt: skip
    solve = SolveSettings(None, tmp_path, workers=1)  # straight lines: no road graph to build
    plan_day(db, services, solve, logins.organization_id, request)
    plans = load_route_plans(db, logins.organization_id)
    assert len(plans) == 1
    plan = plans[0]

    # The simulator starts once the route has left two stops (a restart mid-route).
    clock = [datetime.fromtimestamp(plan.stops[1].departure + 1, UTC)]
    simulator = FleetSimulator(
        db, app.state.tracking, services, logins.organization_id, plans,  # type: ignore[attr-defined]
        seed=5, clock=lambda: clock[0],
    )  # fmt: skip
    reports = [simulator.tick()]  # catches up with the stops the plan has left already
    k = _far_from_neighbours(plan, clock[0].timestamp() + 120)
    stop = plan.stops[k]
    t = stop.arrival - 60
    while t < stop.departure + 120:
        clock[0] = datetime.fromtimestamp(t, UTC)
        reports.append(simulator.tick())
        t += 5

    with db.unit_of_work(readonly=True) as session:
        fixes = session.scalars(select(PositionFix).order_by(PositionFix.recorded_at)).all()
        served = session.get(RouteStop, stop.stop_id)
        route = session.get(Route, plan.route_id)
        status = {o.id: o.status for o in session.scalars(select(Order))}
    assert len(fixes) == sum(r.accepted for r in reports) == sum(r.fixes for r in reports)
    assert great_circle_m(fixes[0].lat, fixes[0].lon, fixes[-1].lat, fixes[-1].lon) > 200
    assert route is not None
    assert route.status is RouteStatus.in_progress
    assert served is not None
    assert served.status is StopStatus.departed
    assert served.arrived_at is not None
    assert served.departed_at is not None
    # The geofence saw it leave: after the planned departure (a confirmation would be at it).
    assert served.departed_at.timestamp() > stop.departure
    done = [o for s in plan.stops[: k + 1] for o in s.order_ids]
    ahead = [o for s in plan.stops[k + 1 :] for o in s.order_ids]
    assert {status[o] for o in done} == {OrderStatus.delivered}
    assert sum(r.delivered for r in reports) == len(done)
    assert {status[o] for o in ahead} <= {OrderStatus.out_for_delivery, OrderStatus.arriving}


def test_the_driver_login_gets_a_route_the_simulator_leaves_alone(
    live_app: TestClient, sqlite_database: Database, tmp_path: Path
) -> None:
    """The demo hands its busiest route to the driver login: /driver shows it, the simulated
    fleet and the tracking links leave it alone."""
    db, app = sqlite_database, live_app.app
    services: Services = app.state.services  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    service_date, day_start_h = live_day(now)
    city = generate_city(service_date, seed=3, drivers=6, lockers=5, day_start_h=day_start_h)
    city.orders = generate_orders(city, 30, seed=4, now=now)
    logins = load_city(db, services, city)
    request = PlanRequest(
        service_date=service_date, time_limit_s=1, seed=1,
        vehicle_ids=live_fleet(city, logins.vehicle_ids, 1), order_ids=logins.order_ids[:20],
    )  # fmt: skip
    plan_day(db, services, SolveSettings(None, tmp_path, workers=1), logins.organization_id,
             request)  # fmt: skip
    routes = [p.route_id for p in load_route_plans(db, logins.organization_id)]
    assert len(routes) == 1
    driver = logins.users["driver"]
    # Nothing ahead after the route's last stop: nothing to hand over.
    last = max(stop.departure for plan in load_route_plans(db, logins.organization_id)
               for stop in plan.stops)  # fmt: skip
    later = datetime.fromtimestamp(last + 60, UTC)
    assert hand_route_to_login(db, logins.organization_id, driver, after=later) is None
    handover = hand_route_to_login(db, logins.organization_id, driver, after=now)
    assert handover is not None
    assert handover.route_id == routes[0]
    assert handover.stops > 0
    # Tracking links go on the other routes only.
    links = issue_links(db, logins.organization_id, "http://x", timedelta(days=1), after=now,
                        skip=[handover.route_id])  # fmt: skip
    assert links == []
    token = live_app.post(
        "/v1/auth/token",
        json={"email": logins.users["driver"], "password": logins.password},
    ).json()["access_token"]
    today = live_app.get("/v1/driver/today", headers={"Authorization": f"Bearer {token}"}).json()
    assert [route["id"] for route in today["routes"]] == [handover.route_id]
    left = load_route_plans(db, logins.organization_id, leave=[handover.route_id])
    assert left == []
