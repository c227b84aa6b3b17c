"""HTTP routes of the custody ledger: day roots, the public key, receipts, verification."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.deps import ApiKeyDep, BearerDep, SessionDep, SettingsDep, allow, caller, require
from lastmile.kit.errors import NotFound
from lastmile.kit.pagination import Cursor, Limit, Page
from lastmile.ledger import schemas as s
from lastmile.ledger.core.chain import SignatureMode
from lastmile.ledger.repository import LedgerRootRepository
from lastmile.ledger.service import (
    active_key,
    order_receipt,
    publish_roots,
    verify_ledger,
)
from lastmile.orders.repository import OrderRepository
from lastmile.tracking.links import resolve_link

router = APIRouter(tags=["ledger"])
Reader = Annotated[Principal, Depends(require(*STAFF, Access.merchant))]
Admin = Annotated[Principal, Depends(require(Access.admin))]
RECEIPT_READERS = frozenset({*STAFF, Access.merchant})


@router.get("/v1/ledger/roots", response_model=Page[s.LedgerRootRead])
def list_roots(
    session: SessionDep, principal: Reader, cursor: Cursor = None, limit: Limit = 50
) -> Page[s.LedgerRootRead]:
    """The organization's published day roots, oldest day first."""
    roots = LedgerRootRepository(session, principal)
    return Page[s.LedgerRootRead].build(
        roots.page_by_day(cursor=cursor, limit=limit), s.LedgerRootRead.of
    )


@router.get("/v1/ledger/roots/{day}", response_model=s.LedgerRootRead)
def read_root(day: date, session: SessionDep, principal: Reader) -> s.LedgerRootRead:
    """The signed root of one UTC day (404 while the day is open or had no custody events)."""
    root = LedgerRootRepository(session, principal).for_day(day)
    if root is None:
        raise NotFound(f"No sealed ledger day {day.isoformat()}.")
    return s.LedgerRootRead.of(root)


@router.post("/v1/ledger/roots:publish", response_model=s.PublishedRoots)
def publish(
    payload: s.PublishRoots, session: SessionDep, settings: SettingsDep, principal: Admin
) -> s.PublishedRoots:
    """Seal closed days now instead of waiting for the hourly job. Today (UTC) stays open;
    days sealed before are left as they are."""
    published = publish_roots(
        session, principal.organization_id, payload.up_to_day, secret_key=settings.secret_key
    )
    return s.PublishedRoots(published=[s.LedgerRootRead.of(root) for root in published])


@router.get("/v1/ledger/public-key", response_model=s.PublicKeyRead)
def read_public_key(session: SessionDep, principal: Reader) -> s.PublicKeyRead:
    """The key that signs the organization's entries and roots (created with its first
    custody entry). Compare it with the one a receipt carries."""
    key = active_key(session, principal.organization_id)
    if key is None:
        raise NotFound("This organization has no ledger key yet (no custody entries).")
    return s.PublicKeyRead.of(key)


@router.get("/v1/ledger/verify", response_model=s.VerifyReport)
def verify(
    session: SessionDep,
    principal: Admin,
    signatures: Annotated[
        SignatureMode,
        Query(description="`all`: every entry's signature; `anchors`: roots and open days."),
    ] = "anchors",
) -> s.VerifyReport:
    """Check the whole ledger as stored: every hash, link, signature and day root. Faults
    name the first entry where the record stops being trustworthy."""
    report = verify_ledger(session, principal.organization_id, signatures=signatures)
    return s.VerifyReport.of(report, signatures)


@router.get(
    "/v1/orders/{order_id}/receipt",
    response_class=JSONResponse,
    responses={200: {"model": s.Receipt, "description": "The receipt."}},
)
def read_receipt(
    order_id: str,
    session: SessionDep,
    settings: SettingsDep,
    bearer: BearerDep,
    api_key: ApiKeyDep,
    token: Annotated[
        str | None,
        Query(min_length=16, max_length=128, description="The customer's tracking token."),
    ] = None,
) -> JSONResponse:
    """The order's custody receipt: every custody entry with its signature, Merkle proof and
    signed day root, and the public key, to verify offline (docs/ledger.md). For staff, the
    order's merchant, or the recipient with their tracking link's `token`."""
    if token is not None:
        after = timedelta(hours=settings.tracking_link_after_delivery_hours)
        resolved = resolve_link(session, token, after_close=after)
        if resolved.order_id != order_id:
            # Another order's token: answer as if the link did not exist.
            raise NotFound("This tracking link does not exist.")
        organization_id = resolved.organization_id
    else:
        principal = allow(caller(session, bearer, api_key), RECEIPT_READERS)
        if OrderRepository(session, principal).get(order_id) is None:
            raise NotFound(f"No order {order_id!r}.")
        organization_id = principal.organization_id
    return JSONResponse(order_receipt(session, organization_id, order_id))
