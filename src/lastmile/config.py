"""Runtime settings, read once from the environment (prefix ``LASTMILE_``) and passed in."""

from __future__ import annotations

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
    tile_url: str | None = Field(
        default=None,
        description="Map tile URL template for tracking pages, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png; unset = offline drawing of the route.",
    )
    tile_attribution: str = "© OpenStreetMap contributors"

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("LASTMILE_SECRET_KEY must be set in production")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lastmile.sqlite').resolve()}"
