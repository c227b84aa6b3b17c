"""A routable road graph: deduplicated arcs, per-profile weights, largest components."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import routingkit_cch as rk
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.road.osm_reader import RoadArcs

INF_WEIGHT = 2**31 - 1
"""RoutingKit's infinite arc weight: the arc does not exist for that metric."""

DURATION_UNITS_PER_S = 10
"""Arc durations are integer deciseconds so rounding errors stay negligible over long paths."""

DISTANCE_UNITS_PER_M = 10
"""Arc lengths are integer decimetres for the same reason."""


@dataclass(frozen=True, slots=True)
class ProfileWeights:
    """Integer arc weights of one profile; ``INF_WEIGHT`` marks arcs it cannot use."""

    duration: NDArray[np.int32]
    distance: NDArray[np.int32]
    in_component: NDArray[np.bool_]
    """Nodes of the profile's largest strongly connected component: the only snap targets."""


@dataclass(frozen=True, slots=True)
class RoadGraph:
    """
    Directed road graph shared by all road profiles, plus a CCH node order.

    One topology serves every profile: an arc a profile may not use carries an infinite
    weight in that profile's metrics, so a single (slow to compute) contraction order is
    reused by all of them.
    """

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    tail: NDArray[np.int32]
    head: NDArray[np.int32]
    weights: Mapping[RoutingProfile, ProfileWeights]
    order: NDArray[np.int32]

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return int(self.lat.shape[0])


def _to_weight(values: NDArray[np.float64], units: int) -> NDArray[np.int64]:
    out = np.full(values.shape, INF_WEIGHT, dtype=np.int64)
    finite = np.isfinite(values)
    # A zero weight would let CCH treat distinct nodes as the same place; 1 unit is harmless.
    out[finite] = np.maximum(1, np.rint(values[finite] * units)).astype(np.int64)
    return out


def _largest_component(
    node_count: int, tail: NDArray[np.int64], head: NDArray[np.int64], usable: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    if not usable.any():
        return np.zeros(node_count, dtype=bool)
    adjacency = csr_matrix(
        (np.ones(int(usable.sum()), dtype=np.int8), (tail[usable], head[usable])),
        shape=(node_count, node_count),
    )
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    return np.asarray(labels == int(np.argmax(np.bincount(labels))), dtype=bool)


def build_road_graph(arcs: RoadArcs) -> RoadGraph:
    """
    Turn raw arcs into a routable graph.

    Parallel arcs between the same two nodes are merged keeping the minimum weight per
    profile and metric (SciPy's sparse constructors would add them up instead). Each profile
    keeps only arcs inside its largest strongly connected component, so every snapped point
    can reach every other; nodes no profile can use are dropped.
    """
    n = arcs.lat.shape[0]
    keep = arcs.tail != arcs.head
    key = arcs.tail[keep] * n + arcs.head[keep]
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    tail = (key[starts] // n).astype(np.int64)
    head = (key[starts] % n).astype(np.int64)

    length = arcs.length_m[keep][order]
    merged: dict[RoutingProfile, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
    for profile, seconds in arcs.seconds.items():
        secs = seconds[keep][order]
        dur = np.minimum.reduceat(_to_weight(secs, DURATION_UNITS_PER_S), starts)
        usable_length = np.where(np.isfinite(secs), length, np.inf)
        dist = np.minimum.reduceat(_to_weight(usable_length, DISTANCE_UNITS_PER_M), starts)
        merged[profile] = (dur, dist)

    components = {
        p: _largest_component(n, tail, head, dur < INF_WEIGHT) for p, (dur, _) in merged.items()
    }
    for profile, (dur, dist) in merged.items():
        outside = ~(components[profile][tail] & components[profile][head])
        dur[outside] = INF_WEIGHT
        dist[outside] = INF_WEIGHT

    used_arc = np.zeros(tail.shape, dtype=bool)
    for dur, _ in merged.values():
        used_arc |= dur < INF_WEIGHT
    used_node = np.zeros(n, dtype=bool)
    used_node[tail[used_arc]] = True
    used_node[head[used_arc]] = True
    renumber = np.cumsum(used_node) - 1

    new_tail = renumber[tail[used_arc]].astype(np.int32)
    new_head = renumber[head[used_arc]].astype(np.int32)
    lat, lon = arcs.lat[used_node], arcs.lon[used_node]
    weights = {
        p: ProfileWeights(
            duration=dur[used_arc].astype(np.int32),
            distance=dist[used_arc].astype(np.int32),
            in_component=components[p][used_node],
        )
        for p, (dur, dist) in merged.items()
    }
    node_order = rk.compute_order_inertial(
        int(lat.shape[0]), new_tail.tolist(), new_head.tolist(), lat.tolist(), lon.tolist()
    )
    return RoadGraph(
        lat=lat,
        lon=lon,
        tail=new_tail,
        head=new_head,
        weights=weights,
        order=np.asarray(node_order, dtype=np.int32),
    )
