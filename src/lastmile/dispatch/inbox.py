"""The exceptions inbox: each problem of a day that needs a dispatcher, and what fits to do.

Every item has a stable ``key`` (kind and subject) and a ``revision`` that changes when the
problem does; an acknowledgement stores the revision it saw, so an acknowledged item stays
hidden until its problem changes (an ETA slips further, a new message arrives, a vehicle
reports and then goes silent again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.dispatch.models import Acknowledgement
from lastmile.dispatch.repository import AcknowledgementRepository, DayReader
from lastmile.dispatch.schemas import (
    ActionCode,
    ExceptionInbox,
    ExceptionItem,
    ExceptionKind,
    Severity,
)
from lastmile.kit.clock import iso_z, utcnow
from lastmile.kit.errors import NotFound
from lastmile.kit.ids import new_id
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import ACTIVE_ROUTE, RouteStatus, StopStatus

A = ActionCode
# Orders whose delivery is over one way or another: never late.
SETTLED = frozenset(
    {OrderStatus.delivered, OrderStatus.failed, OrderStatus.returned, OrderStatus.cancelled,
     OrderStatus.rescheduled}
)  # fmt: skip
# Unread customer messages older than this are left to the chat's own views.
UNREAD_LOOKBACK = timedelta(days=2)
# An ETA that slips by less than this does not re-show an acknowledged at-risk item.
AT_RISK_STEP_S = 900
SEVERITY_ORDER = {Severity.high: 0, Severity.medium: 1, Severity.low: 2}
STOP_ACTIONS = [A.open_chat, A.notify_customer, A.move_stop, A.replan_route, A.acknowledge]


def _label(refs: Sequence[str]) -> str:
    return refs[0] if len(refs) == 1 else f"{refs[0]} +{len(refs) - 1}"


@dataclass(frozen=True, slots=True)
class _Order:
    id: str
    reference: str
    status: OrderStatus
    promised_start: datetime | None
    promised_end: datetime | None


class Inbox:
    """Computes a day's problems; never commits."""

    def __init__(
        self, session: Session, principal: Principal, tz: ZoneInfo, silent_minutes: int
    ) -> None:
        self.session = session
        self.tz = tz
        self.principal = principal
        self.reader = DayReader(session, principal)
        self.acks = AcknowledgementRepository(session, principal)
        self.silent_after = timedelta(minutes=silent_minutes)

    def _hm(self, moment: datetime | None) -> str:
        """A time as the inbox writes it: local to the organization."""
        return moment.astimezone(self.tz).strftime("%H:%M") if moment else "-"

    # --- the inbox ---------------------------------------------------------------------------

    def read(self, day: date, *, include_acknowledged: bool = False) -> ExceptionInbox:
        now = utcnow()
        items = self.problems(day, now)
        acknowledged = self.acks.revisions([i.key for i in items])
        for item in items:
            item.acknowledged = acknowledged.get(item.key) == item.revision
        shown = [i for i in items if include_acknowledged or not i.acknowledged]
        shown.sort(key=lambda i: (SEVERITY_ORDER[i.severity], i.since, i.key))
        counts = dict.fromkeys(ExceptionKind, 0)
        for item in shown:
            counts[item.kind] += 1
        return ExceptionInbox(date=day, generated_at=now, counts=counts, items=shown)

    def problems(
        self, day: date, now: datetime, kinds: frozenset[ExceptionKind] = frozenset(ExceptionKind)
    ) -> list[ExceptionItem]:
        """Every problem of ``day`` of the given kinds, acknowledged or not."""
        items: list[ExceptionItem] = []
        if kinds & {
            ExceptionKind.at_risk,
            ExceptionKind.late,
            ExceptionKind.failed,
            ExceptionKind.silent_vehicle,
        }:
            routes = {r.id: r for r in self.reader.routes(day)}
            orders = {o.id: o for o in self.reader.orders(day)}
            if kinds & {ExceptionKind.at_risk, ExceptionKind.late}:
                active = [r.id for r in routes.values() if r.status in ACTIVE_ROUTE]
                stops = self.reader.stops(active, open_only=True)
                items += self._stop_problems(routes, stops, orders, now, kinds)
            if ExceptionKind.late in kinds:
                items += self._unrouted_late(orders, now)
            if ExceptionKind.failed in kinds:
                items += self._failed(orders, routes)
            if ExceptionKind.silent_vehicle in kinds:
                items += self._silent(routes, now)
        if ExceptionKind.low_rating in kinds:
            items += self._low_ratings()
        if ExceptionKind.unread_chat in kinds:
            items += self._unread(now)
        return items

    # --- acknowledging -----------------------------------------------------------------------

    def acknowledge(self, key: str, note: str | None) -> ExceptionItem:
        """Hide the item ``key`` until its problem changes; 404 when no such problem is open."""
        item = self._current(key)
        if item is None:
            raise NotFound(f"No open problem {key!r}.")
        now = utcnow()
        found = self.acks.for_key(key)
        if found is None:
            try:
                with self.session.begin_nested():
                    found = self.acks.add(
                        Acknowledgement(
                            id=new_id("ack"), key=key, revision=item.revision,
                            actor=self.principal.actor, acknowledged_at=now, note=note,
                        )
                    )  # fmt: skip
            except IntegrityError:  # acknowledged at the same moment by someone else
                found = self.acks.for_key(key)
                assert found is not None
        found.revision, found.actor, found.acknowledged_at = (
            item.revision,
            self.principal.actor,
            now,
        )
        found.note = note
        self.session.flush()
        item.acknowledged = True
        return item

    def _current(self, key: str) -> ExceptionItem | None:
        kind_text, _, subject = key.partition(":")
        try:
            kind = ExceptionKind(kind_text)
        except ValueError:
            return None
        day: date | None = utcnow().astimezone(self.tz).date()
        if kind in (ExceptionKind.at_risk, ExceptionKind.late):
            day = self.reader.stop_day(subject) or self.reader.order_day(subject)
        elif kind is ExceptionKind.failed:
            day = self.reader.order_day(subject)
        elif kind is ExceptionKind.silent_vehicle:
            day = self.reader.route_day(subject)
        if day is None:
            return None
        items = self.problems(day, utcnow(), frozenset({kind}))
        return next((i for i in items if i.key == key), None)

    # --- the sources -------------------------------------------------------------------------

    def _stop_problems(
        self, routes: dict[str, Row[Any]], stops: Sequence[Row[Any]],
        orders: dict[str, Row[Any]], now: datetime, kinds: frozenset[ExceptionKind],
    ) -> list[ExceptionItem]:  # fmt: skip
        extra = self.reader.references([o for s in stops for o in s.order_ids if o not in orders])
        items = []
        for stop in stops:
            route = routes[stop.route_id]
            if (
                route.status not in ACTIVE_ROUTE
                or stop.kind != "stop"
                or stop.status is StopStatus.departed
            ):
                continue
            at_stop = [
                _order(orders.get(o) or extra.get(o)) for o in stop.order_ids
                if o in orders or o in extra
            ]  # fmt: skip
            open_ = [o for o in at_stop if o.status not in SETTLED]
            if not open_:
                continue
            starts = [o.promised_start for o in open_ if o.promised_start is not None]
            ends = [o.promised_end for o in open_ if o.promised_end is not None]
            end = min(ends) if ends else None
            refs = [o.reference for o in open_]
            common = {
                "order_id": open_[0].id, "order_ids": [o.id for o in open_],
                "order_reference": open_[0].reference, "stop_id": stop.id,
                "route_id": route.id, "vehicle_id": route.vehicle_id,
                "driver_id": route.driver_id,
            }  # fmt: skip
            where = f"stop {stop.position} of route {route.id}"
            if end is not None and end < now:
                if ExceptionKind.late in kinds:
                    items.append(
                        ExceptionItem(
                            key=f"late:{stop.id}", revision="1", kind=ExceptionKind.late,
                            severity=Severity.high, title=f"Late: {_label(refs)}",
                            detail=f"Promised by {self._hm(end)}; not delivered yet ({where}).",
                            since=end, actions=STOP_ACTIONS, **common,
                        )
                    )  # fmt: skip
                continue
            if ExceptionKind.at_risk not in kinds or stop.status is StopStatus.arrived:
                continue
            latest = stop.eta_latest
            slipping = latest is not None and end is not None and latest > end
            if not (stop.at_risk or slipping):
                continue
            revision = "flag" if latest is None else str(int(latest.timestamp()) // AT_RISK_STEP_S)
            promise = (
                f"promised {self._hm(max(starts))}-{self._hm(end)}"
                if starts and end
                else "promised"
            )
            eta = f"expected by {self._hm(latest)}" if latest is not None else "the ETA slips"
            items.append(
                ExceptionItem(
                    key=f"at_risk:{stop.id}", revision=revision, kind=ExceptionKind.at_risk,
                    severity=Severity.medium, title=f"At risk: {_label(refs)}",
                    detail=f"{eta[0].upper()}{eta[1:]}, {promise} ({where}).",
                    since=route.last_fix_at or route.starts_at, actions=STOP_ACTIONS, **common,
                )
            )  # fmt: skip
        return items

    def _unrouted_late(self, orders: dict[str, Row[Any]], now: datetime) -> list[ExceptionItem]:
        """Orders of the day that are on no route although their window is over."""
        items = []
        for row in orders.values():
            order = _order(row)
            end = order.promised_end
            if row.stop_id is not None or order.status in SETTLED or end is None or end >= now:
                continue
            items.append(
                ExceptionItem(
                    key=f"late:{order.id}", revision="1", kind=ExceptionKind.late,
                    severity=Severity.high, title=f"Late: {order.reference}",
                    detail=f"Promised by {self._hm(end)}; on no route ({order.status.value}).",
                    since=end, order_id=order.id, order_ids=[order.id],
                    order_reference=order.reference,
                    actions=[A.open_chat, A.notify_customer, A.reschedule, A.acknowledge],
                )
            )  # fmt: skip
        return items

    def _failed(
        self, orders: dict[str, Row[Any]], routes: dict[str, Row[Any]]
    ) -> list[ExceptionItem]:
        failed = [o for o in orders.values() if o.status is OrderStatus.failed]
        if not failed:
            return []
        when = self.reader.failures([o.id for o in failed])
        items = []
        for row in failed:
            at, reason = when.get(row.id, (None, None))
            route = routes.get(row.route_id or "")
            why = f" ({reason.replace('_', ' ')})" if reason else ""
            items.append(
                ExceptionItem(
                    key=f"failed:{row.id}", revision=iso_z(at) if at else "1",
                    kind=ExceptionKind.failed, severity=Severity.high,
                    title=f"Failed: {row.merchant_reference or row.id}",
                    detail=f"Delivery attempt failed{why}; reschedule or return it.",
                    since=at or utcnow(), order_id=row.id, order_ids=[row.id],
                    order_reference=row.merchant_reference, stop_id=row.stop_id,
                    route_id=route.id if route else None,
                    vehicle_id=row.vehicle_id, driver_id=row.driver_id,
                    actions=[A.open_chat, A.reschedule, A.notify_customer, A.acknowledge],
                )
            )  # fmt: skip
        return items

    def _silent(self, routes: dict[str, Row[Any]], now: datetime) -> list[ExceptionItem]:
        silent = [
            r for r in routes.values()
            if r.status is RouteStatus.in_progress
            and now - (r.last_fix_at or r.starts_at) > self.silent_after
        ]  # fmt: skip
        vehicles = self.reader.vehicles(r.vehicle_id for r in silent)
        items = []
        for route in silent:
            last = route.last_fix_at
            minutes = int((now - (last or route.starts_at)).total_seconds() // 60)
            vehicle = vehicles.get(route.vehicle_id)
            name = vehicle.name if vehicle else route.vehicle_id
            detail = (
                f"No position for {minutes} min (last at {self._hm(last)})."
                if last
                else f"No position since the route started {minutes} min ago."
            )
            items.append(
                ExceptionItem(
                    key=f"silent_vehicle:{route.id}", revision=iso_z(last) if last else "none",
                    kind=ExceptionKind.silent_vehicle, severity=Severity.high,
                    title=f"Silent vehicle: {name}", detail=detail,
                    since=last or route.starts_at, route_id=route.id,
                    vehicle_id=route.vehicle_id, driver_id=route.driver_id,
                    actions=[A.replan_route, A.acknowledge],
                )
            )  # fmt: skip
        return items

    def _low_ratings(self) -> list[ExceptionItem]:
        follow_ups = self.reader.open_follow_ups()
        refs = self.reader.references([f.order_id for f in follow_ups])
        items = []
        for follow_up in follow_ups:
            order = refs.get(follow_up.order_id)
            comment = f": “{follow_up.comment[:120]}”" if follow_up.comment else ""
            items.append(
                ExceptionItem(
                    key=f"low_rating:{follow_up.id}", revision="1",
                    kind=ExceptionKind.low_rating,
                    severity=Severity.high if follow_up.rating <= 1 else Severity.medium,
                    title=f"Rated {follow_up.rating}/5: "
                    f"{(order.merchant_reference if order else None) or follow_up.order_id}",
                    detail=f"{follow_up.reason}{comment}", since=follow_up.created_at,
                    order_id=follow_up.order_id, order_ids=[follow_up.order_id],
                    order_reference=order.merchant_reference if order else None,
                    route_id=order.route_id if order else None,
                    stop_id=order.stop_id if order else None,
                    vehicle_id=order.vehicle_id if order else None,
                    driver_id=order.driver_id if order else None,
                    actions=[A.open_chat, A.acknowledge],
                )
            )  # fmt: skip
        return items

    def _unread(self, now: datetime) -> list[ExceptionItem]:
        chats = self.reader.unread_chats(now - UNREAD_LOOKBACK)
        refs = self.reader.references([c.order_id for c in chats])
        items = []
        for chat in chats:
            order = refs.get(chat.order_id)
            reference = (order.merchant_reference if order else None) or chat.order_id
            plural = "s" if chat.unread != 1 else ""
            items.append(
                ExceptionItem(
                    key=f"unread_chat:{chat.order_id}", revision=str(chat.last_seq),
                    kind=ExceptionKind.unread_chat, severity=Severity.medium,
                    title=f"Customer wrote: {reference}",
                    detail=f"{chat.unread} unread message{plural} from the customer.",
                    since=chat.since, order_id=chat.order_id, order_ids=[chat.order_id],
                    order_reference=order.merchant_reference if order else None,
                    route_id=order.route_id if order else None,
                    stop_id=order.stop_id if order else None,
                    vehicle_id=order.vehicle_id if order else None,
                    driver_id=order.driver_id if order else None,
                    actions=[A.open_chat, A.acknowledge],
                )
            )  # fmt: skip
        return items


def _order(row: Any) -> _Order:
    return _Order(
        id=row.id,
        reference=row.merchant_reference or row.id,
        status=row.status,
        promised_start=getattr(row, "promised_start", None),
        promised_end=getattr(row, "promised_end", None),
    )
