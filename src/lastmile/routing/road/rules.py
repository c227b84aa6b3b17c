"""Which OSM ways a profile may use, in which direction, and how fast."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lastmile.routing.profiles import RoutingProfile

MPH_TO_KMH = 1.609344

_CAR_CLASS_KMH: Mapping[str, float] = {
    "motorway": 100, "motorway_link": 60, "trunk": 80, "trunk_link": 50,
    "primary": 55, "primary_link": 40, "secondary": 45, "secondary_link": 35,
    "tertiary": 40, "tertiary_link": 30, "unclassified": 30, "residential": 25,
    "living_street": 10, "service": 15, "road": 25,
}  # fmt: skip

_BIKE_CLASSES = frozenset(
    {
        "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
        "unclassified", "residential", "living_street", "service", "road", "cycleway",
        "track",
    }
)  # fmt: skip
_BIKE_IF_SIGNED = frozenset({"path", "footway", "pedestrian", "bridleway"})

_DENIED_ACCESS = frozenset({"no", "private", "agricultural", "forestry", "emergency"})

_IMPLICIT_MAXSPEED_KMH: Mapping[str, float] = {
    "urban": 50, "rural": 90, "motorway": 120, "trunk": 100, "living_street": 10,
    "walk": 7, "zone30": 30, "zone:30": 30, "bicycle_road": 30,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class WayAccess:
    """How one profile may travel along one way."""

    forward: bool
    backward: bool
    speed_kmh: float


@dataclass(frozen=True, slots=True)
class RoadProfileRules:
    """
    Access and speed rules of one road profile.

    Parameters
    ----------
    class_speed_kmh
        Free-flow speed per allowed ``highway`` class when the way has no usable maxspeed.
    max_speed_kmh
        The vehicle's own top speed.
    maxspeed_factor
        Share of the posted limit actually driven on average (junctions, lights, parking).
    motorised
        Whether motor-vehicle bans apply; otherwise bicycle tags do.
    flat_speed_kmh
        When set, every allowed way is travelled at this speed (cargo bikes).
    """

    class_speed_kmh: Mapping[str, float]
    max_speed_kmh: float
    maxspeed_factor: float = 0.8
    motorised: bool = True
    flat_speed_kmh: float | None = None
    signed_classes: frozenset[str] = field(default_factory=frozenset)

    def access(self, tags: Mapping[str, str]) -> WayAccess | None:
        """Directions and speed for a way with ``tags``, or None when it is off limits."""
        highway = tags.get("highway", "")
        if highway in self.signed_classes:
            if tags.get("bicycle") not in {"yes", "designated", "permissive"}:
                return None
        elif highway not in self.class_speed_kmh:
            return None
        if tags.get("area") == "yes" or not self._access_allowed(tags):
            return None
        forward, backward = self._directions(tags, highway)
        return WayAccess(forward=forward, backward=backward, speed_kmh=self._speed(tags, highway))

    def _access_allowed(self, tags: Mapping[str, str]) -> bool:
        keys = (
            ("access", "vehicle", "motor_vehicle", "motorcar")
            if self.motorised
            else ("access", "vehicle", "bicycle")
        )
        verdict = True
        for key in keys:  # later keys are more specific and override earlier ones
            value = tags.get(key)
            if value is not None:
                verdict = value not in _DENIED_ACCESS
        return verdict

    def _directions(self, tags: Mapping[str, str], highway: str) -> tuple[bool, bool]:
        oneway = tags.get("oneway", "")
        if not self.motorised:
            if tags.get("oneway:bicycle") == "no" or tags.get("cycleway", "").startswith(
                "opposite"
            ):
                return True, True
            oneway = tags.get("oneway:bicycle", oneway)
        if oneway in {"yes", "1", "true"}:
            return True, False
        if oneway == "-1":
            return False, True
        if oneway == "no":
            return True, True
        implied = highway in {"motorway", "motorway_link"} or tags.get("junction") in {
            "roundabout",
            "circular",
        }
        return True, not implied

    def _speed(self, tags: Mapping[str, str], highway: str) -> float:
        if self.flat_speed_kmh is not None:
            return self.flat_speed_kmh
        posted = parse_maxspeed_kmh(tags.get("maxspeed", ""))
        speed = self.class_speed_kmh[highway] if posted is None else posted * self.maxspeed_factor
        return max(1.0, min(speed, self.max_speed_kmh))


def parse_maxspeed_kmh(value: str) -> float | None:
    """
    Read an OSM ``maxspeed`` value in km/h: ``"50"``, ``"30 mph"``, ``"PT:urban"``...

    Returns None for missing, variable or unparseable values so the class default applies.
    """
    value = value.strip().lower()
    if not value or value in {"none", "signals", "variable"}:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?", value)
    if match:
        number = float(match.group(1))
        return number * MPH_TO_KMH if match.group(2) == "mph" else number
    implicit = value.split(":", 1)[-1] if ":" in value else value
    return _IMPLICIT_MAXSPEED_KMH.get(implicit)


DEFAULT_ROAD_RULES: Mapping[RoutingProfile, RoadProfileRules] = {
    RoutingProfile.CAR: RoadProfileRules(class_speed_kmh=_CAR_CLASS_KMH, max_speed_kmh=130),
    RoutingProfile.VAN: RoadProfileRules(
        class_speed_kmh={k: v * 0.9 for k, v in _CAR_CLASS_KMH.items()},
        max_speed_kmh=90,
        maxspeed_factor=0.75,
    ),
    RoutingProfile.CARGO_BIKE: RoadProfileRules(
        class_speed_kmh=dict.fromkeys(_BIKE_CLASSES, 15.0),
        max_speed_kmh=25,
        motorised=False,
        flat_speed_kmh=15.0,
        signed_classes=_BIKE_IF_SIGNED,
    ),
}
"""Rules for the road profiles; vans are a little slower than cars, bikes a flat 15 km/h."""
