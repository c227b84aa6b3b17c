"""Long-lived collaborators built once per app from Settings (the adapters at the edge)."""

from __future__ import annotations

from dataclasses import dataclass

from lastmile.config import Settings
from lastmile.integrations.geocoding import Geocoder, build_geocoder
from lastmile.live.broker import Broker, build_broker


@dataclass(frozen=True)
class Services:
    settings: Settings
    geocoder: Geocoder
    # Live events (in-process, or Redis pub/sub shared by server processes); the app's
    # lifespan starts and stops it.
    broker: Broker

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            geocoder=build_geocoder(settings.geocoder_url, settings.geocoder_kind),
            broker=build_broker(settings.redis_url),
        )
