from __future__ import annotations

import enum
from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class GroupBy(enum.StrEnum):
    day = "day"
    hub = "hub"
    vehicle_type = "vehicle_type"
    driver = "driver"


class PlotName(enum.StrEnum):
    on_time = "on_time"
    failure_reasons = "failure_reasons"
    co2_by_vehicle_type = "co2_by_vehicle_type"
    eta_error = "eta_error"


class ReportRow(BaseModel):
    """One group's figures; rates and shares are fractions (0-1), null when nothing to divide."""

    key: str | None = Field(description="ISO day, hub or driver id, vehicle type; null: none.")
    label: str
    orders: int = Field(description="Orders on the group's routes.")
    delivered: int
    failed: int = Field(description="Orders whose attempt failed (failed, rescheduled, returned).")
    parcels_delivered: int
    first_attempt_rate: float | None = Field(
        description="Delivered without an earlier failed attempt, of the orders attempted."
    )
    on_time_rate: float | None = Field(
        description="Delivered inside the promised window, of the deliveries that had one."
    )
    on_time_basis: int = Field(description="Deliveries with a promised window.")
    failed_attempts: int
    failure_reasons: dict[str, int] = Field(description="Failed attempts by reason code.")
    routes: int
    km: float = Field(description="Planned route distance times the share of stops reached.")
    driving_hours: float
    cost: float = Field(description="Vehicle fixed cost + per km + per hour, currency units.")
    cost_per_parcel: float | None
    co2_kg: float = Field(description="kg CO2e: km x the vehicle's factor (+ kWh x grid).")
    co2_g_per_parcel: float | None
    ev_share: float | None = Field(description="Parcels delivered by electric vans and drones.")
    bike_share: float | None = Field(description="Parcels delivered by cargo bikes.")
    rating_mean: float | None
    ratings: int
    arrival_delay_median_min: float | None = Field(
        description="Median minutes between planned and actual arrival (negative: early)."
    )
    arrival_delay_p90_min: float | None = Field(
        description="90th percentile of the absolute arrival delay, minutes."
    )


class ReportSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    group_by: GroupBy
    grid_kg_co2e_per_kwh: float = Field(description="The grid factor EV emissions used.")
    rows: list[ReportRow]
    totals: ReportRow
