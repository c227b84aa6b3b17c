"""HTTP routes: position ingest (app batch, OsmAnd), tracking devices, fleet positions, traces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.db.engine import Database
from lastmile.deps import (
    ApiKeyDep,
    BearerDep,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
    allow,
    caller,
    credential_given,
    get_database,
    require,
)
from lastmile.kit.clock import Instant, utcnow
from lastmile.kit.errors import NotFound, Unprocessable, field_error
from lastmile.planning.models import StopStatus
from lastmile.tracking.fixes import IncomingFix
from lastmile.tracking.ingest import IngestResult, PositionIngest, position_payload
from lastmile.tracking.models import FixSource
from lastmile.tracking.osmand import ProtocolError, parse_json, parse_query
from lastmile.tracking.processor import TrackingProcessor
from lastmile.tracking.schemas import (
    DeviceCreate,
    DeviceCreated,
    DeviceRead,
    IngestReport,
    PositionBatch,
    RefusedFix,
    TraceFix,
    VehiclePositionRead,
)
from lastmile.tracking.service import (
    DeviceService,
    device_by_identifier,
    reporting_vehicle,
    vehicle_trace,
)

router = APIRouter(tags=["tracking"])
Staff = Annotated[Principal, Depends(require(*STAFF))]
Reporter = Annotated[Principal, Depends(require(*STAFF, Access.driver))]


async def get_ingest(request: Request) -> PositionIngest:
    ingest: PositionIngest = request.app.state.tracking.ingest
    return ingest


Ingest = Annotated[PositionIngest, Depends(get_ingest)]


def _report(result: IngestResult) -> IngestReport:
    return IngestReport(
        vehicle_id=result.vehicle_id,
        accepted=result.accepted,
        refused=[
            RefusedFix(index=r.index, reason=r.reason, detail=r.detail) for r in result.refused
        ],
    )


REPORTERS = frozenset({*STAFF, Access.driver})


@router.post("/v1/positions", response_model=IngestReport, dependencies=[Depends(credential_given)])
def report_positions(
    batch: PositionBatch,
    db: Annotated[Database, Depends(get_database)],
    bearer: BearerDep,
    api_key: ApiKeyDep,
    ingest: Ingest,
) -> IngestReport:
    """Report a batch of GPS fixes (driver app, or a staff gateway naming the vehicle).

    Fixes may come in any order and may repeat (retries are safe). Each fix that is out of
    range, NaN, in the future, too old or implies a jump above the speed limit is refused
    with its reason in `refused`; the others are stored.
    """
    # The busiest route of the API: the unit of work, authentication and the work run in one
    # threadpool call (as dependencies they would be three), which lifts the ingest by a
    # quarter (lastmile bench ingest).
    with db.unit_of_work() as session:
        principal = allow(caller(session, bearer, api_key), REPORTERS)
        return _record_batch(session, principal, batch, ingest)


def _record_batch(
    session: Session, principal: Principal, batch: PositionBatch, ingest: PositionIngest
) -> IngestReport:
    vehicle_id = reporting_vehicle(session, principal, batch.vehicle_id)
    fixes = [
        IncomingFix(
            t=f.t, lat=f.lat, lon=f.lon, accuracy_m=f.accuracy, speed_mps=f.speed,
            heading_deg=f.heading, battery=f.battery,
        )
        for f in batch.fixes
    ]  # fmt: skip
    result = ingest.record(
        session, principal.organization_id, vehicle_id, fixes, FixSource.app,
        driver_id=principal.driver_id,
    )  # fmt: skip
    return _report(result)


async def _osmand_params(request: Request) -> dict[str, Any] | dict[str, str]:
    params: dict[str, str] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and "json" in content_type:
        try:
            body = await request.json()
        except ValueError:
            raise Unprocessable(
                "The body is not JSON.", errors=[field_error([], "invalid JSON")]
            ) from None
        if not isinstance(body, dict):
            raise Unprocessable("The body must be a JSON object.")
        return {"__json__": body}
    if request.method == "POST" and "form" in content_type:
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def osmand_report(
    session: WriteSessionDep,
    ingest: Ingest,
    params: Annotated[dict[str, Any], Depends(_osmand_params)],
) -> IngestReport:
    """OsmAnd / Traccar Client protocol: point the app at `<base>/v1/osmand`.

    The device identifier is the credential (register devices under `/v1/tracking-devices`).
    Answers 200 once the report is handled (trackers retry anything else): a fix refused for
    its quality is reported in `refused`, not retried for ever.
    """
    now = utcnow()
    try:
        if "__json__" in params:
            report = parse_json(params["__json__"], now)
        else:
            report = parse_query(params, now)
    except ProtocolError as exc:
        raise Unprocessable(str(exc), errors=[field_error([exc.field], str(exc))]) from None
    device = device_by_identifier(session, report.identifier)
    if device is None:
        raise NotFound("No tracking device with this identifier; register it first.")
    device.last_seen_at = now
    result = ingest.record(
        session, device.organization_id, device.vehicle_id, [report.fix], FixSource.osmand,
        now=now,
    )  # fmt: skip
    return _report(result)


for _method in ("GET", "POST"):
    # One handler, two operations (OsmAnd reports with GET, Traccar Client with POST).
    router.add_api_route(
        "/v1/osmand",
        osmand_report,
        methods=[_method],
        operation_id=f"osmand_report_{_method.lower()}",
        response_model=IngestReport,
        responses={
            422: {"description": "Not a readable report"},
            404: {"description": "Unknown device"},
        },
    )


@router.post(
    "/v1/tracking-devices", status_code=status.HTTP_201_CREATED, response_model=DeviceCreated
)
def create_device(
    payload: DeviceCreate,
    session: SessionDep,
    principal: Staff,
    settings: SettingsDep,
    response: Response,
) -> DeviceCreated:
    """Register a phone tracker or GPS unit for a vehicle. The identifier is shown once."""
    created = DeviceService(session, principal).create(
        payload.vehicle_id, payload.name, payload.identifier
    )
    response.headers["Cache-Control"] = "no-store"
    return DeviceCreated(
        **DeviceRead.model_validate(created.device).model_dump(),
        identifier=created.identifier,
        osmand_url=f"{settings.base_url.rstrip('/')}/v1/osmand",
    )


@router.get("/v1/tracking-devices", response_model=list[DeviceRead])
def list_devices(session: SessionDep, principal: Staff) -> list[DeviceRead]:
    return [DeviceRead.model_validate(d) for d in DeviceService(session, principal).find()]


@router.delete("/v1/tracking-devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_device(device_id: str, session: SessionDep, principal: Staff) -> Response:
    DeviceService(session, principal).delete(device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/fleet/positions", response_model=list[VehiclePositionRead])
def fleet_positions(principal: Staff, ingest: Ingest) -> list[VehiclePositionRead]:
    """The latest accepted position of every vehicle that has reported."""
    positions = ingest.latest.all(principal.organization_id)
    return [
        VehiclePositionRead.model_validate(position_payload(p))
        for p in sorted(positions.values(), key=lambda p: p.vehicle_id)
    ]


@router.get("/v1/vehicles/{vehicle_id}/trace", response_model=list[TraceFix])
def read_trace(
    vehicle_id: str,
    session: SessionDep,
    principal: Staff,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 2_000,
) -> list[TraceFix]:
    """A vehicle's stored fixes in time order (default: the last 24 hours)."""
    until = _aware(until) or utcnow()
    since = _aware(since) or until - timedelta(hours=24)
    fixes = vehicle_trace(session, principal, vehicle_id, since, until, limit)
    return [TraceFix.model_validate(f) for f in fixes]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class StopConfirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: Instant | None = Field(default=None, description="When it happened; default now.")


class StopState(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    route_id: str
    position: int
    status: StopStatus
    arrived_at: datetime | None
    departed_at: datetime | None
    eta_expected: datetime | None
    eta_earliest: datetime | None
    eta_latest: datetime | None
    at_risk: bool


async def get_processor(request: Request) -> TrackingProcessor:
    processor: TrackingProcessor = request.app.state.tracking.processor
    return processor


@router.post("/v1/routes/{route_id}/stops/{stop_id}/{what}", response_model=StopState)
def confirm_stop(
    route_id: str,
    stop_id: str,
    what: Literal["arrival", "departure"],
    session: SessionDep,
    principal: Reporter,
    processor: Annotated[TrackingProcessor, Depends(get_processor)],
    payload: StopConfirmation | None = None,
) -> StopState:
    """The driver confirms arriving at or leaving a stop by hand (geofences do it otherwise)."""
    at = payload.at if payload else None
    stop = processor.confirm(session, principal, route_id, stop_id, what, at)
    return StopState.model_validate(stop)
