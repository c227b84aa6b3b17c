"""Realistic defaults per vehicle type (sources in DOMAIN.md: UK 2023 factors, AMZ LMRC data).

Every figure is overridable per vehicle; these only fill what a request leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass

from lastmile.fleet.models import VehicleType
from lastmile.routing.profiles import RoutingProfile


@dataclass(frozen=True)
class VehicleDefaults:
    routing_profile: RoutingProfile
    avg_speed_kmh: float
    co2_g_per_km: float  # tank-to-wheel; electricity is counted through energy_kwh_per_km
    energy_kwh_per_km: float
    range_km: float | None
    max_payload_kg: float | None


VEHICLE_DEFAULTS: dict[VehicleType, VehicleDefaults] = {
    # 3.5 t diesel panel van at ~9.5 L/100 km x 2.51 kg CO2e/L.
    VehicleType.van: VehicleDefaults(RoutingProfile.VAN, 25.0, 240.0, 0.0, None, None),
    VehicleType.ev_van: VehicleDefaults(RoutingProfile.VAN, 25.0, 0.0, 0.22, 200.0, None),
    VehicleType.cargo_bike: VehicleDefaults(
        RoutingProfile.CARGO_BIKE, 15.0, 0.0, 0.015, 60.0, None
    ),
    VehicleType.drone: VehicleDefaults(RoutingProfile.DRONE, 50.0, 0.0, 0.02, 15.0, 2.5),
}
