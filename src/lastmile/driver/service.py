"""The driver's route actions that tracking carries out: starting the shift, confirming a stop."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.driver.repository import CallerRoutes
from lastmile.kit.errors import NotFound
from lastmile.planning.models import Route, RouteStop
from lastmile.tracking.processor import TrackingProcessor


class RouteActions:
    """Checks the caller may act on the route or stop, then lets the tracking processor apply
    the action exactly as a geofence would (stop states, orders, ETAs, live events)."""

    def __init__(
        self, session: Session, principal: Principal, processor: TrackingProcessor
    ) -> None:
        self.session = session
        self.principal = principal
        self.processor = processor
        self.routes = CallerRoutes(session, principal)

    def start(self, route_id: str) -> Route:
        if self.routes.get(route_id) is None:
            raise NotFound(f"No route {route_id!r}.")
        return self.processor.start_route(self.session, self.principal, route_id, None)

    def confirm(
        self, stop_id: str, what: Literal["arrival", "departure"], at: datetime | None
    ) -> RouteStop:
        stop = self.routes.stop(stop_id)
        if stop is None:
            raise NotFound(f"No stop {stop_id!r}.")
        return self.processor.confirm(
            self.session, self.principal, stop.route_id, stop_id, what, at
        )
