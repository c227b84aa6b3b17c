"""Rules for customers and addresses: merchant ownership and geocoding."""

from __future__ import annotations

from typing import Any

from lastmile.auth.principal import Principal
from lastmile.crud import HookContext
from lastmile.integrations.geocoding import GeocodeQuery, Geocoder
from lastmile.kit.errors import FieldError, Unprocessable, field_error


def stamp_merchant(ctx: HookContext, values: dict[str, Any]) -> None:
    """Rows a merchant creates belong to that merchant, so only it (and staff) can see them.

    Ownership is set once, on create: an update (by staff or the merchant) keeps it.
    """
    if ctx.current_id is None:
        values["merchant_id"] = owning_merchant(ctx.principal, values.get("merchant_id"))


def owning_merchant(principal: Principal, requested: str | None) -> str | None:
    return principal.merchant_id if principal.merchant_id is not None else requested


def geocoding_error(values: dict[str, Any], geocoder: Geocoder) -> FieldError | None:
    """Fill in lat/lon when missing; return the field error when the address cannot be found."""
    if values.get("lat") is not None and values.get("lon") is not None:
        return None
    found = geocoder.geocode(
        GeocodeQuery(
            line1=values["line1"],
            postcode=values.get("postcode"),
            city=values.get("city"),
            country=values["country"],
        )
    )
    if found is None:
        return field_error(["lat"], "address could not be geocoded; send lat and lon")
    values["lat"], values["lon"] = found
    return None


def prepare_address(ctx: HookContext, values: dict[str, Any]) -> None:
    stamp_merchant(ctx, values)
    error = geocoding_error(values, ctx.services.geocoder)
    if error is not None:
        raise Unprocessable(error.message, errors=[error])
