"""Reading delivery proofs, and who may see a proof file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.driver.models import DeliveryProof
from lastmile.driver.repository import DeliveryProofRepository
from lastmile.driver.schemas import FileRead, OrderProofs, ProofRead
from lastmile.driver.store import DatabaseProofStore, StoredFile
from lastmile.kit.errors import NotFound
from lastmile.orders.repository import OrderRepository
from lastmile.orders.service import OrderService
from lastmile.services import Services
from lastmile.tracking.links import resolve_link


def file_url(sha256: str) -> str:
    return f"/v1/proofs/{sha256}"


def _file(sha256: str | None, files: dict[str, StoredFile]) -> FileRead | None:
    stored = files.get(sha256 or "")
    if stored is None:
        return None
    return FileRead(
        sha256=stored.sha256, content_type=stored.content_type, size=stored.size,
        url=file_url(stored.sha256),
    )  # fmt: skip


def proof_reads(
    session: Session, principal: Principal, proofs: Sequence[DeliveryProof]
) -> list[ProofRead]:
    """The proofs in API shape, with their files described in one query."""
    hashes = {h for p in proofs for h in (p.photo_sha256, p.signature_sha256) if h}
    files = DatabaseProofStore(session, principal).describe(hashes)
    return [_proof_read(p, files) for p in proofs]


def _proof_read(p: DeliveryProof, files: dict[str, StoredFile]) -> ProofRead:
    return ProofRead(
        id=p.id, order_id=p.order_id, route_id=p.route_id, outcome=p.outcome,
        custody_event=p.custody_event, recipient_name=p.recipient_name,
        age_checked=p.age_checked, reason=p.reason, note=p.note, captured_at=p.captured_at,
        received_at=p.received_at, lat=p.lat, lon=p.lon, driver_id=p.driver_id, actor=p.actor,
        photo=_file(p.photo_sha256, files), signature=_file(p.signature_sha256, files),
        ledger_entry_ids=p.ledger_entry_ids,
    )  # fmt: skip


def order_proofs(
    session: Session, principal: Principal, services: Services, order_id: str
) -> OrderProofs:
    """Every attempt at an order the caller can see (staff, its merchant, its driver)."""
    order = OrderService(session, principal, services).get(order_id)
    proofs = DeliveryProofRepository(session, principal).of_order(order.id)
    return OrderProofs(
        order_id=order.id, status=order.status, proofs=proof_reads(session, principal, proofs)
    )


NO_FILE = "No such proof file."


def proof_file(session: Session, principal: Principal, sha256: str) -> tuple[StoredFile, bytes]:
    """A file for staff of its organization, or for the merchant or driver of an order whose
    proof uses it. Anything else reads as absent (404), so hashes reveal nothing."""
    if principal.access not in STAFF:
        using = DeliveryProofRepository(session, principal).using(sha256)
        visible = OrderRepository(session, principal).get_many(sorted({p.order_id for p in using}))
        if not visible:
            raise NotFound(NO_FILE)
    found = DatabaseProofStore(session, principal).read(sha256)
    if found is None:
        raise NotFound(NO_FILE)
    return found


def customer_photo(
    session: Session, token: str, sha256: str, after_close: timedelta
) -> tuple[StoredFile, bytes]:
    """The photo of a proof of the order the customer's tracking token opens."""
    link = resolve_link(session, token, after_close=after_close)
    scope = Principal(link.organization_id, Access.admin, system="tracking-link")
    proofs = DeliveryProofRepository(session, scope).of_order(link.order_id)
    found = DatabaseProofStore(session, scope).read(sha256)
    if found is None or all(p.photo_sha256 != sha256 for p in proofs):
        raise NotFound(NO_FILE)
    return found
