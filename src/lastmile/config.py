"""Runtime settings, read once from the environment (prefix ``LASTMILE_``) and passed in."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """Everything that differs between deployments.

    No module reads the environment itself: ``Settings()`` is built once at the edge (CLI, app
    factory) and handed down.
    """

    model_config = SettingsConfigDict(env_prefix="LASTMILE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in data_dir."
    )
    redis_url: str | None = None
    secret_key: str = DEV_SECRET
    base_url: str = "http://127.0.0.1:8000"
    access_token_ttl_hours: int = Field(default=12, ge=1, le=24 * 30)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    auto_migrate: bool = True
    geocoder_url: str | None = Field(
        default=None, description="Nominatim/Photon-compatible search endpoint; unset = offline."
    )
    geocoder_kind: Literal["nominatim", "photon"] = "nominatim"
    grid_kg_co2e_per_kwh: float = Field(
        default=0.229, ge=0, description="Grid factor for EV emissions (UK 2023 incl. T&D)."
    )
    planning_workers: int = Field(
        default=2, ge=1, le=64, description="Parallel searches per plan (differently seeded)."
    )
    planning_in_process: bool = Field(
        default=False, description="Search in a thread instead of a worker process (tests)."
    )
    osm_pbf: Path | None = Field(
        default=None,
        description="OpenStreetMap extract for road travel times; unset = the "
        "shipped demo city when it covers the plan, else straight-line estimates.",
    )

    mqtt_url: str | None = Field(
        default=None,
        description="MQTT broker for vehicle telematics, e.g. mqtt://127.0.0.1:1883; unset = off.",
    )
    mqtt_share_group: str = Field(
        default="lastmile-ingest",
        description="MQTT shared-subscription group: server processes in one group split the "
        "telematics stream between them.",
    )
    position_max_age_hours: float = Field(
        default=24, gt=0, description="Fixes older than this are refused (offline buffers)."
    )
    position_max_speed_kmh: float = Field(
        default=250, gt=0, description="Implied speed above which a fix is a teleport."
    )
    trace_retention_days: int = Field(
        default=30, ge=1, description="Stored GPS traces are purged after this many days."
    )
    tracking_link_ttl_days: int = Field(
        default=30, ge=1, description="A tracking link expires this long after it is issued..."
    )
    tracking_link_after_delivery_hours: int = Field(
        default=72, ge=0, description="...or this long after the order is delivered or closed."
    )
    tracking_inline: bool = Field(
        default=False,
        description="Run geofences and ETAs inside the ingest request instead of the "
        "debounced background worker (tests, simulations).",
    )
    maps_url_template: str = Field(
        default="https://www.google.com/maps/dir/?api=1&destination={lat},{lon}",
        description="The driver app's navigation link; {lat}, {lon} and {label} (URL-encoded) "
        "are filled in.",
    )
    proof_photo_methods: list[
        Literal["doorstep", "safe_place", "locker", "pickup_point", "in_home"]
    ] = Field(
        default=["safe_place"],
        description="Delivery methods whose proof of delivery needs a photo (JSON list).",
    )
    failure_photo_reasons: list[
        Literal["not_home", "no_access", "refused", "damaged", "wrong_address", "unsafe"]
    ] = Field(
        default=["damaged", "no_access", "wrong_address"],
        description="Failure reasons that need a photo (JSON list); not 'unsafe': a driver "
        "in danger leaves, and not 'refused': it would picture the customer.",
    )
    proof_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest proof photo or signature."
    )
    tile_url: str | None = Field(
        default=None,
        description="Map tile URL template for tracking pages, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png; unset = offline drawing of the route.",
    )
    tile_attribution: str = "© OpenStreetMap contributors"
    self_service_locker_radius_km: float = Field(
        default=3.0, gt=0, le=50, allow_inf_nan=False,
        description="Lockers and pick-up points within this distance of the delivery address "
        "are offered on the tracking link.",
    )  # fmt: skip

    chat_close_after_hours: int = Field(
        default=24,
        ge=0,
        description="An order's chat turns read-only this long after it is delivered, failed "
        "or cancelled.",
    )
    chat_retention_days: int = Field(
        default=90, ge=1, description="Chat messages are deleted this long after they were sent."
    )
    chat_messages_per_minute: int = Field(
        default=10, ge=1, description="Messages one side of a conversation may send per minute..."
    )
    chat_messages_per_day: int = Field(default=100, ge=1, description="...and per 24 hours.")
    feedback_follow_up_max_rating: int = Field(
        default=2, ge=1, le=5, description="A rating this low or lower opens a follow-up."
    )

    smtp_url: str | None = Field(
        default=None,
        description="Mail server for customer emails: smtp://host:port, "
        "smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465; unset = no email.",
    )
    smtp_from: str = Field(
        default="Lastmile <no-reply@lastmile.invalid>", description="From of customer emails."
    )
    sms_provider: Literal["file", "http"] = Field(
        default="file",
        description="file: append each SMS as a JSON line to <data_dir>/sms.log; http: POST it "
        "to sms_http_url (see docs/notifications.md).",
    )
    sms_http_url: str | None = None
    sms_http_key: str | None = Field(default=None, description="Bearer key of the SMS gateway.")
    notification_quiet_start: time = Field(
        default=time(21, 0),
        description="Quiet hours (the organization's local time): confirmations and feedback "
        "requests wait until they end; delivery-day messages still go.",
    )
    notification_quiet_end: time = time(8, 0)
    notification_stops_away: int = Field(
        default=3, ge=1, description="Tell the customer once, this many stops before theirs."
    )
    notification_arriving_minutes: int = Field(
        default=10, ge=1, description="Tell the customer once when the driver is this close."
    )
    feedback_request_delay_minutes: int = Field(
        default=30, ge=0, description="Ask for a rating this long after delivery."
    )
    dispatch_silent_minutes: int = Field(
        default=10,
        ge=1,
        description="A route under way whose vehicle sent no fix for this long shows in the "
        "dispatcher's exceptions inbox.",
    )
    notification_max_attempts: int = Field(
        default=8, ge=1, description="Sends of one message (webhook, email, SMS) before it is dead."
    )
    notification_retry_base_s: float = Field(
        default=30.0, gt=0, description="First retry delay; doubled per attempt, with jitter."
    )
    notification_lease_s: float = Field(
        default=300.0,
        gt=0,
        description="A worker's claim on a message; a worker that died mid-send is replaced "
        "after it, and the message goes again with the same idempotency key.",
    )
    notification_poll_s: float = Field(default=2.0, gt=0, description="Worker poll interval.")
    notification_retention_days: int = Field(
        default=90,
        ge=1,
        description="Sent and dead notifications (rendered messages: names, addresses, links) "
        "are deleted this long after they were created.",
    )
    notifications_inline: bool | None = Field(
        default=None,
        description="Send notifications from a thread of each server process (default, except "
        "in the test environment, whose tests run worker passes themselves); false = run "
        "`lastmile notifications worker` instead.",
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Let webhook URLs point at loopback and private networks (refused by "
        "default: a merchant must not make the server call internal services).",
    )

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("LASTMILE_SECRET_KEY must be set in production")
        return self

    @property
    def notifications_in_process(self) -> bool:
        if self.notifications_inline is None:
            return self.environment != "test"
        return self.notifications_inline

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lastmile.sqlite').resolve()}"
