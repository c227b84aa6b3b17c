"""Plain input dataclasses of a planning problem; times are seconds from the plan's epoch."""

from __future__ import annotations

from dataclasses import dataclass

from lastmile.routing.geo import Coordinate
from lastmile.routing.profiles import RoutingProfile


@dataclass(frozen=True, slots=True)
class Load:
    """An amount in every capacity dimension: parcels, kilograms and litres."""

    parcels: int = 0
    kg: float = 0.0
    litres: float = 0.0

    def __add__(self, other: Load) -> Load:
        return Load(self.parcels + other.parcels, self.kg + other.kg, self.litres + other.litres)

    def fits_in(self, capacity: Load, tolerance: float = 1e-6) -> bool:
        """Whether this load stays within ``capacity`` in every dimension."""
        return not self.exceeded_dimensions(capacity, tolerance)

    def exceeded_dimensions(self, capacity: Load, tolerance: float = 1e-6) -> list[str]:
        """Names of the dimensions in which this load exceeds ``capacity``."""
        exceeded = []
        if self.parcels > capacity.parcels:
            exceeded.append("parcels")
        if self.kg > capacity.kg + tolerance:
            exceeded.append("kg")
        if self.litres > capacity.litres + tolerance:
            exceeded.append("litres")
        return exceeded


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Service must start within ``[start_s, end_s]``; arriving earlier means waiting."""

    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class Break:
    """A driver break of ``duration_s`` that must start within the given window."""

    earliest_start_s: int
    latest_start_s: int
    duration_s: int


@dataclass(frozen=True, slots=True)
class Depot:
    """A place vehicles start, end or reload at: a depot or a micro-hub."""

    id: str
    location: Coordinate


@dataclass(frozen=True, slots=True)
class VehicleType:
    """
    ``count`` identical vehicles (with their drivers) that share every attribute.

    Parameters
    ----------
    id
        Unique identifier; routes name it together with a vehicle index ``0..count-1``.
    depot_id
        Depot the vehicles start from (and end at, unless ``end_depot_id`` is set).
    capacity
        Most load on board at any time, per dimension.
    shift_start_s, shift_end_s
        Earliest departure and latest return, breaks included.
    count
        Number of such vehicles available.
    end_depot_id
        Depot the vehicles return to, when it differs from ``depot_id``.
    reload_depot_ids
        Depots or hubs where the vehicles may reload mid-shift (multi-trip routes).
    profile
        Routing profile; each profile gets its own travel matrices.
    fixed_cost, cost_per_km, cost_per_hour
        Cost of using a vehicle, per kilometre and per hour of route duration.
    max_distance_m
        Range limit of the whole route (battery range of an EV, drone range).
    max_payload_kg
        Heaviest delivery (total kg of one stop) the vehicle may carry, e.g. for drones.
    skills
        What the driver is qualified for, e.g. ``{"in_home", "age_check"}``.
    breaks
        Breaks the driver must take when the route is still running at their earliest start.
    co2_g_per_km
        Tank-to-wheel emissions per kilometre.
    energy_kwh_per_km
        Electricity use per kilometre, charged at the problem's grid factor.
    """

    id: str
    depot_id: str
    capacity: Load
    shift_start_s: int
    shift_end_s: int
    count: int = 1
    end_depot_id: str | None = None
    reload_depot_ids: tuple[str, ...] = ()
    profile: RoutingProfile = RoutingProfile.VAN
    fixed_cost: float = 0.0
    cost_per_km: float = 0.3
    cost_per_hour: float = 25.0
    max_distance_m: int | None = None
    max_payload_kg: float | None = None
    skills: frozenset[str] = frozenset()
    breaks: tuple[Break, ...] = ()
    co2_g_per_km: float = 0.0
    energy_kwh_per_km: float = 0.0

    @property
    def return_depot_id(self) -> str:
        """Depot the vehicles end their routes at."""
        return self.end_depot_id or self.depot_id


@dataclass(frozen=True, slots=True)
class Job:
    """
    One order to deliver.

    Parameters
    ----------
    id
        Unique identifier.
    location
        Where the delivery happens.
    load
        Space the order takes on the vehicle.
    service_s
        Handling time of this order at its stop.
    setup_s
        Time spent once per stop (parking, walking to the door or locker); when orders share a
        stop the stop takes the largest setup plus the sum of the service times.
    windows
        Alternative delivery windows (any one will do); empty means any time during the shift.
    release_s
        When the order is ready at the depot (same-day orders); vehicles leave with it later.
    skills
        Driver qualifications the delivery requires (in-home, age check...).
    priority
        Higher goes first when not everything fits; each level is worth
        ``PlanningOptions.priority_factor`` times the one below.
    stop_key
        Orders with the same key (a locker, an address) and the same windows share one stop.
    """

    id: str
    location: Coordinate
    load: Load = Load(parcels=1)
    service_s: int = 0
    setup_s: int = 0
    windows: tuple[TimeWindow, ...] = ()
    release_s: int = 0
    skills: frozenset[str] = frozenset()
    priority: int = 0
    stop_key: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """
    Everything one plan is computed from.

    Parameters
    ----------
    depots, vehicle_types, jobs
        The network, the fleet and the orders.
    now_s
        The present: windows that end before it are rejected as being in the past.
    time_of_day_at_epoch_s
        Local time of day at the epoch (seconds after midnight), for congestion profiles.
    grid_co2_g_per_kwh
        Emission factor of the electricity EVs charge with.
    """

    depots: tuple[Depot, ...]
    vehicle_types: tuple[VehicleType, ...]
    jobs: tuple[Job, ...]
    now_s: int = 0
    time_of_day_at_epoch_s: int = 0
    grid_co2_g_per_kwh: float = 229.0


@dataclass(frozen=True, slots=True)
class PlanningOptions:
    """
    Tuning of the objective, passed as data.

    Parameters
    ----------
    unassigned_cost
        Cost (currency units) of leaving one priority-0 order undelivered; it must dwarf the
        cost of a detour so that orders are only dropped when they truly do not fit.
    priority_factor
        How many orders of one priority level are worth one order of the next level.
    allow_unassigned
        When False every order must be planned (benchmarks); the search may then fail to
        find a feasible plan and leave orders unassigned anyway.
    merge_stops
        Merge orders that share ``stop_key`` and windows into one stop.
    num_neighbours
        Size of the granular neighbourhood of the local search (PyVRP's default).
    """

    unassigned_cost: float = 1_000.0
    priority_factor: float = 10.0
    allow_unassigned: bool = True
    merge_stops: bool = True
    num_neighbours: int = 50
