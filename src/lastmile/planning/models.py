from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lastmile.db.base import Base, TenantMixin, TimestampMixin, UTCDateTime, enum_type, id_column


class PlanStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    committed = "committed"


class RouteStatus(enum.StrEnum):
    dispatched = "dispatched"
    in_progress = "in_progress"
    completed = "completed"


class StopStatus(enum.StrEnum):
    """Where a route stop stands, moved by geofences (tracking) or the driver's confirmation."""

    pending = "pending"
    arriving = "arriving"
    arrived = "arrived"
    departed = "departed"


# A route still being driven (or about to be): what tracking follows.
ACTIVE_ROUTE = (RouteStatus.dispatched, RouteStatus.in_progress)


class Plan(TenantMixin, TimestampMixin, Base):
    """An optimisation job for one day and, once solved, its proposed routes."""

    __tablename__ = "plans"

    id: Mapped[str] = id_column()
    service_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(String(1000))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The proposal: routes and unassigned orders, in API shape (see schemas.PlanResult).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Route(TenantMixin, TimestampMixin, Base):
    """A committed route: one vehicle and driver, stops in order, for one day."""

    __tablename__ = "routes"

    id: Mapped[str] = id_column()
    plan_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("plans.id", ondelete="RESTRICT"), index=True
    )
    service_date: Mapped[date] = mapped_column(Date, index=True)
    vehicle_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("vehicles.id", ondelete="RESTRICT"), index=True
    )
    driver_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("drivers.id", ondelete="SET NULL"), index=True
    )
    start_depot_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("depots.id", ondelete="RESTRICT")
    )
    end_depot_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("depots.id", ondelete="RESTRICT")
    )
    status: Mapped[RouteStatus] = mapped_column(enum_type(RouteStatus))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    distance_m: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[int] = mapped_column(Integer)
    cost: Mapped[float] = mapped_column(Float)
    co2_g: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Live tracking: the route tracker's resumable state and the last accepted fix time.
    tracking_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    stops: Mapped[list[RouteStop]] = relationship(
        back_populates="route", order_by="RouteStop.position", cascade="all, delete-orphan"
    )


class RouteStop(TenantMixin, Base):
    """One place a route visits, serving one or more orders (merged at a locker or address)."""

    __tablename__ = "route_stops"

    id: Mapped[str] = id_column()
    route_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("routes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # "stop" (deliveries) or "reload" (depot)
    depot_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("depots.id", ondelete="RESTRICT")
    )
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    planned_arrival: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_departure: Mapped[datetime] = mapped_column(UTCDateTime)
    slack_s: Mapped[int] = mapped_column(Integer)
    order_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[StopStatus] = mapped_column(enum_type(StopStatus), default=StopStatus.pending)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The live ETA window (p10-p90) and whether it still fits the promised window.
    eta_expected: Mapped[datetime | None] = mapped_column(UTCDateTime)
    eta_earliest: Mapped[datetime | None] = mapped_column(UTCDateTime)
    eta_latest: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)

    route: Mapped[Route] = relationship(back_populates="stops")
