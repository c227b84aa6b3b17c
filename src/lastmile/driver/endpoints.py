"""HTTP routes of the driver app: the day, start, load-out, arrival, delivery and failure."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile, status

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.deps import ServicesDep, SessionDep, SettingsDep, require
from lastmile.driver import schemas as s
from lastmile.driver.loadout import LoadoutService
from lastmile.driver.models import FailureReason
from lastmile.driver.proof import Delivery, Failure, ProofService, Upload
from lastmile.driver.proofs import proof_reads
from lastmile.driver.service import RouteActions
from lastmile.driver.today import TodayService
from lastmile.kit.clock import Instant
from lastmile.tracking.endpoints import StopConfirmation, StopState, get_processor
from lastmile.tracking.processor import TrackingProcessor

router = APIRouter(tags=["driver"])
# Drivers act for themselves; staff may act on a driver's behalf.
Actor = Annotated[Principal, Depends(require(*STAFF, Access.driver))]
Processor = Annotated[TrackingProcessor, Depends(get_processor)]

CapturedAt = Annotated[
    Instant, Form(description="When it happened on the device (ISO 8601 with an offset).")
]
Lat = Annotated[float | None, Form(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float | None, Form(ge=-180, le=180, allow_inf_nan=False)]
Note = Annotated[str | None, Form(max_length=1000)]
Photo = Annotated[UploadFile | None, File(description="JPEG, PNG or WebP.")]


def _upload(field: str, file: UploadFile | None, limit: int) -> Upload | None:
    """The file's bytes, read at most one past ``limit`` (enough to tell it is too large)."""
    if file is None:
        return None
    content = file.file.read(limit + 1)
    # A form's empty file input arrives as a nameless empty file: nothing was chosen.
    return Upload(field, content) if content else None


@router.get("/v1/driver/today", response_model=s.Today)
def today(
    session: SessionDep,
    settings: SettingsDep,
    principal: Actor,
    date: Annotated[date | None, Query(description="Default: today (organization time).")] = None,
    driver_id: Annotated[
        str | None, Query(max_length=40, description="Whose day (staff only).")
    ] = None,
) -> s.Today:
    """The driver's routes of the day: stops in order with times, ETA windows, orders, parcels,
    delivery preferences, navigation links and load-out state. No route: an empty list."""
    return TodayService(session, principal, settings).today(date, driver_id)


@router.post("/v1/driver/routes/{route_id}/start", response_model=s.DriverRoute)
def start_route(
    route_id: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: Actor,
    processor: Processor,
) -> s.DriverRoute:
    """Start the shift on this route: it is under way and its orders out for delivery, as the
    first GPS fix would make them. Starting a route already under way changes nothing."""
    RouteActions(session, principal, processor).start(route_id)
    return TodayService(session, principal, settings).route(route_id)


@router.post("/v1/driver/routes/{route_id}/loadout", response_model=s.LoadoutResult)
def loadout(
    route_id: str, payload: s.LoadoutScan, session: SessionDep, settings: SettingsDep,
    principal: Actor,
) -> s.LoadoutResult:  # fmt: skip
    """Record parcels scanned into the vehicle (once each, a `loaded` custody entry); answers
    what is loaded, still missing, of another route (`extra`) or unknown."""
    return LoadoutService(session, principal, settings.secret_key).scan(route_id, payload)


@router.post("/v1/driver/stops/{stop_id}/arrive", response_model=StopState)
def arrive(
    stop_id: str,
    session: SessionDep,
    principal: Actor,
    processor: Processor,
    payload: StopConfirmation | None = None,
) -> StopState:
    """The driver is at the stop (as its geofence would say): its orders are arriving."""
    at = payload.at if payload else None
    stop = RouteActions(session, principal, processor).confirm(stop_id, "arrival", at)
    return StopState.model_validate(stop)


@router.post("/v1/driver/stops/{stop_id}/depart", response_model=StopState)
def depart(
    stop_id: str,
    session: SessionDep,
    principal: Actor,
    processor: Processor,
    payload: StopConfirmation | None = None,
) -> StopState:
    """The driver leaves the stop; the route completes once every delivery stop is left."""
    at = payload.at if payload else None
    stop = RouteActions(session, principal, processor).confirm(stop_id, "departure", at)
    return StopState.model_validate(stop)


def _located(response: Response, order_id: str) -> None:
    response.headers["Location"] = f"/v1/orders/{order_id}/proof"


@router.post(
    "/v1/driver/orders/{order_id}/deliver",
    status_code=status.HTTP_201_CREATED,
    response_model=s.ProofRead,
    responses={409: {"description": "Already delivered, or not deliverable now"},
               413: {"description": "A file is too large"}},
)  # fmt: skip
def deliver(
    order_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: Actor,
    response: Response,
    captured_at: CapturedAt,
    recipient_name: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
    age_checked: Annotated[bool, Form()] = False,
    lat: Lat = None,
    lon: Lon = None,
    note: Note = None,
    photo: Photo = None,
    signature: Annotated[UploadFile | None, File(description="PNG.")] = None,
) -> s.ProofRead:
    """Proof of delivery, in one request (multipart/form-data) so an offline app can replay it
    with one Idempotency-Key. The order is delivered and each parcel gets a custody entry
    (`delivered`, or `put_in_locker` for lockers and pick-up points) carrying the SHA-256 of
    the photo and signature. See docs/driver.md for which fields each order needs."""
    limit = services.settings.proof_max_bytes
    delivery = Delivery(
        captured_at=captured_at, lat=lat, lon=lon, note=note,
        photo=_upload("photo", photo, limit), recipient_name=recipient_name,
        age_checked=age_checked, signature=_upload("signature", signature, limit),
    )  # fmt: skip
    proof = ProofService(session, principal, services).deliver(order_id, delivery)
    _located(response, order_id)
    return proof_reads(session, principal, [proof])[0]


@router.post(
    "/v1/driver/orders/{order_id}/fail",
    status_code=status.HTTP_201_CREATED,
    response_model=s.ProofRead,
    responses={409: {"description": "Already failed, or not attemptable now"},
               413: {"description": "The photo is too large"}},
)  # fmt: skip
def fail(
    order_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: Actor,
    response: Response,
    reason: Annotated[FailureReason, Form()],
    captured_at: CapturedAt,
    lat: Lat = None,
    lon: Lon = None,
    note: Note = None,
    photo: Photo = None,
) -> s.ProofRead:
    """A failed attempt with its reason code (multipart/form-data, like a delivery): the order
    is failed and each parcel gets a `failed` custody entry. Some reasons need a photo."""
    failure = Failure(
        reason=reason, captured_at=captured_at, lat=lat, lon=lon, note=note,
        photo=_upload("photo", photo, services.settings.proof_max_bytes),
    )  # fmt: skip
    proof = ProofService(session, principal, services).fail(order_id, failure)
    _located(response, order_id)
    return proof_reads(session, principal, [proof])[0]
