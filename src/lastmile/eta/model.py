"""Inputs and outputs of the ETA engine: fixes, planned stops, stop states and ETA windows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Fix:
    """
    One accepted GPS fix of the vehicle.

    Parameters
    ----------
    t
        UNIX seconds at which the position was measured.
    lat, lon
        WGS84 degrees.
    accuracy_m
        Reported horizontal accuracy (metres); widens the geofences a little, and fixes
        vaguer than ``TrackingConfig.max_accuracy_m`` move no geofence.
    speed_mps, heading_deg
        As reported; kept for callers, not used by the engine.
    """

    t: float
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None


@dataclass(frozen=True, slots=True)
class StopPlan:
    """
    One stop of a committed route, in planned visiting order.

    Parameters
    ----------
    stop_id
        Unique within the route.
    lat, lon
        Where the vehicle stops (WGS84 degrees).
    planned_arrival, planned_departure
        UNIX seconds from the plan.
    travel_s
        Planned driving seconds from the previous stop (or the route start) to this stop.
    method
        Delivery method key for dwell learning (``doorstep``, ``locker``, ``in_home`` ...).
    promised_start, promised_end
        The customer's promised window; arrivals predicted after ``promised_end`` are at risk.
    not_before
        The driver may not serve before this; waiting delays the following stops.
    """

    stop_id: str
    lat: float
    lon: float
    planned_arrival: float
    planned_departure: float
    travel_s: float
    method: str = "doorstep"
    promised_start: float | None = None
    promised_end: float | None = None
    not_before: float | None = None


class StopStatus(StrEnum):
    """Where a stop is in its visit; it only ever moves forward."""

    PENDING = "pending"
    ARRIVING = "arriving"
    ARRIVED = "arrived"
    DEPARTED = "departed"


@dataclass(frozen=True, slots=True)
class StopState:
    """
    The visit of one stop so far.

    ``arrived_at`` is when the vehicle entered the stop's zone (or the driver's confirmation),
    ``departed_at`` when it was first seen outside the wider departure zone.
    """

    status: StopStatus = StopStatus.PENDING
    arriving_at: float | None = None
    arrived_at: float | None = None
    departed_at: float | None = None
    manual_arrival: bool = False
    manual_departure: bool = False


@dataclass(frozen=True, slots=True)
class StopEta:
    """
    Predicted arrival at a stop not yet reached.

    Parameters
    ----------
    expected
        Median prediction (UNIX seconds); ``earliest <= expected <= latest``.
    earliest, latest
        The window's low and high quantiles (p10 and p90 by default).
    stops_before
        Stops the driver is expected to serve before this one, including one being served
        now (0: heading to it).
    at_risk
        Whether ``latest`` is after the stop's ``promised_end``; once set, it clears only when
        ``latest`` is back inside by ``TrackingConfig.at_risk_clear_margin_s``.
    """

    stop_id: str
    expected: float
    earliest: float
    latest: float
    stops_before: int
    at_risk: bool
