"""Turning a postal address into coordinates."""

from lastmile.integrations.geocoding.base import GeocodeQuery, Geocoder, NoGeocoder
from lastmile.integrations.geocoding.http import HttpGeocoder

__all__ = ["GeocodeQuery", "Geocoder", "HttpGeocoder", "NoGeocoder", "build_geocoder"]


def build_geocoder(url: str | None, kind: str = "nominatim") -> Geocoder:
    """The configured geocoder: an HTTP service when a URL is set, else none (offline)."""
    return HttpGeocoder(url, kind=kind) if url else NoGeocoder()
