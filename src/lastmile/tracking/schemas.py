from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from lastmile.kit.clock import Instant
from lastmile.tracking.fixes import Rejection


class FixIn(BaseModel):
    """One GPS fix. Ranges are checked per fix after parsing, so one bad fix in a batch is
    refused with its reason while the others are stored."""

    model_config = ConfigDict(extra="forbid")

    t: Instant = Field(description="When the fix was taken (ISO 8601 with offset).")
    lat: float = Field(description="Latitude, WGS84 degrees.")
    lon: float = Field(description="Longitude, WGS84 degrees.")
    accuracy: float | None = Field(default=None, ge=0, description="Horizontal accuracy, m.")
    speed: float | None = Field(default=None, ge=0, description="Ground speed, m/s.")
    heading: float | None = Field(default=None, description="Course over ground, degrees.")
    battery: float | None = Field(default=None, ge=0, le=1, description="Battery level, 0-1.")


class PositionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fixes: list[FixIn] = Field(min_length=1, max_length=1000)
    vehicle_id: str | None = Field(
        default=None,
        description="Required for staff (gateways); drivers default to their active route's "
        "vehicle.",
    )


class RefusedFix(BaseModel):
    index: int = Field(description="Position of the fix in the batch sent.")
    reason: Rejection
    detail: str


class IngestReport(BaseModel):
    vehicle_id: str
    accepted: int
    refused: list[RefusedFix]


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vehicle_id: str
    name: str = Field(min_length=1, max_length=120)
    identifier: str | None = Field(
        default=None,
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The identifier the device sends (e.g. an IMEI); omit to get a random "
        "one, which is safer: the OsmAnd protocol has no other credential.",
    )


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    vehicle_id: str
    name: str
    identifier_hint: str
    created_at: datetime
    last_seen_at: datetime | None


class DeviceCreated(DeviceRead):
    identifier: str = Field(description="Shown once; configure it in the tracker app.")
    osmand_url: str = Field(description="Server URL to enter in OsmAnd / Traccar Client.")


class VehiclePositionRead(BaseModel):
    vehicle_id: str
    driver_id: str | None
    at: datetime
    lat: float
    lon: float
    speed_mps: float | None
    heading_deg: float | None
    accuracy_m: float | None
    battery: float | None
    received_at: datetime


class TraceFix(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    recorded_at: datetime
    lat: float
    lon: float
    accuracy_m: float | None
    speed_mps: float | None
    heading_deg: float | None
    source: str
