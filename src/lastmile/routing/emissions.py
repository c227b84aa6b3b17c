"""Route cost and CO2 from distance and duration (GLEC-style: distance times a factor)."""

from __future__ import annotations

from lastmile.routing.problem import VehicleType


def route_cost(vehicle_type: VehicleType, distance_m: int, duration_s: int) -> float:
    """Fixed cost plus distance and time costs, in currency units."""
    return (
        vehicle_type.fixed_cost
        + vehicle_type.cost_per_km * distance_m / 1000
        + vehicle_type.cost_per_hour * duration_s / 3600
    )


def route_co2_g(vehicle_type: VehicleType, distance_m: int, grid_co2_g_per_kwh: float) -> float:
    """Tank-to-wheel emissions plus those of the electricity used, in grams CO2e."""
    per_km = vehicle_type.co2_g_per_km + vehicle_type.energy_kwh_per_km * grid_co2_g_per_kwh
    return per_km * distance_m / 1000
