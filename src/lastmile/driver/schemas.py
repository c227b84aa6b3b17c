"""What the driver API reads and answers (see docs/driver.md, "API")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lastmile.driver.models import FailureReason, ProofOutcome
from lastmile.fleet.models import PickupPointKind, VehicleType
from lastmile.kit.clock import Instant
from lastmile.orders.models import DeliveryMethod, SafePlace
from lastmile.orders.schemas import Barcode
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import RouteStatus, StopStatus

ProofStatus = Literal["none", "delivered", "failed"]


class Policy(BaseModel):
    """The evidence rules the app must meet, so it can ask for them before sending."""

    photo_required_for_methods: list[DeliveryMethod]
    failure_reasons: list[FailureReason]
    photo_required_for_reasons: list[FailureReason]
    max_file_bytes: int
    photo_types: list[str]
    signature_types: list[str]


class VehicleBrief(BaseModel):
    id: str
    name: str
    type: VehicleType


class DepotBrief(BaseModel):
    id: str
    name: str
    lat: float
    lon: float
    address: str | None


class Loadout(BaseModel):
    expected: int
    scanned: int
    missing: list[str]
    completed_at: datetime | None


class Navigation(BaseModel):
    geo: str = Field(description="A `geo:` URI: opens the phone's maps app.")
    maps_url: str = Field(description="A web maps URL (setting LASTMILE_MAPS_URL_TEMPLATE).")


class AddressBrief(BaseModel):
    text: str
    line1: str
    line2: str | None
    postcode: str | None
    city: str | None
    access_notes: str | None


class ParcelBrief(BaseModel):
    id: str
    barcode: str
    weight_kg: float


class PickupPointBrief(BaseModel):
    id: str
    name: str
    kind: PickupPointKind
    lat: float
    lon: float
    address: str | None


class Requirements(BaseModel):
    """What a delivery of this order must carry."""

    recipient_name: bool
    photo: bool
    signature: bool
    age_check: bool


class StopOrder(BaseModel):
    id: str
    merchant_reference: str | None
    status: OrderStatus
    customer_first_name: str
    customer_language: str
    address: AddressBrief
    parcels: list[ParcelBrief]
    delivery_method: DeliveryMethod
    pickup_point: PickupPointBrief | None
    safe_place: SafePlace | None
    safe_place_note: str | None
    instructions: str | None
    signature_required: bool
    age_check: bool
    requires: Requirements
    proof_status: ProofStatus


class DriverStop(BaseModel):
    id: str
    position: int
    kind: str
    lat: float
    lon: float
    label: str
    planned_arrival: datetime
    planned_departure: datetime
    status: StopStatus
    arrived_at: datetime | None
    departed_at: datetime | None
    eta_earliest: datetime | None
    eta_expected: datetime | None
    eta_latest: datetime | None
    at_risk: bool
    navigation: Navigation
    orders: list[StopOrder]


class DriverRoute(BaseModel):
    id: str
    status: RouteStatus
    service_date: date
    starts_at: datetime
    ends_at: datetime
    vehicle: VehicleBrief
    depot: DepotBrief
    loadout: Loadout
    stops: list[DriverStop]


class Today(BaseModel):
    date: date
    # The organization's IANA time zone: the app shows times as the depot reads them.
    timezone: str
    policy: Policy
    routes: list[DriverRoute]


class LoadoutScan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    barcodes: list[Barcode] = Field(default_factory=list, max_length=1000)
    complete: bool = Field(default=False, description="The load-out is finished.")
    at: Instant | None = Field(default=None, description="When they were scanned; default now.")


class LoadoutResult(BaseModel):
    route_id: str
    expected: int
    loaded: list[str]
    newly_loaded: list[str]
    missing: list[str]
    extra: list[str] = Field(description="Parcels of the organization that are not on the route.")
    unknown: list[str] = Field(description="Barcodes no parcel of the organization has.")
    completed_at: datetime | None


class FileRead(BaseModel):
    sha256: str
    content_type: str
    size: int
    url: str


class ProofRead(BaseModel):
    id: str
    order_id: str
    route_id: str | None
    outcome: ProofOutcome
    custody_event: str
    recipient_name: str | None
    age_checked: bool
    reason: FailureReason | None
    note: str | None
    captured_at: datetime
    received_at: datetime
    lat: float | None
    lon: float | None
    driver_id: str | None
    actor: str
    photo: FileRead | None
    signature: FileRead | None
    ledger_entry_ids: list[str]


class OrderProofs(BaseModel):
    order_id: str
    status: OrderStatus
    proofs: list[ProofRead]


CustodyScanEvent = Literal["received_at_hub", "returned", "collected", "put_in_locker"]


class CustodyScan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: CustodyScanEvent
    at: Instant | None = Field(default=None, description="When it happened; default now.")
    hub_id: str | None = Field(
        default=None, max_length=40, description="The depot or hub; required to receive."
    )
    note: Annotated[str, Field(max_length=1000)] | None = None


class CustodyRecorded(BaseModel):
    parcel_id: str
    barcode: str
    order_id: str
    event: CustodyScanEvent
    at: datetime
    order_status: OrderStatus
    ledger_entry_id: str
