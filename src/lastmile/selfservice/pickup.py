"""Lockers and pick-up points a parcel can go to: near the address, open at the time, not full.

A compartment is taken by every order sent to the point for that day (whoever sent it there:
merchant, dispatcher or customer). :meth:`PickupPoints.reserve` counts under a row lock on the
point, so two redirects racing for the last compartment cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lastmile.db.repository import TenantScope
from lastmile.fleet.models import PickupPoint
from lastmile.kit.errors import Conflict, Unprocessable, field_error
from lastmile.kit.schedule import OpeningHours, is_open
from lastmile.routing.geo import great_circle_m
from lastmile.selfservice.repository import PickupPointUse


def opening_hours(point: PickupPoint) -> list[OpeningHours]:
    return [OpeningHours.model_validate(h) for h in point.opening_hours]


def open_between(hours: list[OpeningHours], start: datetime, end: datetime) -> bool:
    """Whether a place is open at some moment of ``[start, end)`` (local times), or at
    ``start`` when the two are equal. No hours means always open."""
    if not hours or start >= end:
        return is_open(hours, start)
    day = start.date()
    while day <= end.date():
        for h in hours:
            if h.weekday != day.weekday():
                continue
            opens = datetime.combine(day, h.opens, start.tzinfo)
            closes = datetime.combine(day, h.closes, start.tzinfo)
            if opens < end and start < closes:
                return True
        day += timedelta(days=1)
    return False


@dataclass(frozen=True, slots=True)
class PointChoice:
    """A point as offered to one order: how far, how many compartments left, open then."""

    point: PickupPoint
    distance_m: float
    free: int
    open: bool

    @property
    def reason(self) -> str | None:
        """Why the order cannot go there, or None when it can."""
        if self.free <= 0:
            return f"{self.point.name} is full that day."
        if not self.open:
            return f"{self.point.name} is closed at the delivery time."
        return None


class PickupPoints:
    """Availability of the scope's pick-up points for one order's day and time."""

    def __init__(self, session: Session, scope: TenantScope, timezone: ZoneInfo) -> None:
        self.use = PickupPointUse(session, scope)
        self.timezone = timezone

    def get(self, point_id: str) -> PickupPoint | None:
        return self.use.get(point_id)

    def _open(self, point: PickupPoint, day: date, when: tuple[datetime, datetime] | None) -> bool:
        if when is None:  # no window yet: open at some time that day
            start = datetime.combine(day, datetime.min.time(), self.timezone)
            when = (start, start + timedelta(days=1))
        start, end = (moment.astimezone(self.timezone) for moment in when)
        return open_between(opening_hours(point), start, end)

    def near(
        self, lat: float, lon: float, radius_m: float, day: date,
        when: tuple[datetime, datetime] | None, *, order_id: str,
    ) -> list[PointChoice]:  # fmt: skip
        """Active points within ``radius_m`` of (lat, lon), nearest first, as seen by the order
        ``order_id`` (its own compartment, if it has one, counts as free)."""
        points = [(p, great_circle_m(lat, lon, p.lat, p.lon)) for p in self.use.active()]
        close = sorted(((p, d) for p, d in points if d <= radius_m), key=lambda x: x[1])
        taken = self.use.taken([p.id for p, _ in close], day, besides=order_id)
        return [
            PointChoice(p, d, p.compartments - taken.get(p.id, 0), self._open(p, day, when))
            for p, d in close
        ]

    def reserve(
        self, point_id: str, day: date, when: tuple[datetime, datetime] | None, *, order_id: str
    ) -> PickupPoint:
        """Check that the order ``order_id`` may go to the point on ``day`` at ``when``.

        Holds the point's row lock until the transaction ends, so the caller's change of the
        order is counted before anyone else can count.

        Raises
        ------
        Unprocessable
            No active point with this id in the caller's scope.
        Conflict
            Every compartment is taken that day, or the point is closed at ``when``.
        """
        point = self.use.lock(point_id)
        if point is None or not point.active:
            raise Unprocessable(
                f"No pick-up point {point_id!r} to deliver to.",
                errors=[field_error(["pickup_point_id"], "unknown or not in service")],
            )
        reason = self.choice(point, day, when, order_id=order_id).reason
        if reason is not None:
            raise Conflict(reason)
        return point

    def choice(
        self, point: PickupPoint, day: date, when: tuple[datetime, datetime] | None, *,
        order_id: str,
    ) -> PointChoice:  # fmt: skip
        """The point as offered to the order ``order_id`` on ``day`` at ``when``."""
        taken = self.use.taken([point.id], day, besides=order_id).get(point.id, 0)
        return PointChoice(point, 0.0, point.compartments - taken, self._open(point, day, when))
