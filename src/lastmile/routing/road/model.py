"""Travel matrices and paths over an OpenStreetMap road network, via RoutingKit's CCH."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import routingkit_cch as rk
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from lastmile.routing.errors import UnsupportedProfile
from lastmile.routing.geo import Coordinate, as_arrays, project_xy_m
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.road.cache import cache_path, load_graph, save_graph
from lastmile.routing.road.graph import (
    DISTANCE_UNITS_PER_M,
    DURATION_UNITS_PER_S,
    RoadGraph,
    build_road_graph,
)
from lastmile.routing.road.osm_reader import read_road_arcs
from lastmile.routing.road.rules import DEFAULT_ROAD_RULES, RoadProfileRules
from lastmile.routing.travel import TravelMatrices, to_travel_matrices


class _Snapper:
    """Nearest graph node of a profile's largest component for arbitrary points."""

    def __init__(self, graph: RoadGraph, in_component: NDArray[np.bool_], ref_lat: float):
        self.nodes = np.flatnonzero(in_component)
        if self.nodes.size == 0:
            raise UnsupportedProfile("the road network has no usable roads for this profile")
        self._ref_lat = ref_lat
        xy = project_xy_m(graph.lat[self.nodes], graph.lon[self.nodes], ref_lat)
        self._tree = cKDTree(xy)

    def snap(self, points: Sequence[Coordinate]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        lat, lon = as_arrays(points)
        offset, idx = self._tree.query(project_xy_m(lat, lon, self._ref_lat))
        return self.nodes[idx].astype(np.int64), np.asarray(offset, dtype=np.float64)


class RoadNetworkModel:
    """
    Road-network travel model for the car, van and cargo-bike profiles.

    Points are snapped to the nearest node of the profile's largest strongly connected
    component; the straight "access" leg between a point and its node is added to both
    matrices at ``access_speed_kmh``. Durations are fastest-path times and distances are
    shortest-path lengths (two CCH metrics; see docs/routing.md). Departure time is ignored:
    wrap the model in :class:`~lastmile.routing.congestion.CongestedTravelModel` for traffic.

    Parameters
    ----------
    graph
        Prepared road graph, usually from :meth:`from_osm`.
    access_speed_kmh
        Speed on the access legs between points and the road network.
    """

    def __init__(self, graph: RoadGraph, access_speed_kmh: float = 10.0) -> None:
        self._graph = graph
        self._access_speed_ms = access_speed_kmh / 3.6
        self._ref_lat = float(np.mean(graph.lat)) if graph.node_count else 0.0
        self._cch = rk.CCH(graph.order.tolist(), graph.tail.tolist(), graph.head.tolist(), False)
        self._metrics: dict[tuple[RoutingProfile, str], rk.CCHMetric] = {}
        self._snappers: dict[RoutingProfile, _Snapper] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_osm(
        cls,
        pbf_path: Path,
        *,
        cache_dir: Path | None = None,
        rules: Mapping[RoutingProfile, RoadProfileRules] = DEFAULT_ROAD_RULES,
        access_speed_kmh: float = 10.0,
    ) -> RoadNetworkModel:
        """
        Build (or load from ``cache_dir``) the road graph of an OpenStreetMap file.

        Parameters
        ----------
        pbf_path
            OpenStreetMap extract (``.osm.pbf`` or ``.osm``).
        cache_dir
            Directory for the prepared graph; the first call writes it, later calls for the
            same file contents and rules load it in a fraction of the parse time.
        rules
            Access and speed rules per road profile.
        access_speed_kmh
            Speed on the legs between points and their nearest road node.
        """
        graph: RoadGraph | None = None
        cached = cache_path(cache_dir, pbf_path, rules) if cache_dir is not None else None
        if cached is not None and cached.exists():
            graph = load_graph(cached)
        if graph is None:
            graph = build_road_graph(read_road_arcs(pbf_path, rules))
            if cached is not None:
                save_graph(graph, cached)
        return cls(graph, access_speed_kmh=access_speed_kmh)

    @property
    def profiles(self) -> frozenset[RoutingProfile]:
        """Profiles this network can route."""
        return frozenset(self._graph.weights)

    def _metric(self, profile: RoutingProfile, kind: str) -> rk.CCHMetric:
        with self._lock:
            metric = self._metrics.get((profile, kind))
            if metric is None:
                weights = self._graph.weights[profile]
                values = weights.duration if kind == "duration" else weights.distance
                metric = rk.CCHMetric(self._cch, values.tolist())
                self._metrics[(profile, kind)] = metric
            return metric

    def _snapper(self, profile: RoutingProfile) -> _Snapper:
        if profile not in self._graph.weights:
            raise UnsupportedProfile(f"the road network has no {profile!s} profile")
        with self._lock:
            snapper = self._snappers.get(profile)
            if snapper is None:
                in_component = self._graph.weights[profile].in_component
                snapper = _Snapper(self._graph, in_component, self._ref_lat)
                self._snappers[profile] = snapper
            return snapper

    def snap(
        self, points: Sequence[Coordinate], profile: RoutingProfile
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Graph node of each point and the straight-line distance (m) to it."""
        return self._snapper(profile).snap(points)

    def _node_matrix(
        self, profile: RoutingProfile, kind: str, nodes: list[int]
    ) -> NDArray[np.float64]:
        query = rk.CCHOneToMany(self._metric(profile, kind), nodes)
        rows = [query.distances_from(node) for node in nodes]
        # None (unreachable) becomes NaN and then UNREACHABLE in to_travel_matrices.
        return np.asarray(rows, dtype=np.float64)

    def matrices(
        self, points: Sequence[Coordinate], profile: RoutingProfile, departure_s: int = 0
    ) -> TravelMatrices:
        """Road matrices between ``points``; see the class notes for conventions."""
        node, offset = self.snap(points, profile)
        unique, inverse = np.unique(node, return_inverse=True)
        nodes = unique.tolist()
        seconds = self._node_matrix(profile, "duration", nodes) / DURATION_UNITS_PER_S
        metres = self._node_matrix(profile, "distance", nodes) / DISTANCE_UNITS_PER_M
        access = offset[:, None] + offset[None, :]
        distance = metres[np.ix_(inverse, inverse)] + access
        duration = seconds[np.ix_(inverse, inverse)] + access / self._access_speed_ms
        return to_travel_matrices(distance, duration)

    def path(self, points: Sequence[Coordinate], profile: RoutingProfile) -> list[Coordinate]:
        """Fastest road path through ``points`` in order, as a list of coordinates."""
        if len(points) < 2:
            return list(points)
        node, _ = self.snap(points, profile)
        query = rk.CCHQuery(self._metric(profile, "duration"))
        line = [points[0]]
        for k in range(len(points) - 1):
            if node[k] != node[k + 1]:
                result = query.run(int(node[k]), int(node[k + 1]))
                via = result.node_path
                del result  # the binding refuses a new run while a result is alive
                line.extend(
                    Coordinate(float(self._graph.lat[v]), float(self._graph.lon[v])) for v in via
                )
            line.append(points[k + 1])
        return line
