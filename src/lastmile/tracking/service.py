"""Tracking rules at the database edge: devices, which vehicle a caller reports for, traces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.db.repository import TenantRepository
from lastmile.fleet.repository import VehicleRepository
from lastmile.kit.clock import utcnow
from lastmile.kit.crypto import random_token, sha256_hex
from lastmile.kit.errors import Conflict, Forbidden, NotFound
from lastmile.kit.ids import new_id
from lastmile.planning.models import ACTIVE_ROUTE, Route, RouteStatus
from lastmile.planning.service import RouteRepository
from lastmile.tracking.models import PositionFix, TrackingDevice


class DeviceRepository(TenantRepository[TrackingDevice]):
    model = TrackingDevice


class TraceRepository(TenantRepository[PositionFix]):
    model = PositionFix


@dataclass(frozen=True, slots=True)
class NewDevice:
    device: TrackingDevice
    identifier: str


class DeviceService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.devices = DeviceRepository(session, principal)

    def create(self, vehicle_id: str, name: str, identifier: str | None) -> NewDevice:
        if VehicleRepository(self.session, self.principal).get(vehicle_id) is None:
            raise NotFound(f"No vehicle {vehicle_id!r}.")
        identifier = identifier or random_token(18)
        digest = sha256_hex(identifier)
        if self.session.scalar(
            select(TrackingDevice.id).where(TrackingDevice.identifier_hash == digest)
        ):
            raise Conflict("A device with this identifier is already registered.")
        device = self.devices.add(
            TrackingDevice(
                id=new_id("dev"), organization_id=self.principal.organization_id,
                vehicle_id=vehicle_id, name=name, identifier_hash=digest,
                identifier_hint=identifier[-4:],
            )
        )  # fmt: skip
        return NewDevice(device, identifier)

    def find(self) -> Sequence[TrackingDevice]:
        return self.devices.all()

    def delete(self, device_id: str) -> None:
        device = self.devices.get(device_id)
        if device is None:
            raise NotFound(f"No tracking device {device_id!r}.")
        self.devices.delete(device)


def device_by_identifier(session: Session, identifier: str) -> TrackingDevice | None:
    """The device reporting as ``identifier``: the identifier is its credential, so this is
    the one tracking lookup that does not start from a caller's scope."""
    return session.scalar(
        select(TrackingDevice).where(TrackingDevice.identifier_hash == sha256_hex(identifier))
    )


def active_route(session: Session, principal: Principal) -> Route | None:
    """The driver's route for today, starting nearest to now; one still under way first.

    A completed route still names the vehicle its driver drives back to the depot.
    """
    now = utcnow()
    today = now.date()
    routes = session.scalars(
        RouteRepository(session, principal)
        .scoped()
        .where(
            Route.driver_id == principal.driver_id,
            Route.status.in_((*ACTIVE_ROUTE, RouteStatus.completed)),
            Route.service_date.between(today - timedelta(days=1), today + timedelta(days=1)),
        )
    ).all()
    if not routes:
        return None
    return min(
        routes,
        key=lambda r: (r.status is RouteStatus.completed, abs((r.starts_at - now).total_seconds())),
    )


def reporting_vehicle(session: Session, principal: Principal, vehicle_id: str | None) -> str:
    """Which vehicle a caller's fixes belong to.

    Drivers report for their active route's vehicle (or, between routes, one they name);
    staff name the vehicle (a gateway relaying several); merchants never report.
    """
    if principal.access is Access.merchant:
        raise Forbidden("Merchants cannot report positions.")
    if vehicle_id is None and principal.access is Access.driver:
        route = active_route(session, principal)
        if route is None:
            raise Conflict("You have no active route; say which vehicle you drive (vehicle_id).")
        return route.vehicle_id
    if vehicle_id is None:
        raise Conflict("Say which vehicle these fixes belong to (vehicle_id).")
    if VehicleRepository(session, principal).get(vehicle_id) is None:
        raise NotFound(f"No vehicle {vehicle_id!r}.")
    return vehicle_id


def vehicle_trace(
    session: Session,
    principal: Principal,
    vehicle_id: str,
    since: datetime,
    until: datetime,
    limit: int,
) -> Sequence[PositionFix]:
    if VehicleRepository(session, principal).get(vehicle_id) is None:
        raise NotFound(f"No vehicle {vehicle_id!r}.")
    traces = TraceRepository(session, principal)
    stmt = (
        traces.scoped()
        .where(
            PositionFix.vehicle_id == vehicle_id,
            PositionFix.recorded_at >= since,
            PositionFix.recorded_at < until,
        )
        .order_by(PositionFix.recorded_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))
