"""Geographic value types for API schemas (distances live in the routing core)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, examples=[41.1579])]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, examples=[-8.6291])]
