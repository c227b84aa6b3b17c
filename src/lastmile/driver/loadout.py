"""Load-out at the depot: which of a route's parcels are in the vehicle, and which are not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.driver.custody import record_custody
from lastmile.driver.models import ParcelScan, RouteLoadout
from lastmile.driver.repository import (
    CallerRoutes,
    ParcelRepository,
    ParcelScanRepository,
    RouteLoadoutRepository,
)
from lastmile.driver.rules import check_action_time
from lastmile.driver.schemas import LoadoutResult, LoadoutScan
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Conflict, NotFound
from lastmile.kit.ids import new_id
from lastmile.ledger.core.events import CustodyEvent
from lastmile.planning.models import Route, RouteStatus


class LoadoutService:
    """Never commits: the request's unit of work does."""

    def __init__(self, session: Session, principal: Principal, secret_key: str) -> None:
        self.session = session
        self.principal = principal
        self.secret_key = secret_key

    def scan(self, route_id: str, payload: LoadoutScan) -> LoadoutResult:
        """Record the scanned parcels of the route once each (a ``loaded`` custody entry)."""
        routes = CallerRoutes(self.session, self.principal)
        # Locked: two phones scanning the same route take turns, so no parcel loads twice.
        route = self.session.scalars(
            routes.scoped().where(Route.id == route_id).with_for_update()
        ).first()
        if route is None:
            raise NotFound(f"No route {route_id!r}.")
        if route.status is RouteStatus.completed:
            raise Conflict("The route is completed; its load-out is over.")
        now = utcnow()
        at = payload.at or now
        check_action_time(at, now, "at")
        barcodes = list(dict.fromkeys(payload.barcodes))  # once each, in scan order
        parcels = ParcelRepository(self.session, self.principal)
        on_route = parcels.on_routes([route.id])
        by_barcode = {p.barcode: p for p in on_route}
        scanned = ParcelScanRepository(self.session, self.principal).scanned([route.id])[route.id]
        newly = []
        for barcode in barcodes:
            parcel = by_barcode.get(barcode)
            if parcel is None or parcel.id in scanned:
                continue
            self.session.add(
                ParcelScan(
                    id=new_id("psc"), organization_id=route.organization_id, route_id=route.id,
                    parcel_id=parcel.id, scanned_at=at, actor=self.principal.actor,
                )
            )  # fmt: skip
            record_custody(
                self.session, self.principal, self.secret_key, order=parcel.order,
                parcels=[parcel], event=CustodyEvent.loaded, at=at,
                details={"route_id": route.id, "vehicle_id": route.vehicle_id},
            )  # fmt: skip
            scanned.add(parcel.id)
            newly.append(barcode)
        elsewhere = [b for b in barcodes if b not in by_barcode]
        known = {p.barcode for p in parcels.by_barcodes(elsewhere)} if elsewhere else set()
        completed = self._complete(route, at) if payload.complete else self._completed(route)
        self.session.flush()
        return LoadoutResult(
            route_id=route.id, expected=len(on_route),
            loaded=[p.barcode for p in on_route if p.id in scanned], newly_loaded=newly,
            missing=[p.barcode for p in on_route if p.id not in scanned],
            extra=[b for b in elsewhere if b in known],
            unknown=[b for b in elsewhere if b not in known],
            completed_at=completed.completed_at if completed else None,
        )  # fmt: skip

    def _completed(self, route: Route) -> RouteLoadout | None:
        return (
            RouteLoadoutRepository(self.session, self.principal).of_routes([route.id]).get(route.id)
        )

    def _complete(self, route: Route, at: datetime) -> RouteLoadout:
        done = self._completed(route)
        if done is not None:
            return done
        return RouteLoadoutRepository(self.session, self.principal).add(
            RouteLoadout(
                id=new_id("ldo"), route_id=route.id, completed_at=at,
                actor=self.principal.actor,
            )
        )  # fmt: skip
