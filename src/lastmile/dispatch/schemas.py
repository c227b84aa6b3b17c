from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from lastmile.fleet.models import VehicleType
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import PlanStatus, RouteStatus, StopStatus
from lastmile.planning.schemas import RouteRead, RouteStopRead

# --- exceptions inbox -----------------------------------------------------------------------


class ExceptionKind(enum.StrEnum):
    at_risk = "at_risk"
    late = "late"
    failed = "failed"
    low_rating = "low_rating"
    unread_chat = "unread_chat"
    silent_vehicle = "silent_vehicle"


class Severity(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class ActionCode(enum.StrEnum):
    """What the dashboard may offer on an item with one click."""

    open_chat = "open_chat"
    move_stop = "move_stop"
    replan_route = "replan_route"
    reschedule = "reschedule"
    notify_customer = "notify_customer"
    acknowledge = "acknowledge"


class ExceptionItem(BaseModel):
    key: str = Field(description="Stable per problem, e.g. `late:stp_...`.")
    revision: str = Field(description="Changes when the problem changes (re-shows it).")
    kind: ExceptionKind
    severity: Severity
    title: str
    detail: str
    since: datetime
    order_id: str | None = None
    order_ids: list[str] = []
    order_reference: str | None = None
    stop_id: str | None = None
    route_id: str | None = None
    vehicle_id: str | None = None
    driver_id: str | None = None
    actions: list[ActionCode]
    acknowledged: bool = False


class ExceptionInbox(BaseModel):
    date: date
    generated_at: datetime
    counts: dict[ExceptionKind, int]
    items: list[ExceptionItem]


class Acknowledge(BaseModel):
    note: str | None = Field(default=None, max_length=500)


# --- board and map --------------------------------------------------------------------------


class BoardVehicle(BaseModel):
    id: str
    name: str
    type: VehicleType
    electric: bool


class BoardDriver(BaseModel):
    id: str
    name: str


class BoardOrder(BaseModel):
    order_id: str
    reference: str | None
    status: OrderStatus


class BoardStop(BaseModel):
    stop_id: str
    position: int
    kind: str
    status: StopStatus
    lat: float
    lon: float
    planned_arrival: datetime
    planned_departure: datetime
    arrived_at: datetime | None
    departed_at: datetime | None
    eta_expected: datetime | None
    eta_earliest: datetime | None
    eta_latest: datetime | None
    promised_start: datetime | None
    promised_end: datetime | None
    at_risk: bool
    late: bool
    slack_s: int
    orders: list[BoardOrder]


class BoardRoute(BaseModel):
    route_id: str
    plan_id: str
    status: RouteStatus
    vehicle: BoardVehicle
    driver: BoardDriver | None
    starts_at: datetime
    ends_at: datetime
    last_fix_at: datetime | None
    last_fix_age_s: int | None
    distance_km: float
    duration_h: float
    co2_kg: float
    stops_total: int
    stops_done: int
    at_risk: int
    late: int
    stops: list[BoardStop]


class Board(BaseModel):
    date: date
    generated_at: datetime
    routes: list[BoardRoute]


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection; each feature's `properties.feature` says what it is."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


# --- moving a stop, re-planning ---------------------------------------------------------------


class MoveConstraint(enum.StrEnum):
    """Why a stop cannot go where it was asked to."""

    state = "state"
    payload = "payload"
    capacity = "capacity"
    skills = "skills"
    window = "window"
    downstream_windows = "downstream_windows"
    shift_end = "shift_end"
    position = "position"


class MoveRequest(BaseModel):
    to_route_id: str = Field(min_length=1, max_length=40)
    position: int | None = Field(
        default=None, ge=1, le=10_000,
        description="The stop's 1-based place among the target's stops after the move; "
        "none: the cheapest feasible place.",
    )  # fmt: skip


class MoveCheck(BaseModel):
    feasible: bool
    reason: str | None
    constraint: MoveConstraint | None
    route_id: str
    stop_id: str
    to_route_id: str
    position: int | None
    after_stop_id: str | None
    before_stop_id: str | None
    planned_arrival: datetime | None
    service_start: datetime | None
    extra_km: float | None
    extra_minutes: float | None
    extra_co2_kg: float | None
    saved_km: float
    min_slack_minutes: float | None


class MoveResult(BaseModel):
    check: MoveCheck
    from_route: RouteRead
    to_route: RouteRead
    stop: RouteStopRead


class ReplanRequest(BaseModel):
    time_limit_s: float = Field(default=2.0, ge=0.1, le=10.0)


class ReplanResult(BaseModel):
    route: RouteRead
    changed: bool
    before: list[str]
    after: list[str]
    distance_km_before: float
    distance_km_after: float


class NotifyCustomer(BaseModel):
    message: str = Field(min_length=1, max_length=2000)


# --- plan comparison --------------------------------------------------------------------------


class PlanTotals(BaseModel):
    vehicles: int
    stops: int
    orders: int
    distance_km: float
    driving_h: float
    duration_h: float
    co2_kg: float
    cost: float
    tight_stops: int
    unassigned: int


class RouteFigures(BaseModel):
    route_id: str | None
    stops: int
    distance_km: float
    driving_h: float
    duration_h: float
    co2_kg: float
    cost: float
    tight_stops: int


class RouteDelta(BaseModel):
    stops: int
    distance_km: float
    driving_h: float
    duration_h: float
    co2_kg: float
    cost: float
    tight_stops: int


class RouteComparison(BaseModel):
    vehicle_id: str
    vehicle_name: str | None
    current: RouteFigures | None
    proposed: RouteFigures | None
    delta: RouteDelta


class PlanComparison(BaseModel):
    plan_id: str
    service_date: date
    plan_status: PlanStatus
    current: PlanTotals
    proposed: PlanTotals
    delta: PlanTotals
    routes: list[RouteComparison]
