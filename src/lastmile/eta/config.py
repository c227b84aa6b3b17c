"""Tuning of the route trackers and of the fleet's learning, each with the reason for it."""

from __future__ import annotations

from dataclasses import dataclass

from lastmile.routing.haversine import DEFAULT_STRAIGHT_LINE_SPEEDS
from lastmile.routing.profiles import RoutingProfile

_VAN = DEFAULT_STRAIGHT_LINE_SPEEDS[RoutingProfile.VAN]


@dataclass(frozen=True, slots=True)
class TrackingConfig:
    """
    Geofence, event and prediction settings of one route tracker.

    The defaults suit vans delivering parcels with phone GPS (5-20 m error outdoors, pings
    every 5-60 s). For vehicles that pass stops without stopping (a replayed bus), set
    ``arrive_dwell_s=0`` and smaller radii.
    """

    # Stop coordinates are geocoded doors; vans park 20-40 m away and phones err 5-20 m.
    arrive_radius_m: float = 50.0
    # About half the shortest planned stop (a 52 s doorstep drop), longer than rolling through
    # the zone; the arrival is then dated back to the first fix inside.
    arrive_dwell_s: float = 30.0
    # Hysteresis: the driver walks to the door with the phone and GPS wanders, so leaving
    # needs a circle twice as wide as arriving.
    depart_radius_m: float = 100.0
    # Consecutive fixes outside before a stop counts as left (or a half-made arrival is
    # forgotten): one multipath outlier cannot end a stop.
    depart_fixes: int = 2
    # A fix reporting +-20 m may be that far off: zones grow by its accuracy, up to this cap,
    # so an urban-canyon fix claiming +-80 m cannot open a 130 m zone.
    accuracy_slack_m: float = 25.0
    # Fixes vaguer than this still move the ETA, but no geofence.
    max_accuracy_m: float = 100.0
    # Stops that can be arrived: up to this many past the last one reached (drivers swap
    # close stops; a wider net would catch stops the route merely drives past), and any
    # skipped before it (the driver may come back).
    lookahead_stops: int = 3
    # "Arriving" fires once the stop is within this many stops (1: the driver is heading to
    # it, i.e. the preceding stop is done) ...
    arriving_stops: int = 1
    # ... or its expected arrival within this look-ahead (one platform's 30-min default).
    arriving_minutes: float = 30.0
    # Pings come every 5-60 s; recomputing at most twice a minute bounds the work per vehicle
    # while no ETA is older than half a minute. Arrivals and departures recompute at once.
    debounce_s: float = 30.0
    # Predictions are kept for learning every this often (one window per five minutes of a
    # stop's approach), at most this many per stop (the nearest horizons matter most).
    record_every_s: float = 300.0
    max_predictions_per_stop: int = 48
    # A window edge must move this much before eta_changed is reported again.
    eta_change_threshold_s: float = 300.0
    # Hysteresis of at_risk: set when the window's end passes the promise's end, cleared only
    # once it is this far back inside, so a window wobbling at the edge sends no message pairs.
    at_risk_clear_margin_s: float = 300.0
    # Legs shorter than this (straight line) say nothing about speed: parking and turning
    # dominate; they use the route's typical speed instead.
    min_leg_m: float = 100.0
    # Straight-line speed when the plan has no usable leg: the van profile's urban average
    # divided by its circuity (about 5 m/s).
    fallback_speed_mps: float = _VAN.speed_kmh / 3.6 / _VAN.circuity
    # Pace learning: shrink the median observed/planned ratio of the route's most recent legs
    # (traffic changes in a day) towards the fleet's recent pace as if this many legs had
    # gone at it, within bounds that one stuck leg cannot break.
    pace_prior_legs: float = 3.0
    pace_window_legs: int = 12
    pace_min: float = 0.5
    pace_max: float = 2.5
    # Legs planned shorter than this give too noisy a ratio to learn pace from.
    pace_min_leg_s: float = 30.0

    def __post_init__(self) -> None:
        if self.depart_radius_m < self.arrive_radius_m:
            raise ValueError("depart_radius_m must be at least arrive_radius_m")
        if self.depart_fixes < 1 or self.lookahead_stops < 1:
            raise ValueError("depart_fixes and lookahead_stops must be at least 1")
        if not 0 < self.pace_min <= 1 <= self.pace_max:
            raise ValueError("pace bounds must enclose 1")


@dataclass(frozen=True, slots=True)
class LearningConfig:
    """
    How a fleet turns observed dwell times and ETA residuals into predictions.

    Residuals are normalised by ``lead + horizon_floor_s`` (errors grow with how far ahead
    the prediction was made) and kept per lead band, so each band's quantiles come from
    predictions made that far ahead; a route's residuals are correlated and weigh one sample
    together, with the quantile levels corrected for the number of routes. See
    :mod:`lastmile.eta.windows`.
    """

    # The window shown: p10-p90, each edge corrected for the number of routes it is learnt
    # from: the share inside aims at no less than 80 %, a little more with few routes.
    low_quantile: float = 0.1
    high_quantile: float = 0.9
    # Keeps windows a minute wide at the stop itself (arrival is decided by a geofence and a
    # dwell, so it is never exact).
    horizon_floor_s: float = 60.0
    # Band edges (seconds ahead): fine near the stop, where windows are narrow.
    horizon_edges_s: tuple[float, ...] = (
        120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0, 10800.0,
    )  # fmt: skip
    # Prior of the normalised residual before data: centred, late errors larger than early
    # ones (a split normal). At 30 min ahead it gives about -5/+11 min, at 2 h -19/+42 min:
    # the order of the +-30 min windows platforms show customers by default.
    prior_median_z: float = 0.0
    prior_early_sd_z: float = 0.12
    prior_late_sd_z: float = 0.20
    # Residuals it takes for a band's data to weigh as much as what it falls back on.
    prior_weight: float = 30.0
    # The most recent residuals per band: about one 40-route day, so the windows follow this
    # week's traffic, not last month's.
    max_residuals_per_band: int = 2000
    # Recent legs of the whole fleet whose median pace is each route's prior (a rush hour
    # slows everyone; a route's own legs take over as they come).
    fleet_pace_legs: int = 100
    # Dwell: observations weighing as much as the method's default, and how many are kept.
    dwell_prior_weight: float = 3.0
    max_dwells_per_method: int = 500
    # Longer "dwells" are breaks or a forgotten confirmation, not service.
    max_dwell_s: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 < self.low_quantile < 0.5 < self.high_quantile < 1:
            raise ValueError("quantiles must satisfy 0 < low < 0.5 < high < 1")
        if list(self.horizon_edges_s) != sorted(set(self.horizon_edges_s)):
            raise ValueError("horizon_edges_s must be strictly increasing")
