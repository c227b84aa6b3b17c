"""Whether a vehicle type could serve a stop on its own, and why not."""

from __future__ import annotations

from collections.abc import Sequence

from lastmile.routing.matrices import ProblemMatrices
from lastmile.routing.plan import UnassignedReason
from lastmile.routing.problem import VehicleType
from lastmile.routing.stops import Stop


def static_obstacle(stop: Stop, vehicle_type: VehicleType) -> UnassignedReason | None:
    """
    The first attribute that rules ``vehicle_type`` out for ``stop``, ignoring time and place.

    Checked in order: driver skills, payload limit, capacity.
    """
    if not stop.skills <= vehicle_type.skills:
        return UnassignedReason.SKILL
    load = stop.load
    if vehicle_type.max_payload_kg is not None and load.kg > vehicle_type.max_payload_kg + 1e-9:
        return UnassignedReason.PAYLOAD
    if not load.fits_in(vehicle_type.capacity):
        return UnassignedReason.CAPACITY
    return None


def _round_trip_obstacle(
    stop: Stop, vehicle_type: VehicleType, matrices: ProblemMatrices
) -> UnassignedReason | None:
    travel = matrices[vehicle_type.profile]
    start = matrices.depot_point[vehicle_type.depot_id]
    end = matrices.depot_point[vehicle_type.return_depot_id]
    here = matrices.job_point[stop.jobs[0].id]
    if vehicle_type.max_distance_m is not None:
        distance = travel.distance_m[start, here] + travel.distance_m[here, end]
        if distance > vehicle_type.max_distance_m:
            return UnassignedReason.RANGE

    breaks = sum(b.duration_s for b in vehicle_type.breaks)
    latest_return = vehicle_type.shift_end_s - breaks
    depart = max(vehicle_type.shift_start_s, stop.release_s)
    arrive = depart + int(travel.duration_s[start, here])
    back = int(travel.duration_s[here, end])
    if arrive + stop.service_s + back > latest_return:
        return UnassignedReason.SHIFT
    for window in stop.windows or ():
        begin = max(arrive, window.start_s)
        if begin <= window.end_s and begin + stop.service_s + back <= latest_return:
            return None
    return UnassignedReason.WINDOW if stop.windows else None


def diagnose_stop(
    stop: Stop,
    vehicle_types: Sequence[VehicleType],
    matrices: ProblemMatrices,
) -> tuple[UnassignedReason, str] | None:
    """
    Why no vehicle could serve ``stop`` even with an otherwise empty day, or None if one can.

    The reason reported is the furthest any vehicle type got through the checks (skills,
    payload, capacity, range, shift, window), so an order that only fails its window on the
    best-suited vehicle reports ``window`` rather than the ``skill`` of another vehicle.
    """
    stages = [
        UnassignedReason.SKILL,
        UnassignedReason.PAYLOAD,
        UnassignedReason.CAPACITY,
        UnassignedReason.RANGE,
        UnassignedReason.SHIFT,
        UnassignedReason.WINDOW,
    ]
    best = -1
    for vehicle_type in vehicle_types:
        if vehicle_type.count == 0:
            continue
        reason = static_obstacle(stop, vehicle_type)
        if reason is None:
            reason = _round_trip_obstacle(stop, vehicle_type, matrices)
        if reason is None:
            return None
        best = max(best, stages.index(reason))
    reason = stages[max(best, 0)]
    return reason, _DETAILS[reason]


_DETAILS = {
    UnassignedReason.SKILL: "no driver has the required skills",
    UnassignedReason.PAYLOAD: "heavier than every suitable vehicle's payload limit",
    UnassignedReason.CAPACITY: "larger than every suitable vehicle's capacity",
    UnassignedReason.RANGE: "round trip exceeds every suitable vehicle's range",
    UnassignedReason.SHIFT: "cannot be delivered and returned within any shift after release",
    UnassignedReason.WINDOW: "no suitable vehicle can arrive within any delivery window",
}
