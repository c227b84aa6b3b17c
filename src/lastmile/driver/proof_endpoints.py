"""HTTP routes for proofs of delivery (metadata and files) and staff custody scans."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.deps import (
    ApiKeyDep,
    BearerDep,
    ServicesDep,
    SessionDep,
    SettingsDep,
    allow,
    caller,
    require,
)
from lastmile.driver import schemas as s
from lastmile.driver.custody import CustodyScanService
from lastmile.driver.proofs import customer_photo, order_proofs, proof_file

router = APIRouter(tags=["driver"])
Reader = Annotated[Principal, Depends(require(*STAFF, Access.driver, Access.merchant))]
Staff = Annotated[Principal, Depends(require(*STAFF))]
READERS = frozenset({*STAFF, Access.driver, Access.merchant})
# Content-addressed: the bytes under a hash never change.
FILE_CACHE = "private, max-age=31536000, immutable"


@router.get("/v1/orders/{order_id}/proof", response_model=s.OrderProofs)
def read_order_proof(
    order_id: str, session: SessionDep, services: ServicesDep, principal: Reader
) -> s.OrderProofs:
    """Every delivery attempt at the order, oldest first, with its photo and signature URLs
    (staff, the order's merchant, its driver)."""
    return order_proofs(session, principal, services, order_id)


@router.get(
    "/v1/proofs/{sha256}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def read_proof_file(
    sha256: str,
    session: SessionDep,
    settings: SettingsDep,
    bearer: BearerDep,
    api_key: ApiKeyDep,
    token: Annotated[
        str | None,
        Query(min_length=16, max_length=128, description="A customer's tracking token."),
    ] = None,
) -> Response:
    """A proof photo or signature by its SHA-256: for staff, the merchant and driver of an order
    whose proof uses it, and (`?token=`, the tracking link's) the customer, for their photo."""
    if token is not None and bearer is None and api_key is None:
        after = timedelta(hours=settings.tracking_link_after_delivery_hours)
        stored, content = customer_photo(session, token, sha256, after)
    else:
        principal = allow(caller(session, bearer, api_key), READERS)
        stored, content = proof_file(session, principal, sha256)
    return Response(
        content,
        media_type=stored.content_type,
        headers={"Cache-Control": FILE_CACHE, "ETag": f'"{stored.sha256}"',
                 "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


@router.post(
    "/v1/parcels/{barcode}/custody",
    status_code=status.HTTP_201_CREATED,
    response_model=s.CustodyRecorded,
)
def record_custody_scan(
    barcode: str, payload: s.CustodyScan, session: SessionDep, services: ServicesDep,
    principal: Staff,
) -> s.CustodyRecorded:  # fmt: skip
    """A parcel received at a hub, returned to the depot, put in a locker or collected from
    it: appends the custody entry; `returned` also closes the order as returned."""
    return CustodyScanService(session, principal, services).scan(barcode, payload)
