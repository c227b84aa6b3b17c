"""All SQL of dispatch: a day's routes, stops and orders as plain columns, and the inbox's
other sources (failures, follow-ups, unread chats, acknowledgements).

A day has thousands of stops and orders: reads select columns, not ORM objects, and each
source is one query, so the inbox and the board stay within tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.chat.models import ChatMessage, Conversation, SenderRole
from lastmile.db.repository import TenantRepository
from lastmile.dispatch.models import Acknowledgement
from lastmile.driver.models import DeliveryProof, ProofOutcome
from lastmile.feedback.models import Feedback, FollowUp, FollowUpStatus
from lastmile.fleet.models import Depot, Driver, PickupPoint, Vehicle
from lastmile.orders.models import DeliveryWindow, Order, OrderEvent
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route, RouteStop, StopStatus

# Ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 900


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


class _Routes(TenantRepository[Route]):
    model = Route


class _Stops(TenantRepository[RouteStop]):
    model = RouteStop


class _Orders(TenantRepository[Order]):
    model = Order


class _Windows(TenantRepository[DeliveryWindow]):
    model = DeliveryWindow


class _Events(TenantRepository[OrderEvent]):
    model = OrderEvent


class _Proofs(TenantRepository[DeliveryProof]):
    model = DeliveryProof


class _FollowUps(TenantRepository[FollowUp]):
    model = FollowUp


class _Conversations(TenantRepository[Conversation]):
    model = Conversation


class _Vehicles(TenantRepository[Vehicle]):
    model = Vehicle


class _Drivers(TenantRepository[Driver]):
    model = Driver


class _Depots(TenantRepository[Depot]):
    model = Depot


class _Points(TenantRepository[PickupPoint]):
    model = PickupPoint


class AcknowledgementRepository(TenantRepository[Acknowledgement]):
    model = Acknowledgement

    def revisions(self, keys: Sequence[str]) -> dict[str, str]:
        """``key -> acknowledged revision`` for those of ``keys`` acknowledged."""
        out: dict[str, str] = {}
        for part in _chunks(keys):
            stmt = (
                self.scoped()
                .with_only_columns(Acknowledgement.key, Acknowledgement.revision)
                .where(Acknowledgement.key.in_(part))
            )
            out.update({key: revision for key, revision in self.session.execute(stmt)})
        return out

    def for_key(self, key: str) -> Acknowledgement | None:
        return self.session.scalar(self.scoped().where(Acknowledgement.key == key))


class DayReader:
    """Reads one service day of the caller's organization as rows of plain columns."""

    def __init__(self, session: Session, scope: Principal) -> None:
        self.session = session
        self.scope = scope

    def routes(self, day: date, *, geometry: bool = False) -> list[Row[Any]]:
        columns: list[Any] = [
            Route.id, Route.plan_id, Route.status, Route.vehicle_id, Route.driver_id,
            Route.start_depot_id, Route.starts_at, Route.ends_at, Route.last_fix_at,
            Route.distance_m, Route.duration_s, Route.co2_g, Route.cost,
        ]  # fmt: skip
        if geometry:
            columns.append(Route.geometry)
        stmt = (
            _Routes(self.session, self.scope)
            .scoped()
            .with_only_columns(*columns)
            .where(Route.service_date == day)
            .order_by(Route.id)
        )
        return list(self.session.execute(stmt))

    def stops(self, route_ids: Sequence[str], *, open_only: bool = False) -> list[Row[Any]]:
        """The stops of ``route_ids``, by route then position; ``open_only``: only delivery
        stops not yet left, with what the inbox needs (a day's worth of rows is the cost)."""
        columns: list[Any] = [
            RouteStop.id, RouteStop.route_id, RouteStop.position, RouteStop.kind,
            RouteStop.status, RouteStop.order_ids, RouteStop.eta_latest, RouteStop.at_risk,
        ]  # fmt: skip
        if not open_only:
            columns += [
                RouteStop.lat, RouteStop.lon, RouteStop.planned_arrival,
                RouteStop.planned_departure, RouteStop.slack_s, RouteStop.arrived_at,
                RouteStop.departed_at, RouteStop.eta_expected, RouteStop.eta_earliest,
            ]  # fmt: skip
        rows: list[Row[Any]] = []
        for part in _chunks(route_ids):
            stmt = (
                _Stops(self.session, self.scope)
                .scoped()
                .with_only_columns(*columns)
                .where(RouteStop.route_id.in_(part))
            )
            if open_only:
                stmt = stmt.where(RouteStop.kind == "stop", RouteStop.status != StopStatus.departed)
            rows.extend(self.session.execute(stmt))
        rows.sort(key=lambda r: (r.route_id, r.position))
        return rows

    def orders(self, day: date) -> list[Row[Any]]:
        """The day's orders with their promise: the earliest window's start and end (the
        tracker's reading of a promise, see ``tracking.processor``)."""
        windows = (
            _Windows(self.session, self.scope)
            .scoped()
            .with_only_columns(
                DeliveryWindow.order_id.label("order_id"),
                func.min(DeliveryWindow.starts_at).label("promised_start"),
                func.min(DeliveryWindow.ends_at).label("promised_end"),
            )
            .group_by(DeliveryWindow.order_id)
            .subquery()
        )
        stmt = (
            _Orders(self.session, self.scope)
            .scoped()
            .with_only_columns(
                Order.id,
                Order.status,
                Order.merchant_reference,
                Order.route_id,
                Order.stop_id,
                Order.vehicle_id,
                Order.driver_id,
                windows.c.promised_start,
                windows.c.promised_end,
            )
            .outerjoin(windows, windows.c.order_id == Order.id)
            .where(Order.service_date == day)
        )
        return list(self.session.execute(stmt))

    def references(self, order_ids: Sequence[str]) -> dict[str, Row[Any]]:
        """``order id -> (id, merchant_reference, status, service_date, route_id, stop_id,
        vehicle_id, driver_id)`` for orders of any day."""
        out: dict[str, Row[Any]] = {}
        for part in _chunks(order_ids):
            stmt = (
                _Orders(self.session, self.scope)
                .scoped()
                .with_only_columns(
                    Order.id,
                    Order.merchant_reference,
                    Order.status,
                    Order.service_date,
                    Order.route_id,
                    Order.stop_id,
                    Order.vehicle_id,
                    Order.driver_id,
                )
                .where(Order.id.in_(part))
            )
            out.update({row.id: row for row in self.session.execute(stmt)})
        return out

    def failures(self, order_ids: Sequence[str]) -> dict[str, tuple[datetime, str | None]]:
        """When each order last failed, and the driver's reason when a proof says it."""
        when: dict[str, datetime] = {}
        reasons: dict[str, tuple[datetime, str | None]] = {}
        for part in _chunks(order_ids):
            events = (
                _Events(self.session, self.scope)
                .scoped()
                .with_only_columns(OrderEvent.order_id, func.max(OrderEvent.at))
                .where(OrderEvent.order_id.in_(part), OrderEvent.to_status == OrderStatus.failed)
                .group_by(OrderEvent.order_id)
            )
            when.update({order_id: at for order_id, at in self.session.execute(events)})
            proofs = (
                _Proofs(self.session, self.scope)
                .scoped()
                .with_only_columns(
                    DeliveryProof.order_id, DeliveryProof.captured_at, DeliveryProof.reason
                )
                .where(
                    DeliveryProof.order_id.in_(part),
                    DeliveryProof.outcome == ProofOutcome.failed,
                )
            )
            for order_id, at, reason in self.session.execute(proofs):
                if order_id not in reasons or at > reasons[order_id][0]:
                    reasons[order_id] = (at, reason.value if reason else None)
        return {
            order_id: (at, reasons[order_id][1] if order_id in reasons else None)
            for order_id, at in when.items()
        }

    def open_follow_ups(self) -> list[Row[Any]]:
        stmt = (
            _FollowUps(self.session, self.scope)
            .scoped()
            .with_only_columns(
                FollowUp.id,
                FollowUp.order_id,
                FollowUp.reason,
                FollowUp.created_at,
                Feedback.rating,
                Feedback.comment,
            )
            .join(Feedback, Feedback.id == FollowUp.feedback_id)
            .where(FollowUp.status == FollowUpStatus.open)
        )
        return list(self.session.execute(stmt))

    def unread_chats(self, since: datetime) -> list[Row[Any]]:
        """Per conversation with customer messages staff have not read (sent after
        ``since``): the order, how many, the first one's time and the last message number."""
        stmt = (
            _Conversations(self.session, self.scope)
            .scoped()
            .with_only_columns(
                Conversation.order_id,
                Conversation.last_seq,
                func.count(ChatMessage.id).label("unread"),
                func.min(ChatMessage.created_at).label("since"),
            )
            .join(ChatMessage, ChatMessage.conversation_id == Conversation.id)
            .where(
                ChatMessage.sender_role == SenderRole.customer,
                ChatMessage.seq > Conversation.staff_read_seq,
                ChatMessage.created_at >= since,
            )
            .group_by(Conversation.order_id, Conversation.last_seq)
        )
        return list(self.session.execute(stmt))

    def vehicles(self, ids: Iterable[str]) -> dict[str, Vehicle]:
        wanted = sorted(set(ids))
        return {v.id: v for v in _Vehicles(self.session, self.scope).get_many(wanted)}

    def driver_names(self, ids: Iterable[str | None]) -> dict[str, str]:
        wanted = sorted({i for i in ids if i})
        stmt = (
            _Drivers(self.session, self.scope)
            .scoped()
            .with_only_columns(Driver.id, Driver.name)
            .where(Driver.id.in_(wanted))
        )
        return {driver_id: name for driver_id, name in self.session.execute(stmt)}

    def depots(self) -> list[Depot]:
        return _Depots(self.session, self.scope).all()

    def pickup_points(self) -> list[PickupPoint]:
        return _Points(self.session, self.scope).all()

    def route_day(self, route_id: str) -> date | None:
        stmt = (
            _Routes(self.session, self.scope)
            .scoped()
            .with_only_columns(Route.service_date)
            .where(Route.id == route_id)
        )
        return self.session.scalar(stmt)

    def stop_day(self, stop_id: str) -> date | None:
        stmt = (
            _Routes(self.session, self.scope)
            .scoped()
            .with_only_columns(Route.service_date)
            .join(RouteStop, RouteStop.route_id == Route.id)
            .where(RouteStop.id == stop_id)
        )
        return self.session.scalar(stmt)

    def order_day(self, order_id: str) -> date | None:
        stmt = (
            _Orders(self.session, self.scope)
            .scoped()
            .with_only_columns(Order.service_date)
            .where(Order.id == order_id)
        )
        return self.session.scalar(stmt)

    def follow_up_exists(self, follow_up_id: str) -> bool:
        stmt = (
            _FollowUps(self.session, self.scope)
            .scoped()
            .with_only_columns(FollowUp.id)
            .where(FollowUp.id == follow_up_id)
        )
        return self.session.scalar(stmt) is not None
