"""Screening of incoming GPS fixes (pure): what is stored, and why the rest is refused."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lastmile.routing.geo import great_circle_m


class Rejection(enum.StrEnum):
    """Why a fix was not stored. Every one is counted and reported to the sender."""

    not_a_number = "not_a_number"
    coordinates_out_of_range = "coordinates_out_of_range"
    in_future = "in_future"
    too_old = "too_old"
    teleport = "teleport"
    duplicate = "duplicate"


@dataclass(frozen=True, slots=True)
class IncomingFix:
    """A position report as received, before screening."""

    t: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class Anchor:
    """The last accepted fix of a vehicle, against which implied speed is checked."""

    t: datetime
    lat: float
    lon: float


@dataclass(frozen=True)
class FixRules:
    """Screening bounds.

    ``max_future`` tolerates phone clocks running a little fast; ``max_age`` lets a device
    upload what it buffered while offline for a working day, but not stale history.
    ``max_speed_kmh`` is far above any delivery vehicle (drones included) yet catches
    multipath jumps of kilometres. ``teleport_memory`` bounds how long a wrong anchor can
    make good fixes look like jumps: after that gap the implied-speed check starts afresh.
    """

    max_future: timedelta = timedelta(minutes=2)
    max_age: timedelta = timedelta(hours=24)
    max_speed_kmh: float = 250.0
    teleport_memory: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Refused:
    index: int
    reason: Rejection
    detail: str


@dataclass(frozen=True, slots=True)
class Screening:
    """Outcome for a batch: accepted fixes in time order (with their batch index), refusals."""

    accepted: list[tuple[int, IncomingFix]]
    refused: list[Refused]

    @property
    def newest(self) -> IncomingFix | None:
        return self.accepted[-1][1] if self.accepted else None


def _static_check(fix: IncomingFix, now: datetime, rules: FixRules) -> tuple[Rejection, str] | None:
    numbers = (fix.lat, fix.lon, fix.accuracy_m, fix.speed_mps, fix.heading_deg, fix.battery)
    if any(v is not None and not math.isfinite(v) for v in numbers):
        return Rejection.not_a_number, "a coordinate or reading is NaN or infinite"
    if not (-90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0):
        return (
            Rejection.coordinates_out_of_range,
            f"({fix.lat}, {fix.lon}) is not a latitude in [-90, 90] and longitude in [-180, 180]",
        )
    if fix.t.tzinfo is None:
        raise ValueError("fix timestamps must be timezone-aware")
    if fix.t > now + rules.max_future:
        return Rejection.in_future, f"timestamp {fix.t.isoformat()} is ahead of the server clock"
    if fix.t < now - rules.max_age:
        return Rejection.too_old, f"timestamp {fix.t.isoformat()} is older than {rules.max_age}"
    return None


def _implied_speed_kmh(a: Anchor, fix: IncomingFix) -> float:
    # Both readings may be off by their accuracy: only movement beyond that counts.
    slack = fix.accuracy_m or 0.0
    moved = max(0.0, great_circle_m(a.lat, a.lon, fix.lat, fix.lon) - slack)
    seconds = max(abs((fix.t - a.t).total_seconds()), 1.0)
    return moved / seconds * 3.6


def screen_fixes(
    fixes: Sequence[IncomingFix], anchor: Anchor | None, now: datetime, rules: FixRules
) -> Screening:
    """
    Screen a batch of one vehicle's fixes against the rules and its last accepted fix.

    Fixes are taken in time order, whatever order they came in. A fix at the same instant as
    the anchor or an earlier fix of the batch is a duplicate. A fix older than the anchor is
    kept (it completes the trace) but checked against the anchor for implied speed like any.

    Parameters
    ----------
    fixes
        The batch, in the order the sender gave it (indices in the result refer to it).
    anchor
        The vehicle's last accepted fix, if any.
    now
        The server clock.
    rules
        Bounds to apply.
    """
    refused: list[Refused] = []
    candidates: list[tuple[int, IncomingFix]] = []
    for index, fix in enumerate(fixes):
        problem = _static_check(fix, now, rules)
        if problem is None:
            candidates.append((index, fix))
        else:
            refused.append(Refused(index, *problem))
    candidates.sort(key=lambda item: item[1].t)

    accepted: list[tuple[int, IncomingFix]] = []
    seen = {anchor.t} if anchor else set()
    reference = anchor
    for index, fix in candidates:
        if fix.t in seen:
            refused.append(Refused(index, Rejection.duplicate, "a fix at this instant exists"))
            continue
        if reference is not None and abs(fix.t - reference.t) <= rules.teleport_memory:
            speed = _implied_speed_kmh(reference, fix)
            if speed > rules.max_speed_kmh:
                refused.append(
                    Refused(
                        index,
                        Rejection.teleport,
                        f"implies {speed:.0f} km/h since the fix at {reference.t.isoformat()}",
                    )
                )
                continue
        seen.add(fix.t)
        accepted.append((index, fix))
        if reference is None or fix.t > reference.t:
            reference = Anchor(fix.t, fix.lat, fix.lon)
    refused.sort(key=lambda r: r.index)
    return Screening(accepted=accepted, refused=refused)
