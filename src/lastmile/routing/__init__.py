"""
Route optimisation core: travel models, planning dataclasses, the planner and its validator.

Pure and typed: imports nothing from the web or database layers. Times are integer seconds
from the plan's epoch, distances integer metres. See docs/routing.md.
"""

from lastmile.routing.checks import check_problem as check_problem
from lastmile.routing.congestion import FREE_FLOW as FREE_FLOW
from lastmile.routing.congestion import URBAN_WEEKDAY as URBAN_WEEKDAY
from lastmile.routing.congestion import CongestedTravelModel as CongestedTravelModel
from lastmile.routing.congestion import CongestionProfile as CongestionProfile
from lastmile.routing.congestion import CongestionZone as CongestionZone
from lastmile.routing.decompose import DecompositionOptions as DecompositionOptions
from lastmile.routing.decompose import plan_routes_decomposed as plan_routes_decomposed
from lastmile.routing.errors import InvalidProblem as InvalidProblem
from lastmile.routing.errors import RoutingError as RoutingError
from lastmile.routing.errors import TravelModelError as TravelModelError
from lastmile.routing.errors import UnsupportedProfile as UnsupportedProfile
from lastmile.routing.geo import Coordinate as Coordinate
from lastmile.routing.geojson import line_string as line_string
from lastmile.routing.geojson import plan_feature_collection as plan_feature_collection
from lastmile.routing.haversine import DEFAULT_STRAIGHT_LINE_SPEEDS as DEFAULT_STRAIGHT_LINE_SPEEDS
from lastmile.routing.haversine import HaversineModel as HaversineModel
from lastmile.routing.haversine import StraightLineSpeed as StraightLineSpeed
from lastmile.routing.matrices import ProblemMatrices as ProblemMatrices
from lastmile.routing.matrices import build_matrices as build_matrices
from lastmile.routing.matrices import index_points as index_points
from lastmile.routing.osrm import OsrmTravelModel as OsrmTravelModel
from lastmile.routing.plan import Plan as Plan
from lastmile.routing.plan import PlannedBreak as PlannedBreak
from lastmile.routing.plan import PlannedRoute as PlannedRoute
from lastmile.routing.plan import PlannedVisit as PlannedVisit
from lastmile.routing.plan import Progress as Progress
from lastmile.routing.plan import SearchStats as SearchStats
from lastmile.routing.plan import UnassignedJob as UnassignedJob
from lastmile.routing.plan import UnassignedReason as UnassignedReason
from lastmile.routing.plan import VisitKind as VisitKind
from lastmile.routing.planner import plan_routes as plan_routes
from lastmile.routing.planner import plan_with_matrices as plan_with_matrices
from lastmile.routing.problem import Break as Break
from lastmile.routing.problem import Depot as Depot
from lastmile.routing.problem import Job as Job
from lastmile.routing.problem import Load as Load
from lastmile.routing.problem import PlanningOptions as PlanningOptions
from lastmile.routing.problem import Problem as Problem
from lastmile.routing.problem import TimeWindow as TimeWindow
from lastmile.routing.problem import VehicleType as VehicleType
from lastmile.routing.profiles import RoutingProfile as RoutingProfile
from lastmile.routing.road import DEFAULT_ROAD_RULES as DEFAULT_ROAD_RULES
from lastmile.routing.road import RoadNetworkModel as RoadNetworkModel
from lastmile.routing.road import RoadProfileRules as RoadProfileRules
from lastmile.routing.road import parse_maxspeed_kmh as parse_maxspeed_kmh
from lastmile.routing.service_time import DEFAULT_SERVICE_TIME_RULES as DEFAULT_SERVICE_TIME_RULES
from lastmile.routing.service_time import DeliveryMethod as DeliveryMethod
from lastmile.routing.service_time import ServiceTime as ServiceTime
from lastmile.routing.service_time import ServiceTimeRule as ServiceTimeRule
from lastmile.routing.service_time import service_time as service_time
from lastmile.routing.travel import UNREACHABLE as UNREACHABLE
from lastmile.routing.travel import TravelMatrices as TravelMatrices
from lastmile.routing.travel import TravelModel as TravelModel
from lastmile.routing.travel import TravelModelByProfile as TravelModelByProfile
from lastmile.routing.validate import Violation as Violation
from lastmile.routing.validate import ViolationKind as ViolationKind
from lastmile.routing.validate import validate_plan as validate_plan
