from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lastmile.fleet.defaults import VEHICLE_DEFAULTS
from lastmile.fleet.models import DepotKind, PickupPointKind, VehicleType
from lastmile.kit.clock import Instant
from lastmile.kit.geo import Latitude, Longitude
from lastmile.kit.schedule import OpeningHours
from lastmile.routing.profiles import RoutingProfile

Name = Annotated[str, Field(min_length=1, max_length=200)]
Skill = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["in_home"])]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
MAX_SHIFT = timedelta(hours=16)


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    updated_at: datetime


# --- depots and hubs -------------------------------------------------------------------------


class DepotCreate(BaseModel):
    name: Name
    kind: DepotKind = DepotKind.depot
    lat: Latitude
    lon: Longitude
    address: str | None = Field(default=None, max_length=500)
    opening_hours: list[OpeningHours] = Field(default_factory=list, max_length=21)
    loading_time_s: int = Field(default=900, ge=0, le=4 * 3600)


class DepotUpdate(BaseModel):
    name: Name | None = None
    kind: DepotKind | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    address: str | None = Field(default=None, max_length=500)
    opening_hours: list[OpeningHours] | None = Field(default=None, max_length=21)
    loading_time_s: int | None = Field(default=None, ge=0, le=4 * 3600)


class DepotRead(_Read, DepotCreate):
    pass


# --- vehicles --------------------------------------------------------------------------------


class VehicleCreate(BaseModel):
    """A vehicle; figures left out are filled from its type's defaults."""

    name: Name
    type: VehicleType
    home_depot_id: str
    capacity_parcels: int = Field(ge=1, le=100_000)
    capacity_kg: Positive
    capacity_litres: Positive
    fixed_cost: NonNegative = 0.0
    cost_per_km: NonNegative = 0.0
    cost_per_hour: NonNegative = 0.0
    co2_g_per_km: NonNegative | None = None
    energy_kwh_per_km: NonNegative | None = None
    range_km: Positive | None = None
    avg_speed_kmh: Annotated[float, Field(gt=0, le=200)] | None = None
    routing_profile: RoutingProfile | None = None
    max_payload_kg: Positive | None = None
    active: bool = True

    @model_validator(mode="after")
    def _fill_type_defaults(self) -> VehicleCreate:
        defaults = VEHICLE_DEFAULTS[self.type]
        for name in (
            "co2_g_per_km",
            "energy_kwh_per_km",
            "range_km",
            "avg_speed_kmh",
            "routing_profile",
            "max_payload_kg",
        ):
            if getattr(self, name) is None:
                setattr(self, name, getattr(defaults, name))
        return self


class VehicleUpdate(BaseModel):
    name: Name | None = None
    type: VehicleType | None = None
    home_depot_id: str | None = None
    capacity_parcels: int | None = Field(default=None, ge=1, le=100_000)
    capacity_kg: Positive | None = None
    capacity_litres: Positive | None = None
    fixed_cost: NonNegative | None = None
    cost_per_km: NonNegative | None = None
    cost_per_hour: NonNegative | None = None
    co2_g_per_km: NonNegative | None = None
    energy_kwh_per_km: NonNegative | None = None
    range_km: Positive | None = None
    avg_speed_kmh: Annotated[float, Field(gt=0, le=200)] | None = None
    routing_profile: RoutingProfile | None = None
    max_payload_kg: Positive | None = None
    active: bool | None = None


class VehicleRead(_Read):
    name: str
    type: VehicleType
    home_depot_id: str
    capacity_parcels: int
    capacity_kg: float
    capacity_litres: float
    fixed_cost: float
    cost_per_km: float
    cost_per_hour: float
    co2_g_per_km: float
    energy_kwh_per_km: float
    range_km: float | None
    avg_speed_kmh: float
    routing_profile: RoutingProfile
    max_payload_kg: float | None
    active: bool


# --- drivers and shifts ----------------------------------------------------------------------


class DriverCreate(BaseModel):
    name: Name
    phone: str | None = Field(default=None, max_length=40)
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    user_id: str | None = None
    home_depot_id: str | None = None
    active: bool = True


class DriverUpdate(BaseModel):
    name: Name | None = None
    phone: str | None = Field(default=None, max_length=40)
    skills: list[Skill] | None = Field(default=None, max_length=20)
    user_id: str | None = None
    home_depot_id: str | None = None
    active: bool | None = None


class DriverRead(_Read, DriverCreate):
    pass


class Break(BaseModel):
    """A break of ``duration_minutes`` to be taken between ``earliest_start`` and ``latest_end``."""

    earliest_start: Instant
    latest_end: Instant
    duration_minutes: int = Field(ge=1, le=240)

    @model_validator(mode="after")
    def _fits(self) -> Break:
        if self.latest_end - self.earliest_start < timedelta(minutes=self.duration_minutes):
            raise ValueError("the break does not fit between earliest_start and latest_end")
        return self


class ShiftCreate(BaseModel):
    """A shift; both ends need a UTC offset. Errors name the field at fault."""

    driver_id: str
    starts_at: Instant
    ends_at: Instant
    breaks: list[Break] = Field(default_factory=list, max_length=6)

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and ends_at <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        if starts_at is not None and ends_at - starts_at > MAX_SHIFT:
            raise ValueError("a shift lasts at most 16 hours")
        return ends_at

    @field_validator("breaks")
    @classmethod
    def _within_shift(cls, breaks: list[Break], info: ValidationInfo) -> list[Break]:
        starts_at, ends_at = info.data.get("starts_at"), info.data.get("ends_at")
        if starts_at is None or ends_at is None:
            return breaks
        for b in breaks:
            if b.earliest_start < starts_at or b.latest_end > ends_at:
                raise ValueError("every break must lie within the shift")
        return breaks


class ShiftUpdate(BaseModel):
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    breaks: list[Break] | None = Field(default=None, max_length=6)


class ShiftRead(_Read, ShiftCreate):
    pass


# --- lockers and pick-up points --------------------------------------------------------------


class PickupPointCreate(BaseModel):
    name: Name
    kind: PickupPointKind = PickupPointKind.locker
    lat: Latitude
    lon: Longitude
    address: str | None = Field(default=None, max_length=500)
    opening_hours: list[OpeningHours] = Field(default_factory=list, max_length=21)
    compartments: int = Field(ge=1, le=1000)
    active: bool = True


class PickupPointUpdate(BaseModel):
    name: Name | None = None
    kind: PickupPointKind | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    address: str | None = Field(default=None, max_length=500)
    opening_hours: list[OpeningHours] | None = Field(default=None, max_length=21)
    compartments: int | None = Field(default=None, ge=1, le=1000)
    active: bool | None = None


class PickupPointRead(_Read, PickupPointCreate):
    pass
