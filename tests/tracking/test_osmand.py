"""The OsmAnd / Traccar Client protocol, with requests shaped as those apps send them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.tracking.models import PositionFix
from lastmile.tracking.osmand import KNOT_MPS, ProtocolError, parse_query, parse_timestamp
from tests.factories import Tenant, vehicle_payload
from tests.helpers import assert_problem


@pytest.fixture
def device(client: TestClient, tenant: Tenant) -> dict[str, str]:
    headers = tenant.headers("dispatcher")
    vehicle = client.post("/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=headers)
    created = client.post(
        "/v1/tracking-devices",
        json={"vehicle_id": vehicle.json()["id"], "name": "Van 7 phone"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["osmand_url"].endswith("/v1/osmand")
    assert len(body["identifier"]) >= 20
    return {"vehicle_id": vehicle.json()["id"], "identifier": body["identifier"]}


def fixes(db: Database, vehicle_id: str) -> list[PositionFix]:
    with db.unit_of_work(readonly=True) as s:
        stmt = select(PositionFix).where(PositionFix.vehicle_id == vehicle_id)
        return list(s.scalars(stmt.order_by(PositionFix.recorded_at)))


def test_osmand_get_with_query_parameters(
    client: TestClient, database: Database, device: dict[str, str]
) -> None:
    """OsmAnd's GET (epoch seconds, knots, percent battery) is stored in our units."""
    ts = int(datetime.now(UTC).timestamp()) - 5
    response = client.get(
        f"/v1/osmand?id={device['identifier']}&timestamp={ts}&lat=41.15&lon=-8.61"
        "&speed=10&bearing=90&altitude=80&accuracy=12&batt=55"
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    (row,) = fixes(database, device["vehicle_id"])
    assert row.recorded_at == datetime.fromtimestamp(ts, UTC)
    assert row.speed_mps == pytest.approx(10 * KNOT_MPS)
    assert (row.heading_deg, row.accuracy_m, row.battery, row.source) == (90, 12, 0.55, "osmand")


def test_traccar_client_form_post_and_json_post(
    client: TestClient, database: Database, device: dict[str, str]
) -> None:
    """Traccar Client's form POST (deviceid, ms timestamp) and its 9.x JSON body both work."""
    ms = int(datetime.now(UTC).timestamp() * 1000) - 20_000
    form = client.post(
        "/v1/osmand",
        data={"deviceid": device["identifier"], "timestamp": str(ms), "lat": "41.151",
              "lon": "-8.611", "speed": "0.0", "bearing": "0.0", "batt": "80"},
    )  # fmt: skip
    assert form.status_code == 200, form.text
    assert form.json()["accepted"] == 1
    when = (datetime.now(UTC) - timedelta(seconds=10)).isoformat().replace("+00:00", "Z")
    body = {
        "device_id": device["identifier"],
        "location": {
            "timestamp": when,
            "coords": {"latitude": 41.152, "longitude": -8.612, "accuracy": 5, "speed": 3.5,
                       "heading": 180, "altitude": 70},
            "is_moving": True, "odometer": 1200, "event": "motionchange",
            "battery": {"level": 0.71, "is_charging": False}, "activity": {"type": "in_vehicle"},
            "extras": {},
        },
    }  # fmt: skip
    posted = client.post("/v1/osmand", json=body)
    assert posted.status_code == 200, posted.text
    assert posted.json()["accepted"] == 1
    rows = fixes(database, device["vehicle_id"])
    assert [r.lat for r in rows] == [41.151, 41.152]
    assert rows[1].speed_mps == 3.5
    assert rows[1].battery == 0.71


def test_bad_osmand_reports_are_explained(
    client: TestClient, database: Database, device: dict[str, str]
) -> None:
    """Unknown device 404; unreadable values 422 naming the field; a teleport is refused in
    the 200 answer (trackers retry anything else for ever) and not stored."""
    ident = device["identifier"]
    now = int(datetime.now(UTC).timestamp())
    assert_problem(client.get(f"/v1/osmand?id=nobody-0000&lat=41.1&lon=-8.6&timestamp={now}"), 404)
    assert_problem(client.get(f"/v1/osmand?id={ident}&lat=north&lon=-8.6"), 422, "lat")
    assert_problem(client.get("/v1/osmand?lat=41.1&lon=-8.6"), 422, "id")
    assert_problem(client.get(f"/v1/osmand?id={ident}&lat=41.1&lon=-8.6&timestamp=soon"), 422)
    client.get(f"/v1/osmand?id={ident}&lat=41.15&lon=-8.61&timestamp={now - 10}")
    jump = client.get(f"/v1/osmand?id={ident}&lat=48.85&lon=2.35&timestamp={now - 5}")
    assert jump.status_code == 200
    assert [r["reason"] for r in jump.json()["refused"]] == ["teleport"]
    nan = client.get(f"/v1/osmand?id={ident}&lat=nan&lon=-8.61&timestamp={now - 4}")
    assert [r["reason"] for r in nan.json()["refused"]] == ["not_a_number"]
    assert len(fixes(database, device["vehicle_id"])) == 1


def test_devices_are_tenant_scoped_and_deletable(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, device: dict[str, str]
) -> None:
    """Devices list only for their organisation; a deleted device can no longer report."""
    mine = client.get("/v1/tracking-devices", headers=tenant.headers("dispatcher")).json()
    assert [d["vehicle_id"] for d in mine] == [device["vehicle_id"]]
    assert "identifier" not in mine[0]
    assert client.get("/v1/tracking-devices", headers=other_tenant.headers("admin")).json() == []
    assert_problem(
        client.delete(
            f"/v1/tracking-devices/{mine[0]['id']}", headers=other_tenant.headers("admin")
        ),
        404,
    )
    gone = client.delete(f"/v1/tracking-devices/{mine[0]['id']}", headers=tenant.headers("admin"))
    assert gone.status_code == 204
    now = int(datetime.now(UTC).timestamp())
    assert_problem(
        client.get(f"/v1/osmand?id={device['identifier']}&lat=41.1&lon=-8.6&timestamp={now}"), 404
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700000000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-14 22:13:20", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-14T23:13:20+01:00", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(raw: str, expected: datetime) -> None:
    """Epoch seconds, epoch milliseconds, Traccar's space form and ISO 8601 all parse."""
    assert parse_timestamp(raw, datetime.now(UTC)) == expected


def test_location_parameter_and_missing_coordinates() -> None:
    """``location=lat,lon`` stands in for lat/lon; neither given is a protocol error."""
    now = datetime.now(UTC)
    report = parse_query({"id": "abc", "location": "41.1,-8.6"}, now)
    assert (report.fix.lat, report.fix.lon, report.fix.t) == (41.1, -8.6, now)
    with pytest.raises(ProtocolError):
        parse_query({"id": "abc"}, now)
