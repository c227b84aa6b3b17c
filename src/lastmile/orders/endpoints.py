"""HTTP routes for orders: create, import, list, read, change, status and history."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.deps import ServicesDep, SessionDep, require
from lastmile.kit.errors import FieldError, Unprocessable, field_error
from lastmile.kit.pagination import Cursor, Limit, Page
from lastmile.orders import schemas as s
from lastmile.orders.importer import ImportFormatError, import_orders
from lastmile.orders.service import OrderFilters, OrderService
from lastmile.orders.status import OrderStatus

router = APIRouter(prefix="/v1/orders", tags=["orders"])

MAX_IMPORT_BYTES = 50 * 1024 * 1024


def _service(
    session: SessionDep,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(*STAFF, Access.driver, Access.merchant))],
) -> OrderService:
    return OrderService(session, principal, services)


def _writer(
    session: SessionDep,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(*STAFF, Access.merchant))],
) -> OrderService:
    return OrderService(session, principal, services)


Orders = Annotated[OrderService, Depends(_service)]
OrderWriter = Annotated[OrderService, Depends(_writer)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=s.OrderRead)
def create_order(payload: s.OrderCreate, svc: OrderWriter) -> s.OrderRead:
    """Create an order. Send an `Idempotency-Key` header to make retries safe."""
    return s.OrderRead.model_validate(svc.create(payload))


class ImportResult(BaseModel):
    received: int
    imported: int
    invalid_rows: int
    errors: list[FieldError]
    order_ids: list[str]


@router.post(
    ":import",
    response_model=ImportResult,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            },
            "required": True,
        }
    },
)
async def import_orders_endpoint(
    request: Request,
    svc: OrderWriter,
    skip_invalid: Annotated[bool, Query(description="Import the valid rows anyway.")] = False,
) -> ImportResult:
    """Import many orders from CSV (`text/csv`) or JSON (`application/json`).

    Every row is checked first. With any error nothing is imported (422 with one error per bad
    row and field, `row` being the file line), unless `skip_invalid=true`.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    fmt = {"text/csv": "csv", "application/json": "json"}.get(content_type)
    if fmt is None:
        raise Unprocessable(
            "Send the file as text/csv or application/json.",
            errors=[field_error(["content-type"], f"unsupported: {content_type or 'none'}")],
        )
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise Unprocessable("The file is larger than 50 MB; split it.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable("The file is not UTF-8 text.") from exc
    try:
        # Checking and writing thousands of rows blocks; keep it off the event loop.
        report = await run_in_threadpool(
            lambda: import_orders(svc.intake_context(), text, fmt, skip_invalid=skip_invalid)
        )
    except ImportFormatError as exc:
        raise Unprocessable(f"The file cannot be read: {exc}") from exc
    if report.errors and not skip_invalid:
        raise Unprocessable(
            f"{report.invalid_rows} of {report.received} rows are invalid; nothing was imported.",
            errors=report.errors,
        )
    return ImportResult(**vars(report))


@router.get("", response_model=Page[s.OrderRead])
def list_orders(
    svc: Orders,
    cursor: Cursor = None,
    limit: Limit = 50,
    status: OrderStatus | None = None,
    service_date: date | None = None,
    zone: Annotated[str | None, Query(max_length=40)] = None,
    driver_id: str | None = None,
    merchant_id: str | None = None,
) -> Page[s.OrderRead]:
    """Orders the caller can see, oldest first, filtered by status, date, zone or driver."""
    filters = OrderFilters(status, service_date, zone, driver_id, merchant_id)
    paged = svc.find(filters, cursor=cursor, limit=limit)
    return Page[s.OrderRead].build(paged, s.OrderRead.model_validate)


@router.get("/{order_id}", response_model=s.OrderRead)
def read_order(order_id: str, svc: Orders) -> s.OrderRead:
    return s.OrderRead.model_validate(svc.get(order_id))


@router.patch("/{order_id}", response_model=s.OrderRead)
def update_order(order_id: str, patch: s.OrderUpdate, svc: OrderWriter) -> s.OrderRead:
    """Change windows, method, safe place, instructions, flags or priority.

    Changing windows or method of a planned order sends it back to `created` for re-planning.
    """
    return s.OrderRead.model_validate(svc.update(order_id, patch))


@router.post("/{order_id}/transitions", response_model=s.OrderRead)
def transition_order(order_id: str, payload: s.TransitionRequest, svc: Orders) -> s.OrderRead:
    """Move the order to another status; an illegal move answers 409 and changes nothing."""
    return s.OrderRead.model_validate(svc.transition(order_id, payload.status, payload.reason))


@router.post("/{order_id}/cancel", response_model=s.OrderRead)
def cancel_order(order_id: str, svc: OrderWriter) -> s.OrderRead:
    """Cancel an order that is not yet dispatched."""
    return s.OrderRead.model_validate(svc.transition(order_id, OrderStatus.cancelled, None))


@router.get("/{order_id}/history", response_model=list[s.OrderEventRead])
def order_history(order_id: str, svc: Orders) -> list[s.OrderEventRead]:
    """The order's status history, oldest first."""
    return [s.OrderEventRead.model_validate(e) for e in svc.history(order_id)]
