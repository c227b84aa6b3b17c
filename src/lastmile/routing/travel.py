"""The travel-model protocol: distances and durations between points, per profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from lastmile.routing.errors import UnsupportedProfile
from lastmile.routing.geo import Coordinate
from lastmile.routing.profiles import RoutingProfile

UNREACHABLE = 1_000_000_000
"""Matrix value (metres or seconds) for pairs with no path; large, yet safe to add up."""


@dataclass(frozen=True, slots=True)
class TravelMatrices:
    """
    Square travel matrices over a list of points.

    ``distance_m[i, j]`` is the road distance in whole metres and ``duration_s[i, j]`` the
    travel time in whole seconds from point ``i`` to point ``j``; pairs without a path hold
    :data:`UNREACHABLE`. The diagonal is zero.
    """

    distance_m: NDArray[np.int64]
    duration_s: NDArray[np.int64]

    def __post_init__(self) -> None:
        n = self.distance_m.shape[0]
        if self.distance_m.shape != (n, n) or self.duration_s.shape != (n, n):
            raise ValueError("travel matrices must be square and of equal shape")

    @property
    def size(self) -> int:
        """Number of points the matrices cover."""
        return int(self.distance_m.shape[0])


def to_travel_matrices(
    distance_m: NDArray[np.floating] | NDArray[np.integer],
    duration_s: NDArray[np.floating] | NDArray[np.integer],
) -> TravelMatrices:
    """Round float matrices to whole units, mapping non-finite entries to UNREACHABLE."""

    def whole(values: NDArray[np.floating] | NDArray[np.integer]) -> NDArray[np.int64]:
        as_float = np.asarray(values, dtype=np.float64)
        out = np.full(as_float.shape, UNREACHABLE, dtype=np.int64)
        ok = np.isfinite(as_float) & (as_float < UNREACHABLE)
        out[ok] = np.rint(as_float[ok]).astype(np.int64)
        np.fill_diagonal(out, 0)
        return out

    return TravelMatrices(distance_m=whole(distance_m), duration_s=whole(duration_s))


class TravelModel(Protocol):
    """
    Source of travel matrices and drawable paths for one or more routing profiles.

    Implementations: :class:`~lastmile.routing.road.RoadNetworkModel` (OpenStreetMap),
    :class:`~lastmile.routing.haversine.HaversineModel` (straight line, zero data),
    :class:`~lastmile.routing.osrm.OsrmTravelModel` (external engine), and the wrappers
    :class:`~lastmile.routing.congestion.CongestedTravelModel` and :class:`TravelModelByProfile`.
    """

    def matrices(
        self, points: Sequence[Coordinate], profile: RoutingProfile, departure_s: int = 0
    ) -> TravelMatrices:
        """
        Distance and duration matrices between ``points``.

        Parameters
        ----------
        points
            Locations, in matrix order.
        profile
            Routing profile to travel with.
        departure_s
            Departure time as seconds since local midnight; only time-dependent models use it.

        Raises
        ------
        UnsupportedProfile
            When the model has no data for ``profile``.
        """
        ...

    def path(self, points: Sequence[Coordinate], profile: RoutingProfile) -> list[Coordinate]:
        """Polyline that visits ``points`` in order, along the network where there is one."""
        ...


class TravelModelByProfile:
    """
    Routes each profile to its own travel model, e.g. drones to a straight-line model.

    Parameters
    ----------
    models
        Model to use for each profile it names.
    fallback
        Model for profiles not in ``models``; without one they raise UnsupportedProfile.
    """

    def __init__(
        self,
        models: Mapping[RoutingProfile, TravelModel],
        fallback: TravelModel | None = None,
    ) -> None:
        self._models = dict(models)
        self._fallback = fallback

    def _model(self, profile: RoutingProfile) -> TravelModel:
        model = self._models.get(profile, self._fallback)
        if model is None:
            raise UnsupportedProfile(f"no travel model for profile {profile!s}")
        return model

    def matrices(
        self, points: Sequence[Coordinate], profile: RoutingProfile, departure_s: int = 0
    ) -> TravelMatrices:
        """Delegate to the model responsible for ``profile``."""
        return self._model(profile).matrices(points, profile, departure_s)

    def path(self, points: Sequence[Coordinate], profile: RoutingProfile) -> list[Coordinate]:
        """Delegate to the model responsible for ``profile``."""
        return self._model(profile).path(points, profile)
