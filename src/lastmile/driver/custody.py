"""Custody entries for parcels: the driver domain's one door into the ledger, and the staff's
hub, return, locker and collection scans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.driver.repository import ParcelRepository
from lastmile.driver.rules import check_action_time
from lastmile.driver.schemas import CustodyRecorded, CustodyScan
from lastmile.fleet.repository import DepotRepository
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import NotFound, Unprocessable, field_error
from lastmile.ledger.core.events import CustodyEvent
from lastmile.ledger.service import append_custody
from lastmile.orders.models import Order, Parcel
from lastmile.orders.service import OrderService
from lastmile.orders.status import OrderStatus
from lastmile.services import Services


def record_custody(
    session: Session,
    principal: Principal,
    secret_key: str,
    *,
    order: Order,
    parcels: Sequence[Parcel],
    event: CustodyEvent,
    at: datetime,
    details: dict[str, Any],
) -> list[str]:
    """Append one ledger entry per parcel, in the caller's transaction; their ids in order.

    One entry per parcel, not per order: custody is a parcel's, and each parcel's receipt then
    stands on its own (an order's parcels may part ways, e.g. one returned, one delivered).
    """
    return [
        append_custody(
            session, organization_id=order.organization_id, order_id=order.id,
            parcel_id=parcel.id, event=event, actor=principal.actor, at=at,
            details=details, secret_key=secret_key,
        ).id
        for parcel in parcels
    ]  # fmt: skip


# Where a custody scan moves the order too; the others only record who holds the parcel.
ORDER_STATUS_OF = {"returned": OrderStatus.returned}


class CustodyScanService:
    """Staff scans of a parcel at a hub, back at the depot, into a locker or collected."""

    def __init__(self, session: Session, principal: Principal, services: Services) -> None:
        self.session = session
        self.principal = principal
        self.services = services
        self.orders = OrderService(session, principal, services)

    def scan(self, barcode: str, scan: CustodyScan) -> CustodyRecorded:
        now = utcnow()
        at = scan.at or now
        check_action_time(at, now, "at")
        details: dict[str, Any] = {}
        if scan.event == "received_at_hub" and scan.hub_id is None:
            raise Unprocessable(
                "Say which hub received the parcel (hub_id).",
                errors=[field_error(["hub_id"], "required for received_at_hub")],
            )
        if scan.hub_id is not None:
            if DepotRepository(self.session, self.principal).get(scan.hub_id) is None:
                raise Unprocessable(
                    f"No depot or hub {scan.hub_id!r}.",
                    errors=[field_error(["hub_id"], "no such depot or hub")],
                )
            details["hub_id"] = scan.hub_id
        if scan.note:
            details["note"] = scan.note
        parcel, order = self._parcel(barcode)
        target = ORDER_STATUS_OF.get(scan.event)
        if target is not None and order.status is not target:
            self.orders.transition(order.id, target, f"parcel {barcode} scanned {scan.event}")
        (entry_id,) = record_custody(
            self.session, self.principal, self.services.settings.secret_key, order=order,
            parcels=[parcel], event=CustodyEvent(scan.event), at=at, details=details,
        )  # fmt: skip
        return CustodyRecorded(
            parcel_id=parcel.id, barcode=parcel.barcode, order_id=order.id, event=scan.event,
            at=at, order_status=order.status, ledger_entry_id=entry_id,
        )  # fmt: skip

    def _parcel(self, barcode: str) -> tuple[Parcel, Order]:
        found = ParcelRepository(self.session, self.principal).by_barcodes([barcode])
        if not found:
            raise NotFound(f"No parcel {barcode!r}.")
        return found[0], found[0].order
