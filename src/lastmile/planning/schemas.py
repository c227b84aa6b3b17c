from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lastmile.planning.models import PlanStatus, RouteStatus


class PlanRequest(BaseModel):
    """What to plan: a day, optionally narrowed to some vehicles, depots or orders."""

    service_date: date
    time_limit_s: int = Field(default=30, ge=1, le=900, description="Search time budget.")
    vehicle_ids: list[str] | None = Field(default=None, max_length=1000)
    depot_ids: list[str] | None = Field(default=None, max_length=100)
    order_ids: list[str] | None = Field(default=None, max_length=20_000)
    seed: int = Field(default=1, ge=0, le=2**31 - 1)


class Load(BaseModel):
    parcels: int
    kg: float
    litres: float


class ProposedStop(BaseModel):
    position: int
    kind: str = Field(description="`stop` hands orders over; `reload` loads the next trip.")
    depot_id: str | None
    order_ids: list[str]
    lat: float
    lon: float
    arrival: datetime
    service_start: datetime
    departure: datetime
    waiting_s: int
    slack_s: int
    load_after: Load


class ProposedBreak(BaseModel):
    start: datetime
    end: datetime
    after_stop: int


class ProposedRoute(BaseModel):
    vehicle_id: str
    driver_id: str | None
    start_depot_id: str
    end_depot_id: str
    starts_at: datetime
    ends_at: datetime
    distance_km: float
    driving_h: float
    duration_h: float
    cost: float
    co2_kg: float
    load_at_start: Load
    stops: list[ProposedStop]
    breaks: list[ProposedBreak]
    geometry: dict[str, Any]


class UnassignedOrder(BaseModel):
    order_id: str
    reason: str
    detail: str


class PlanSummary(BaseModel):
    vehicles: int
    orders: int
    assigned: int
    unassigned: int
    distance_km: float
    duration_h: float
    cost: float
    co2_kg: float


class PlanResult(BaseModel):
    routes: list[ProposedRoute]
    unassigned: list[UnassignedOrder]


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    service_date: date
    status: PlanStatus
    progress: float
    message: str | None
    request: dict[str, Any]
    summary: PlanSummary | None
    result: PlanResult | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    committed_at: datetime | None


class RouteStopRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    position: int
    kind: str
    depot_id: str | None
    lat: float
    lon: float
    planned_arrival: datetime
    planned_departure: datetime
    slack_s: int
    order_ids: list[str]


class RouteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    plan_id: str
    service_date: date
    vehicle_id: str
    driver_id: str | None
    start_depot_id: str
    end_depot_id: str
    status: RouteStatus
    starts_at: datetime
    ends_at: datetime
    distance_m: int
    duration_s: int
    cost: float
    co2_g: float
    geometry: dict[str, Any]
    stops: list[RouteStopRead]
