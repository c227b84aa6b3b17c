"""GeoJSON views of routes and plans, for map display."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lastmile.routing.geo import Coordinate
from lastmile.routing.plan import Plan


def line_string(points: Sequence[Coordinate]) -> dict[str, Any]:
    """A GeoJSON LineString through ``points`` (GeoJSON orders coordinates lon, lat)."""
    return {"type": "LineString", "coordinates": [[p.lon, p.lat] for p in points]}


def plan_feature_collection(plan: Plan) -> dict[str, Any]:
    """
    One Feature per route (its LineString) and per stop (a Point), with display properties.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection, ready for ``json.dumps`` and Leaflet.
    """
    features: list[dict[str, Any]] = []
    for r, route in enumerate(plan.routes):
        features.append(
            {
                "type": "Feature",
                "geometry": route.geometry,
                "properties": {
                    "route": r,
                    "vehicle_type_id": route.vehicle_type_id,
                    "vehicle_index": route.vehicle_index,
                    "distance_m": route.distance_m,
                    "start_s": route.start_s,
                    "end_s": route.end_s,
                },
            }
        )
        for v, visit in enumerate(route.visits):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [visit.location.lon, visit.location.lat],
                    },
                    "properties": {
                        "route": r,
                        "sequence": v + 1,
                        "kind": str(visit.kind),
                        "job_ids": list(visit.job_ids),
                        "arrival_s": visit.arrival_s,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}
