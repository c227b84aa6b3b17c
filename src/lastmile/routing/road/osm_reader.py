"""Read the highway ways of an OpenStreetMap file into arc arrays (the only osmium user)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
from numpy.typing import NDArray

from lastmile.routing.geo import haversine_m
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.road.rules import RoadProfileRules

_RELEVANT_KEYS = (
    "highway", "oneway", "oneway:bicycle", "junction", "maxspeed", "access", "vehicle",
    "motor_vehicle", "motorcar", "bicycle", "cycleway", "area",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RoadArcs:
    """
    Directed road segments between OSM nodes, before deduplication.

    ``seconds[p]`` holds each arc's free-flow travel time for profile ``p`` and ``inf`` where
    the profile may not use the arc; nodes are numbered ``0..len(lat)-1``.
    """

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    length_m: NDArray[np.float64]
    seconds: Mapping[RoutingProfile, NDArray[np.float64]]


def read_road_arcs(pbf_path: Path, rules: Mapping[RoutingProfile, RoadProfileRules]) -> RoadArcs:
    """
    Parse ``pbf_path`` once and return every arc usable by at least one profile.

    Parameters
    ----------
    pbf_path
        OpenStreetMap file (``.osm.pbf`` or ``.osm``).
    rules
        Access and speed rules per road profile.
    """
    node_index: dict[int, int] = {}
    lats: list[float] = []
    lons: list[float] = []
    tails: list[int] = []
    heads: list[int] = []
    speeds: dict[RoutingProfile, list[float]] = {p: [] for p in rules}
    processor = (
        osmium.FileProcessor(str(pbf_path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = {k: way.tags[k] for k in _RELEVANT_KEYS if k in way.tags}
        access = {p: r.access(tags) for p, r in rules.items()}
        if all(a is None for a in access.values()):
            continue
        nodes = [n for n in way.nodes if n.location.valid()]
        ids = []
        for node in nodes:
            idx = node_index.setdefault(node.ref, len(lats))
            if idx == len(lats):
                lats.append(node.location.lat)
                lons.append(node.location.lon)
            ids.append(idx)
        for a, b in itertools.pairwise(ids):
            if a == b:
                continue
            for tail, head, forward in ((a, b, True), (b, a, False)):
                allowed = [
                    acc is not None and (acc.forward if forward else acc.backward)
                    for acc in access.values()
                ]
                if not any(allowed):
                    continue
                tails.append(tail)
                heads.append(head)
                for (profile, acc), ok in zip(access.items(), allowed, strict=True):
                    speeds[profile].append(acc.speed_kmh if ok and acc is not None else 0.0)

    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    tail_array = np.asarray(tails, dtype=np.int64)
    head_array = np.asarray(heads, dtype=np.int64)
    length = haversine_m(lat[tail_array], lon[tail_array], lat[head_array], lon[head_array])
    seconds = {}
    for profile, kmh in speeds.items():
        speed_ms = np.asarray(kmh, dtype=np.float64) / 3.6
        travel = np.full(len(length), np.inf)
        np.divide(length, speed_ms, out=travel, where=speed_ms > 0)
        seconds[profile] = travel
    return RoadArcs(
        lat=lat, lon=lon, tail=tail_array, head=head_array, length_m=length, seconds=seconds
    )
