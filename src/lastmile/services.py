"""Long-lived collaborators built once per app from Settings (the adapters at the edge)."""

from __future__ import annotations

from dataclasses import dataclass

from lastmile.config import Settings
from lastmile.integrations.geocoding import Geocoder, build_geocoder


@dataclass(frozen=True)
class Services:
    settings: Settings
    geocoder: Geocoder

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            geocoder=build_geocoder(settings.geocoder_url, settings.geocoder_kind),
        )
