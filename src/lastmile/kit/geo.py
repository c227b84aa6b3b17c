"""Geographic value types and distances."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, Field

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, examples=[41.1579])]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, examples=[-8.6291])]

EARTH_RADIUS_M = 6_371_008.8


class LatLon(BaseModel):
    """A WGS84 point."""

    lat: Latitude
    lon: Longitude


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
