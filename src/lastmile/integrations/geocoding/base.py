from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GeocodeQuery:
    line1: str
    postcode: str | None
    city: str | None
    country: str

    def text(self) -> str:
        return ", ".join(p for p in (self.line1, self.postcode, self.city, self.country) if p)


class Geocoder(Protocol):
    """Finds coordinates for an address, or None when it cannot."""

    def geocode(self, query: GeocodeQuery) -> tuple[float, float] | None: ...


class NoGeocoder:
    """The offline default: callers must send coordinates themselves."""

    def geocode(self, query: GeocodeQuery) -> tuple[float, float] | None:
        return None
