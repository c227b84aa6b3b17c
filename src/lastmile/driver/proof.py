"""Recording a delivery attempt: the evidence, the order's move and the parcels' custody, in
the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.db.engine import after_commit
from lastmile.driver.custody import record_custody
from lastmile.driver.media import HEAD_BYTES, PHOTO_TYPES, SIGNATURE_TYPES, sniff_image
from lastmile.driver.models import DeliveryProof, FailureReason, ProofOutcome
from lastmile.driver.repository import DeliveryProofRepository
from lastmile.driver.rules import (
    INTO_LOCKER,
    check_action_time,
    photo_required_for,
    requirements,
)
from lastmile.driver.store import DatabaseProofStore, ProofStore, StoredFile
from lastmile.kit.clock import iso_z, utcnow
from lastmile.kit.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    Problem,
    Unprocessable,
    field_error,
)
from lastmile.kit.ids import new_id
from lastmile.ledger.core.events import CustodyEvent
from lastmile.live.channels import fleet_channel
from lastmile.live.events import LiveEvent
from lastmile.orders.models import Order
from lastmile.orders.service import OrderService
from lastmile.orders.status import OrderStatus
from lastmile.services import Services

# Where an attempt may be recorded from: the route under way, or not yet started (the app
# was offline when the shift started).
ATTEMPTABLE = frozenset(
    {OrderStatus.dispatched, OrderStatus.out_for_delivery, OrderStatus.arriving}
)


class TooLarge(Problem):
    status, slug, title = 413, "too-large", "Request too large"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as received: which form field, and its bytes (read up to one past the limit)."""

    field: str
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """What the driver's device recorded, whatever the outcome."""

    captured_at: datetime
    lat: float | None = None
    lon: float | None = None
    note: str | None = None
    photo: Upload | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery(Attempt):
    recipient_name: str | None = None
    age_checked: bool = False
    signature: Upload | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure(Attempt):
    reason: FailureReason


class ProofService:
    """Never commits: the request's unit of work does."""

    def __init__(
        self,
        session: Session,
        principal: Principal,
        services: Services,
        store: ProofStore | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.services = services
        self.settings = services.settings
        self.orders = OrderService(session, principal, services)
        self.store: ProofStore = store or DatabaseProofStore(session, principal)

    def deliver(self, order_id: str, delivery: Delivery) -> DeliveryProof:
        """The order is delivered (into a locker, for locker and pick-up point orders)."""
        order = self._attemptable(order_id, OrderStatus.delivered)
        needs = requirements(order, self.settings)
        missing: list[FieldError] = []
        if needs.recipient_name and not delivery.recipient_name:
            missing.append(field_error(["recipient_name"], "required for this delivery method"))
        if needs.age_check and not delivery.age_checked:
            missing.append(field_error(["age_checked"], "the recipient's age must be checked"))
        if needs.photo and delivery.photo is None:
            missing.append(field_error(["photo"], "required for this delivery method"))
        if needs.signature and delivery.signature is None:
            missing.append(field_error(["signature"], "this order needs a signature"))
        self._refuse(missing)
        check_action_time(delivery.captured_at, utcnow(), "captured_at")
        photo = self._keep(delivery.photo, PHOTO_TYPES)
        signature = self._keep(delivery.signature, SIGNATURE_TYPES)
        event = (
            CustodyEvent.put_in_locker
            if order.delivery_method in INTO_LOCKER
            else CustodyEvent.delivered
        )
        proof = self._proof(order, delivery, ProofOutcome.delivered, event, photo)
        proof.recipient_name = delivery.recipient_name
        proof.age_checked = delivery.age_checked
        proof.signature_sha256 = signature.sha256 if signature else None
        details: dict[str, Any] = {
            "proof_id": proof.id,
            "photo_sha256": proof.photo_sha256,
            "signature_sha256": proof.signature_sha256,
            "age_checked": delivery.age_checked,
        }
        if order.pickup_point_id is not None:
            details["pickup_point_id"] = order.pickup_point_id
        return self._apply(order, proof, OrderStatus.delivered, details)

    def fail(self, order_id: str, failure: Failure) -> DeliveryProof:
        """The attempt failed for ``failure.reason``; the order is failed."""
        order = self._attemptable(order_id, OrderStatus.failed)
        if photo_required_for(failure.reason, self.settings) and failure.photo is None:
            self._refuse([field_error(["photo"], f"required when the reason is {failure.reason}")])
        check_action_time(failure.captured_at, utcnow(), "captured_at")
        photo = self._keep(failure.photo, PHOTO_TYPES)
        proof = self._proof(order, failure, ProofOutcome.failed, CustodyEvent.failed, photo)
        proof.reason = failure.reason
        details = {
            "proof_id": proof.id,
            "reason": failure.reason.value,
            "photo_sha256": proof.photo_sha256,
        }
        return self._apply(order, proof, OrderStatus.failed, details)

    def _attemptable(self, order_id: str, outcome: OrderStatus) -> Order:
        order = self.orders.get(order_id)
        if order.status is outcome:
            last = DeliveryProofRepository(self.session, self.principal).of_order(order.id)
            recorded = f" (proof {last[-1].id}, {iso_z(last[-1].captured_at)})" if last else ""
            raise Conflict(
                f"Order {order.id!r} was already {outcome.value}{recorded}; nothing was changed."
            )
        if order.status not in ATTEMPTABLE:
            raise InvalidTransition(
                f"An order that is {order.status.value} cannot be {outcome.value}; "
                "nothing was changed."
            )
        return order

    @staticmethod
    def _refuse(errors: Sequence[FieldError]) -> None:
        if errors:
            raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)

    def _keep(self, upload: Upload | None, allowed: Sequence[str]) -> StoredFile | None:
        """Check a file by its bytes and store it; None when none was sent."""
        if upload is None:
            return None
        limit = self.settings.proof_max_bytes
        if len(upload.content) > limit:
            raise TooLarge(
                f"{upload.field} is larger than {limit} bytes.",
                errors=[field_error([upload.field], f"at most {limit} bytes")],
            )
        kind = sniff_image(upload.content[:HEAD_BYTES])
        if kind is None or kind not in allowed:
            wanted = ", ".join(allowed)
            raise Unprocessable(
                f"{upload.field} must be one of {wanted} (judged by its content).",
                errors=[field_error([upload.field], f"not {wanted}")],
            )
        return self.store.put(upload.content, kind)

    def _proof(
        self,
        order: Order,
        attempt: Attempt,
        outcome: ProofOutcome,
        event: CustodyEvent,
        photo: StoredFile | None,
    ) -> DeliveryProof:
        return DeliveryProof(
            id=new_id("prf"), organization_id=order.organization_id, order_id=order.id,
            route_id=order.route_id, outcome=outcome, custody_event=event.value,
            note=attempt.note, photo_sha256=photo.sha256 if photo else None,
            captured_at=attempt.captured_at, received_at=utcnow(), lat=attempt.lat,
            lon=attempt.lon, driver_id=order.driver_id, actor=self.principal.actor,
            age_checked=False, ledger_entry_ids=[],
        )  # fmt: skip

    def _apply(
        self, order: Order, proof: DeliveryProof, target: OrderStatus, details: dict[str, Any]
    ) -> DeliveryProof:
        """Move the order, append the parcels' custody entries and keep the proof."""
        if order.status is OrderStatus.dispatched:
            self.orders.transition(
                order.id, OrderStatus.out_for_delivery, f"{target.value} before the route started"
            )
        self.orders.transition(order.id, target, f"proof {proof.id}")
        proof.ledger_entry_ids = record_custody(
            self.session, self.principal, self.settings.secret_key, order=order,
            parcels=order.parcels, event=CustodyEvent(proof.custody_event),
            at=proof.captured_at, details=details,
        )  # fmt: skip
        self.session.add(proof)
        self.session.flush()
        data = {
            "order_id": order.id, "proof_id": proof.id, "outcome": proof.outcome.value,
            "driver_id": proof.driver_id, "at": iso_z(proof.captured_at),
        }  # fmt: skip
        broker = self.services.broker
        event = LiveEvent("proof", data)
        after_commit(
            self.session, lambda: broker.publish(fleet_channel(order.organization_id), event)
        )
        return proof
