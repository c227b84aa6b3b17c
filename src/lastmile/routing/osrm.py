"""Adapter for an external OSRM server (its table and route services)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lastmile.routing.errors import TravelModelError, UnsupportedProfile
from lastmile.routing.geo import Coordinate
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.travel import TravelMatrices, to_travel_matrices

if TYPE_CHECKING:
    import httpx

DEFAULT_OSRM_PROFILES: Mapping[RoutingProfile, str] = {
    RoutingProfile.CAR: "driving",
    RoutingProfile.VAN: "driving",
    RoutingProfile.CARGO_BIKE: "cycling",
}


class OsrmTravelModel:
    """
    Travel matrices and paths from an OSRM server's HTTP API.

    Large matrices are assembled from blocks so that no request exceeds the server's
    ``--max-table-size``. ``httpx`` is imported only when no client is passed in, which keeps
    the routing core free of network code until an adapter is actually used.

    Parameters
    ----------
    base_url
        Server root, e.g. ``"http://osrm:5000"``.
    profiles
        OSRM profile name for each routing profile served.
    client
        HTTP client to use (and to close); a new one is created when omitted.
    max_table_size
        The server's limit on coordinates per table request.
    max_route_points
        Coordinates per route request when fetching paths.
    """

    def __init__(
        self,
        base_url: str,
        *,
        profiles: Mapping[RoutingProfile, str] = DEFAULT_OSRM_PROFILES,
        client: httpx.Client | None = None,
        max_table_size: int = 100,
        max_route_points: int = 100,
        timeout_s: float = 30.0,
    ) -> None:
        if client is None:
            import httpx

            client = httpx.Client(timeout=timeout_s)
        self._client = client
        self._base = base_url.rstrip("/")
        self._profiles = dict(profiles)
        self._block = max(1, max_table_size // 2)
        self._route_points = max(2, max_route_points)

    def _profile(self, profile: RoutingProfile) -> str:
        name = self._profiles.get(profile)
        if name is None:
            raise UnsupportedProfile(f"no OSRM profile configured for {profile!s}")
        return name

    def _get(self, service: str, profile: str, points: Sequence[Coordinate], **params: str) -> Any:
        coordinates = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in points)
        url = f"{self._base}/{service}/v1/{profile}/{coordinates}"
        import httpx  # already loaded: the client is an httpx.Client

        try:
            response = self._client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise TravelModelError(f"OSRM request failed: {exc}") from exc
        body = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        if response.status_code != 200 or body.get("code") != "Ok":
            message = body.get("message", response.text[:200])
            raise TravelModelError(f"OSRM {service} returned {response.status_code}: {message}")
        return body

    def matrices(
        self, points: Sequence[Coordinate], profile: RoutingProfile, departure_s: int = 0
    ) -> TravelMatrices:
        """Table-service matrices; unreachable pairs (null) become UNREACHABLE."""
        name = self._profile(profile)
        n = len(points)
        distance = np.full((n, n), np.nan)
        duration = np.full((n, n), np.nan)
        blocks = [range(i, min(i + self._block, n)) for i in range(0, n, self._block)]
        for sources in blocks:
            for targets in blocks:
                merged = list(sources) if sources == targets else [*sources, *targets]
                src = ";".join(str(i) for i in range(len(sources)))
                offset = 0 if sources == targets else len(sources)
                dst = ";".join(str(offset + j) for j in range(len(targets)))
                body = self._get(
                    "table",
                    name,
                    [points[i] for i in merged],
                    annotations="duration,distance",
                    sources=src,
                    destinations=dst,
                )
                rows = slice(sources.start, sources.stop)
                cols = slice(targets.start, targets.stop)
                duration[rows, cols] = np.asarray(body["durations"], dtype=np.float64)
                distance[rows, cols] = np.asarray(body["distances"], dtype=np.float64)
        return to_travel_matrices(distance, duration)

    def path(self, points: Sequence[Coordinate], profile: RoutingProfile) -> list[Coordinate]:
        """Route-service geometry through ``points``, in chunks of ``max_route_points``."""
        name = self._profile(profile)
        if len(points) < 2:
            return list(points)
        line: list[Coordinate] = []
        step = self._route_points - 1
        for first in range(0, len(points) - 1, step):
            chunk = points[first : first + self._route_points]
            body = self._get("route", name, chunk, overview="full", geometries="geojson")
            coordinates = body["routes"][0]["geometry"]["coordinates"]
            if line:  # each chunk starts where the previous one ended
                coordinates = coordinates[1:]
            line.extend(Coordinate(lat=float(lat), lon=float(lon)) for lon, lat in coordinates)
        return line
