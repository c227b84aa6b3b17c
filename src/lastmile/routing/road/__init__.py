"""Road-network travel model built from OpenStreetMap data."""

from lastmile.routing.road.model import RoadNetworkModel as RoadNetworkModel
from lastmile.routing.road.rules import DEFAULT_ROAD_RULES as DEFAULT_ROAD_RULES
from lastmile.routing.road.rules import RoadProfileRules as RoadProfileRules
from lastmile.routing.road.rules import parse_maxspeed_kmh as parse_maxspeed_kmh

__all__ = ["DEFAULT_ROAD_RULES", "RoadNetworkModel", "RoadProfileRules", "parse_maxspeed_kmh"]
