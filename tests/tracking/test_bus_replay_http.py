"""A real bus journey (Limerick, 2,144 fixes, 36 stops) replayed through the OsmAnd endpoint."""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.eta import TrackingConfig
from lastmile.fleet.models import Depot
from lastmile.planning.models import RouteStop
from tests.factories import Tenant, make_tenant
from tests.tracking.builders import committed_route

DATA = Path(__file__).parent.parent / "data" / "gps_bus_limerick"
# A bus serves stops without parking: no dwell needed, tighter circles than a van's.
BUS = TrackingConfig(arrive_dwell_s=0.0, arrive_radius_m=40.0, depart_radius_m=60.0)
# Fixes are sent one per request, as the protocol does; the tracker runs once per minute of
# journey (as the debounced worker would), and each run's ETAs are recorded.
FIXES_PER_RUN = 30


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    k = math.cos(math.radians(a[0])) * 111_320
    return math.hypot((a[0] - b[0]) * 110_540, (a[1] - b[1]) * k)


@pytest.fixture
def bus_client(sqlite_database: Database, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(environment="test", data_dir=tmp_path, auto_migrate=False)
    app = create_app(settings, database=sqlite_database)
    with TestClient(app) as client:
        app.state.tracking.processor.config = BUS
        yield client


def test_bus_journey_fires_stops_in_order_and_etas_converge(
    bus_client: TestClient, sqlite_database: Database
) -> None:
    """Arrived/departed fire at the stops in order, and the ETA error near a stop is smaller
    than far from it."""
    db = sqlite_database
    tenant: Tenant = make_tenant(db, "Limerick Bus")
    with DATA.joinpath("fixes.csv").open() as f:
        raw = [(datetime.fromisoformat(r["t_iso"]), float(r["lat"]), float(r["lon"]))
               for r in csv.DictReader(f)]  # fmt: skip
    with DATA.joinpath("stops.csv").open() as f:
        stops = [(float(r["lat"]), float(r["lon"])) for r in csv.DictReader(f)]
    shift = datetime.now(UTC) - timedelta(minutes=2) - raw[-1][0]
    fixes = [(t + shift, lat, lon) for t, lat, lon in raw]
    with db.unit_of_work() as s:
        depot = s.get(Depot, tenant.depot_id)
        assert depot is not None
        depot.lat, depot.lon = fixes[0][1], fixes[0][2]
    # The plan: straight-line legs at 5 m/s, 20 s per stop, leaving with the first fix.
    legs = [metres((fixes[0][1], fixes[0][2]), stops[0]) / 5.0] + [
        metres(a, b) / 5.0 for a, b in itertools.pairwise(stops)
    ]
    route = committed_route(
        bus_client, db, tenant, stops, starts_at=fixes[0][0], leg_seconds=legs, service_s=20,
        window_h=3.0,
    )  # fmt: skip
    device = bus_client.post(
        "/v1/tracking-devices",
        json={"vehicle_id": route.vehicle_id, "name": "Bus 304 tracker"},
        headers=tenant.headers("dispatcher"),
    ).json()["identifier"]

    processor = bus_client.app.state.tracking.processor  # type: ignore[attr-defined]
    predictions: dict[str, list[tuple[float, float]]] = {s: [] for s in route.stop_ids}
    for i, (t, lat, lon) in enumerate(fixes):
        response = bus_client.get(
            "/v1/osmand",
            params={"id": device, "timestamp": int(t.timestamp()), "lat": lat, "lon": lon},
        )
        assert response.status_code == 200, response.text
        if i % FIXES_PER_RUN == FIXES_PER_RUN - 1 or i == len(fixes) - 1:
            processor.drain()
            with db.unit_of_work(readonly=True) as s:
                for stop in s.scalars(
                    select(RouteStop).where(RouteStop.route_id == route.route_id)
                ):
                    if stop.arrived_at is None and stop.eta_expected is not None:
                        predictions[stop.id].append((t.timestamp(), stop.eta_expected.timestamp()))

    with db.unit_of_work(readonly=True) as s:
        rows = list(
            s.scalars(
                select(RouteStop)
                .where(RouteStop.route_id == route.route_id)
                .order_by(RouteStop.position)
            )
        )
    arrived = [r for r in rows if r.arrived_at is not None]
    assert len(arrived) >= 34, f"only {len(arrived)} of 36 stops were detected"
    times = [r.arrived_at for r in arrived]
    assert times == sorted(times), "stops were arrived out of order"
    for r in arrived[:-1]:
        assert r.departed_at is not None
        assert r.arrived_at is not None
        assert r.departed_at >= r.arrived_at

    far, near = [], []
    for r in arrived:
        assert r.arrived_at is not None
        actual = r.arrived_at.timestamp()
        for at, predicted in predictions[r.id]:
            horizon = actual - at
            error = abs(predicted - actual)
            if 600 <= horizon <= 1800:
                far.append(error)
            elif 0 <= horizon <= 180:
                near.append(error)
    assert len(far) > 50
    assert len(near) > 20
    # Measured: 36/36 stops; mean error 56 s within 3 min of a stop, 405 s at 10-30 min.
    assert statistics.mean(near) < statistics.mean(far) / 3, (
        statistics.mean(near),
        statistics.mean(far),
    )
