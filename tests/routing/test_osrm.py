"""The OSRM adapter against a tiny fake OSRM server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from lastmile.routing import (
    UNREACHABLE,
    Coordinate,
    OsrmTravelModel,
    RoutingProfile,
    TravelModelError,
    UnsupportedProfile,
)
from lastmile.routing.geo import haversine_m

SPEED_MS = 10.0


class FakeOsrm(BaseHTTPRequestHandler):
    """Answers table and route requests with straight-line figures at 10 m/s."""

    requests: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """Serve /table/v1/... and /route/v1/...; profile 'broken' answers 400."""
        url = urlsplit(self.path)  # urlparse would cut the path at its semicolons
        FakeOsrm.requests.append(url.path)
        service, _, profile, coordinates = url.path.strip("/").split("/")
        if profile == "broken":
            self._reply(400, {"code": "InvalidQuery", "message": "broken profile"})
            return
        lonlat = np.asarray([[float(v) for v in c.split(",")] for c in coordinates.split(";")])
        if service == "route":
            self._reply(
                200, {"code": "Ok", "routes": [{"geometry": {"coordinates": lonlat.tolist()}}]}
            )
            return
        query = parse_qs(url.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        targets = [int(i) for i in query["destinations"][0].split(";")]
        lon, lat = lonlat[:, 0], lonlat[:, 1]
        metres = haversine_m(
            lat[sources][:, None], lon[sources][:, None], lat[targets], lon[targets]
        )
        distances: list[list[float | None]] = metres.tolist()
        if profile == "gappy":
            distances[0][-1] = None
        durations = [[None if d is None else d / SPEED_MS for d in row] for row in distances]
        self._reply(200, {"code": "Ok", "durations": durations, "distances": distances})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A fake OSRM on an ephemeral 127.0.0.1 port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsrm)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _points(count: int) -> list[Coordinate]:
    return [Coordinate(41.15 + 0.002 * i, -8.61 + 0.003 * (i % 3)) for i in range(count)]


def test_blocks_assemble_the_full_matrix(server: str) -> None:
    """A matrix larger than the server's table limit is assembled from blocks correctly."""
    points = _points(7)
    model = OsrmTravelModel(server, max_table_size=4)
    FakeOsrm.requests.clear()
    matrices = model.matrices(points, RoutingProfile.VAN)
    lat = np.asarray([p.lat for p in points])
    lon = np.asarray([p.lon for p in points])
    expected = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    assert np.abs(matrices.distance_m - expected).max() <= 1
    assert np.abs(matrices.duration_s - expected / SPEED_MS).max() <= 1
    assert len(FakeOsrm.requests) == 16
    assert all("/driving/" in r for r in FakeOsrm.requests)


def test_null_entries_become_unreachable(server: str) -> None:
    """Pairs OSRM cannot route (null) are reported as UNREACHABLE."""
    model = OsrmTravelModel(server, profiles={RoutingProfile.VAN: "gappy"})
    matrices = model.matrices(_points(3), RoutingProfile.VAN)
    assert matrices.duration_s[0, 2] == UNREACHABLE


def test_server_errors_raise_travel_model_error(server: str) -> None:
    """An OSRM error response becomes a TravelModelError naming the service."""
    model = OsrmTravelModel(server, profiles={RoutingProfile.VAN: "broken"})
    with pytest.raises(TravelModelError, match="table"):
        model.matrices(_points(2), RoutingProfile.VAN)


def test_unreachable_server_raises_travel_model_error() -> None:
    """A connection failure becomes a TravelModelError, not a transport exception."""
    model = OsrmTravelModel("http://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(TravelModelError):
        model.matrices(_points(2), RoutingProfile.VAN)


def test_unconfigured_profile_is_unsupported(server: str) -> None:
    """Drones have no OSRM profile by default."""
    with pytest.raises(UnsupportedProfile):
        OsrmTravelModel(server).matrices(_points(2), RoutingProfile.DRONE)


def test_path_comes_from_the_route_service(server: str) -> None:
    """Route geometry arrives as coordinates in lat/lon order, chunked by max_route_points."""
    points = _points(5)
    line = OsrmTravelModel(server, max_route_points=3).path(points, RoutingProfile.CARGO_BIKE)
    assert [(round(p.lat, 6), round(p.lon, 6)) for p in line] == [
        (round(p.lat, 6), round(p.lon, 6)) for p in points
    ]
