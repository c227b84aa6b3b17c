"""The report's SQL: every figure is counted or summed per group in the database, so a day of
thousands of orders comes back as a few dozen rows (see metrics.py for what they mean)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, Select, and_, case, cast, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from lastmile.db.repository import TenantRepository
from lastmile.driver.models import DeliveryProof, ProofOutcome
from lastmile.feedback.models import Feedback
from lastmile.fleet.models import Vehicle
from lastmile.orders.models import DeliveryWindow, Order, OrderEvent, Parcel
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route, RouteStatus, RouteStop
from lastmile.reports.metrics import (
    DelayRow,
    Key,
    OrderRow,
    Outcome,
    RatingRow,
    ReasonRow,
    ReportData,
    RouteRow,
)
from lastmile.reports.schemas import GroupBy

# An attempt was made and did not hand the order over (it may be tried again later).
FAILED = (OrderStatus.failed, OrderStatus.rescheduled, OrderStatus.returned)


class seconds_between(FunctionElement[float]):  # noqa: N801 - used like a SQL function
    """``later - earlier`` in seconds, on SQLite and PostgreSQL."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgres(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


def _text(value: Any) -> Key:
    """A group key as text: ISO days, enum values, ids."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


class ReportRepository(TenantRepository[Route]):
    """Reads the caller's routes of a period and what happened on them."""

    model = Route

    def _routes(self, first: date, last: date) -> Select[Any]:
        """The caller's routes of days ``first`` to ``last``, joined to their vehicles."""
        return (
            self.scoped()
            .join(Vehicle, Vehicle.id == Route.vehicle_id)
            .where(Route.service_date >= first, Route.service_date <= last)
        )

    def _all(self, stmt: Select[Any]) -> list[Any]:
        return list(self.session.execute(stmt).all())

    @staticmethod
    def group_key(group_by: GroupBy) -> ColumnElement[Any]:
        columns: dict[GroupBy, Any] = {
            GroupBy.day: Route.service_date,
            GroupBy.hub: Route.start_depot_id,
            GroupBy.vehicle_type: Vehicle.type,
            GroupBy.driver: Route.driver_id,
        }
        key: ColumnElement[Any] = columns[group_by]
        return key

    def data(self, group_by: GroupBy, first: date, last: date) -> ReportData:
        return ReportData(
            orders=self.order_rows(group_by, first, last),
            routes=self.route_rows(group_by, first, last),
            reasons=self.reason_rows(group_by, first, last),
            ratings=self.rating_rows(group_by, first, last),
            delays=self.delay_rows(group_by, first, last),
        )

    def order_rows(self, group_by: GroupBy, first: date, last: date) -> list[OrderRow]:
        """Orders on the period's routes, counted by group, vehicle type, outcome and flags."""
        moved_to = OrderEvent.from_status.is_not(None)  # status moves, not "changed" entries
        failures = (
            select(func.count())
            .where(OrderEvent.order_id == Order.id, OrderEvent.to_status == OrderStatus.failed,
                   moved_to)
            .scalar_subquery()
        )  # fmt: skip
        # When the driver captured the delivery (it may reach us later, from an offline
        # phone); the status move's time where there is no proof.
        captured = (
            select(func.min(DeliveryProof.captured_at))
            .where(DeliveryProof.order_id == Order.id,
                   DeliveryProof.outcome == ProofOutcome.delivered)
            .scalar_subquery()
        )  # fmt: skip
        moved = (
            select(func.max(OrderEvent.at))
            .where(OrderEvent.order_id == Order.id, OrderEvent.to_status == OrderStatus.delivered,
                   moved_to)
            .scalar_subquery()
        )  # fmt: skip
        parcels = select(func.count()).where(Parcel.order_id == Order.id).scalar_subquery()
        promised = aliased(DeliveryWindow)
        per_order = (
            self._routes(first, last)
            .join(Order, and_(Order.route_id == Route.id,
                              Order.organization_id == Route.organization_id))
            .outerjoin(promised, and_(promised.order_id == Order.id, promised.position == 0))
            .with_only_columns(
                self.group_key(group_by).label("key"),
                Vehicle.type.label("vehicle_type"),
                Order.status.label("status"),
                failures.label("failures"),
                func.coalesce(captured, moved).label("delivered_at"),
                promised.starts_at.label("window_start"),
                promised.ends_at.label("window_end"),
                parcels.label("parcels"),
            )
        ).subquery()  # fmt: skip
        o = per_order.c
        inside = and_(o.delivered_at >= o.window_start, o.delivered_at <= o.window_end)
        # Flags in a subquery of their own, so the grouping below names plain columns:
        # PostgreSQL cannot match a CASE with parameters in SELECT to the one in GROUP BY.
        flags = select(
            o.key, o.vehicle_type, o.parcels,
            case(
                (o.status == OrderStatus.delivered, Outcome.delivered.value),
                (o.status.in_(FAILED), Outcome.failed.value),
                else_=Outcome.open.value,
            ).label("outcome"),
            case((o.failures == 0, 1), else_=0).label("first_attempt"),
            case(
                (or_(o.status != OrderStatus.delivered, o.window_start.is_(None)), None),
                (inside, 1),
                else_=0,
            ).label("on_time"),
        ).subquery()  # fmt: skip
        f = flags.c
        stmt = select(
            f.key, f.vehicle_type, f.outcome, f.first_attempt, f.on_time, func.count(),
            func.sum(f.parcels),
        ).group_by(f.key, f.vehicle_type, f.outcome, f.first_attempt, f.on_time)  # fmt: skip
        rows = []
        for key, kind, result, first_try, ok, n, parcels_sum in self._all(stmt):
            on_time_flag = None if ok is None else bool(ok)
            rows.append(OrderRow(_text(key), _text(kind) or "", Outcome(result), bool(first_try),
                                 on_time_flag, int(n), int(parcels_sum or 0)))  # fmt: skip
        return rows

    def route_rows(self, group_by: GroupBy, first: date, last: date) -> list[RouteRow]:
        """Each route of the period with its vehicle's rates and how many stops it reached."""
        is_stop = and_(RouteStop.route_id == Route.id, RouteStop.kind == "stop")
        stops = select(func.count()).where(is_stop).scalar_subquery()
        reached = or_(RouteStop.arrived_at.is_not(None), RouteStop.departed_at.is_not(None))
        visited = select(func.count()).where(is_stop, reached).scalar_subquery()
        stmt: Select[Any] = self._routes(first, last).with_only_columns(
            self.group_key(group_by), Vehicle.type, Route.distance_m, Route.duration_s, stops,
            visited, Route.status, Vehicle.fixed_cost, Vehicle.cost_per_km,
            Vehicle.cost_per_hour, Vehicle.co2_g_per_km, Vehicle.energy_kwh_per_km,
        )  # fmt: skip
        rows = []
        for key, kind, distance, duration, n, seen, status, *rates in self._all(stmt):
            fixed, per_km, per_hour, co2, energy = (float(r) for r in rates)
            rows.append(RouteRow(_text(key), _text(kind) or "", float(distance), float(duration),
                                 int(n), int(seen), status is RouteStatus.completed, fixed,
                                 per_km, per_hour, co2, energy))  # fmt: skip
        return rows

    def reason_rows(self, group_by: GroupBy, first: date, last: date) -> list[ReasonRow]:
        """Failed attempts made on the period's routes, by the driver's reason code."""
        key = self.group_key(group_by)
        stmt: Select[Any] = (
            self._routes(first, last)
            .join(DeliveryProof, and_(DeliveryProof.route_id == Route.id,
                                      DeliveryProof.organization_id == Route.organization_id))
            .where(DeliveryProof.outcome == ProofOutcome.failed)
            .with_only_columns(key, DeliveryProof.reason, func.count())
            .group_by(key, DeliveryProof.reason)
        )  # fmt: skip
        return [
            ReasonRow(_text(k), _text(reason) or "unspecified", int(n))
            for k, reason, n in self._all(stmt)
        ]

    def rating_rows(self, group_by: GroupBy, first: date, last: date) -> list[RatingRow]:
        """Customer ratings of the orders on the period's routes, by stars."""
        key = self.group_key(group_by)
        stmt: Select[Any] = (
            self._routes(first, last)
            .join(Order, and_(Order.route_id == Route.id,
                              Order.organization_id == Route.organization_id))
            .join(Feedback, Feedback.order_id == Order.id)
            .with_only_columns(key, Feedback.rating, func.count())
            .group_by(key, Feedback.rating)
        )  # fmt: skip
        return [RatingRow(_text(k), int(r), int(n)) for k, r, n in self._all(stmt)]

    def delay_rows(self, group_by: GroupBy, first: date, last: date) -> list[DelayRow]:
        """Stops reached on the period's routes, by whole minutes after their planned arrival."""
        late_s = seconds_between(RouteStop.arrived_at, RouteStop.planned_arrival)
        stops = (
            self._routes(first, last)
            .join(RouteStop, RouteStop.route_id == Route.id)
            .where(RouteStop.kind == "stop", RouteStop.arrived_at.is_not(None))
            .with_only_columns(
                self.group_key(group_by).label("key"),
                cast(func.round(late_s / 60.0), Integer).label("minutes"),
            )
        ).subquery()
        stmt: Select[Any] = select(stops.c.key, stops.c.minutes, func.count()).group_by(
            stops.c.key, stops.c.minutes
        )
        return [DelayRow(_text(k), int(m), int(n)) for k, m, n in self._all(stmt)]
