"""
Live ETA and geofence engine: arrival windows for the stops of a route being driven.

Pure and typed: imports only the standard library, numpy and the routing core; no web,
database or I/O. Times are float UNIX seconds, distances metres. One
:class:`RouteTracker` per route takes accepted fixes and driver confirmations and returns
events (arriving, arrived, departed, eta_changed, at_risk); a :class:`FleetLearning` shared
by an organisation's routes learns dwell times per delivery method and ETA residuals.
"""

from lastmile.eta.config import LearningConfig as LearningConfig
from lastmile.eta.config import TrackingConfig as TrackingConfig
from lastmile.eta.events import Arrived as Arrived
from lastmile.eta.events import Arriving as Arriving
from lastmile.eta.events import AtRisk as AtRisk
from lastmile.eta.events import Departed as Departed
from lastmile.eta.events import EtaChanged as EtaChanged
from lastmile.eta.events import TrackingEvent as TrackingEvent
from lastmile.eta.events import event_to_dict as event_to_dict
from lastmile.eta.learning import DEFAULT_DWELL_S as DEFAULT_DWELL_S
from lastmile.eta.learning import FleetLearning as FleetLearning
from lastmile.eta.model import Fix as Fix
from lastmile.eta.model import StopEta as StopEta
from lastmile.eta.model import StopPlan as StopPlan
from lastmile.eta.model import StopState as StopState
from lastmile.eta.model import StopStatus as StopStatus
from lastmile.eta.pace import pace_factor as pace_factor
from lastmile.eta.tracker import RouteTracker as RouteTracker
