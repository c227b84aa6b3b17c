"""Coordinates and vectorised great-circle geometry."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class Coordinate:
    """A WGS84 point in decimal degrees."""

    lat: float
    lon: float


def as_arrays(points: Sequence[Coordinate]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Split points into latitude and longitude arrays (degrees)."""
    lat = np.fromiter((p.lat for p in points), dtype=np.float64, count=len(points))
    lon = np.fromiter((p.lon for p in points), dtype=np.float64, count=len(points))
    return lat, lon


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points (scalar: per-fix work, where a
    NumPy call would cost ten times as much)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_m(
    lat1: NDArray[np.float64],
    lon1: NDArray[np.float64],
    lat2: NDArray[np.float64],
    lon2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """
    Great-circle distance in metres, broadcasting over the inputs.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Coordinates in degrees; any shapes that broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in metres with the broadcast shape.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    distance: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return distance


def haversine_matrix_m(points: Sequence[Coordinate]) -> NDArray[np.float64]:
    """All-pairs great-circle distances (metres) between ``points``."""
    lat, lon = as_arrays(points)
    return haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def project_xy_m(
    lat: NDArray[np.float64], lon: NDArray[np.float64], ref_lat: float
) -> NDArray[np.float64]:
    """
    Equirectangular projection to metres around ``ref_lat``.

    Accurate to well under 1 % across a city, which is all nearest-neighbour snapping and
    clustering need; it keeps scipy's KD-tree in plain Euclidean space.
    """
    k = np.pi / 180 * EARTH_RADIUS_M
    return np.column_stack((lon * k * np.cos(np.radians(ref_lat)), lat * k))
