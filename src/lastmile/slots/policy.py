"""An organization's slot policy: the window grid, cut-offs, capacity and price hints.

Stored as one validated JSON document per organization (``SlotPolicy.rules``) and sent and
read as the same shape by ``/v1/slot-policy``. Defaults follow DOMAIN.md: attended deliveries
are offered in 1-2 h windows, here 2 h from 08:00 to 20:00 local time, a week ahead.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lastmile.orders.models import ServiceLevel
from lastmile.orders.schemas import Currency


class SlotReason(enum.StrEnum):
    """Why a window cannot be booked."""

    full = "full"
    cut_off = "cut_off"
    no_vehicle_can_reach = "no_vehicle_can_reach"
    outside_service_area = "outside_service_area"
    too_heavy = "too_heavy"


def _money(default: str) -> Decimal:
    return Field(default=Decimal(default), ge=0, le=Decimal("10000"), decimal_places=2)


class SlotPolicyRules(BaseModel):
    """What an organization offers: windows, how many bookings each takes, when they close."""

    model_config = ConfigDict(extra="forbid")

    window_minutes: int = Field(default=120, ge=30, le=720, multiple_of=15)
    day_start: time = Field(default=time(8), description="Local time the first window opens.")
    day_end: time = Field(default=time(20), description="Local time the last window ends.")
    days_ahead: int = Field(default=7, ge=1, le=60, description="Days offered, today included.")
    capacity_per_window: int = Field(
        default=100, ge=0, le=100_000, description="Bookings per window in each depot's area."
    )
    depot_capacity: dict[str, int] = Field(
        default_factory=dict, description="Per-depot override of capacity_per_window."
    )
    same_day_cutoff_minutes: int = Field(
        default=120, ge=0, le=24 * 60, description="A window closes this long before it starts."
    )
    next_day_cutoff: time = Field(
        default=time(22), description="Local time the day before after which a day is closed."
    )
    service_levels: list[ServiceLevel] = Field(
        default_factory=lambda: list(ServiceLevel), min_length=1, max_length=len(ServiceLevel)
    )
    service_radius_km: float = Field(default=40.0, gt=0, le=1000, allow_inf_nan=False)
    green_detour_m: float = Field(
        default=1500.0, ge=0, le=100_000, allow_inf_nan=False,
        description="A window is green when the cheapest insertion adds at most this.",
    )  # fmt: skip
    currency: Currency = "EUR"
    base_price: Decimal = _money("4.90")
    evening_from: time = Field(
        default=time(18), description="Windows starting from this local time cost more."
    )
    evening_premium: Decimal = _money("1.50")
    green_discount: Decimal = _money("1.00")

    @model_validator(mode="after")
    def _coherent(self) -> SlotPolicyRules:
        clocks = (self.day_start, self.day_end, self.next_day_cutoff, self.evening_from)
        if any(t.tzinfo is not None for t in clocks):
            raise ValueError("times are local wall-clock times without an offset")
        minutes = _minutes(self.day_end) - _minutes(self.day_start)
        if minutes < self.window_minutes:
            raise ValueError("day_end must be at least one window after day_start")
        if any(c < 0 or c > 100_000 for c in self.depot_capacity.values()):
            raise ValueError("depot_capacity values must be between 0 and 100000")
        if any(not 1 <= len(k) <= 40 for k in self.depot_capacity):
            raise ValueError("depot_capacity keys are depot ids")
        if len(set(self.service_levels)) != len(self.service_levels):
            raise ValueError("service_levels must not repeat")
        return self

    def capacity_for(self, area_id: str) -> int:
        return self.depot_capacity.get(area_id, self.capacity_per_window)

    def windows_on(self, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The day's windows in UTC, laid out on the local wall clock."""
        first = datetime.combine(day, self.day_start)
        last = datetime.combine(day, self.day_end)
        step = timedelta(minutes=self.window_minutes)
        out = []
        start = first
        while start + step <= last:
            out.append((_utc(start, tz), _utc(start + step, tz)))
            start += step
        return out

    def closes_at(self, start: datetime, tz: ZoneInfo, *, same_day: bool) -> datetime:
        """When booking the window starting at ``start`` stops.

        Every window closes ``same_day_cutoff_minutes`` before it starts; unless the order is
        a same-day one, its whole day also closes at ``next_day_cutoff`` the evening before.
        """
        closes = start - timedelta(minutes=self.same_day_cutoff_minutes)
        if same_day:
            return closes
        eve = start.astimezone(tz).date() - timedelta(days=1)
        return min(closes, _utc(datetime.combine(eve, self.next_day_cutoff), tz))

    def price_hint(self, start: datetime, tz: ZoneInfo, *, green: bool) -> Decimal:
        price = self.base_price
        if start.astimezone(tz).time() >= self.evening_from:
            price += self.evening_premium
        if green:
            price -= self.green_discount
        return max(price, Decimal("0.00"))

    def is_window(self, start: datetime, minutes: int, tz: ZoneInfo) -> bool:
        """Whether a window starting at ``start`` lasting ``minutes`` is on this policy's grid."""
        if minutes != self.window_minutes:
            return False
        return any(s == start for s, _ in self.windows_on(start.astimezone(tz).date(), tz))


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def _utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


_SLOT_ID = re.compile(r"^slot_(\d{8}T\d{4})Z_(\d{1,4})_([A-Za-z0-9_]{1,40})$")


def slot_id(start: datetime, minutes: int, area_id: str) -> str:
    """A slot's stable id from its start (UTC), length and area.

    E.g. ``slot_20261125T0800Z_120_dep_01jc...``: it round-trips through :func:`parse_slot_id`.
    """
    return f"slot_{start.astimezone(UTC):%Y%m%dT%H%M}Z_{minutes}_{area_id}"


def parse_slot_id(value: str) -> tuple[datetime, int, str] | None:
    """``(start, minutes, area_id)`` of a slot id, or None when it is not one."""
    match = _SLOT_ID.match(value)
    if match is None:
        return None
    try:
        start = datetime.strptime(match[1], "%Y%m%dT%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None
    minutes = int(match[2])
    return (start, minutes, match[3]) if minutes > 0 else None
