"""Adapter for a Nominatim- or Photon-compatible search service."""

from __future__ import annotations

import logging

import httpx

from lastmile.integrations.geocoding.base import GeocodeQuery

log = logging.getLogger(__name__)


class HttpGeocoder:
    """Asks ``{url}/search`` (Nominatim) or ``{url}/api`` (Photon) for the best match."""

    def __init__(self, url: str, *, kind: str = "nominatim", timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.kind = kind
        self.client = httpx.Client(timeout=timeout_s, headers={"User-Agent": "lastmile-geocoder/1"})

    def geocode(self, query: GeocodeQuery) -> tuple[float, float] | None:
        try:
            if self.kind == "photon":
                response = self.client.get(
                    f"{self.url}/api", params={"q": query.text(), "limit": 1}
                )
                response.raise_for_status()
                features = response.json().get("features", [])
                if not features:
                    return None
                lon, lat = features[0]["geometry"]["coordinates"]
                return float(lat), float(lon)
            response = self.client.get(
                f"{self.url}/search",
                params={
                    "q": query.text(),
                    "format": "jsonv2",
                    "limit": 1,
                    "countrycodes": query.country.lower(),
                },
            )
            response.raise_for_status()
            hits = response.json()
            return (float(hits[0]["lat"]), float(hits[0]["lon"])) if hits else None
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            # A geocoder outage must not fail the request: the caller asks for coordinates.
            log.warning("geocoding failed for %r: %s", query.text(), exc)
            return None
