"""Fleet learning: dwell medians, pace, and residual windows that cover what they claim."""

from __future__ import annotations

import json
import random

import pytest

from lastmile.eta import DEFAULT_DWELL_S, FleetLearning, LearningConfig, pace_factor
from lastmile.eta.windows import conformal_quantile


def test_dwell_defaults_come_from_the_planner_service_times() -> None:
    """Before observations a doorstep stop takes 52 s, and unknown methods default to it."""
    learning = FleetLearning()
    assert DEFAULT_DWELL_S["doorstep"] == 52.0
    assert learning.dwell_s("doorstep") == 52.0
    assert learning.dwell_s("in_home") > learning.dwell_s("locker")
    assert learning.dwell_s("mystery") == 52.0
    assert learning.dwell_s("doorstep", extra_default_s=25.0) == 77.0


def test_dwell_is_a_running_median_shrunk_towards_the_default() -> None:
    """Three observations weigh as much as the default; many make it the median, outliers aside."""
    learning = FleetLearning()
    for seconds in (100.0, 110.0, 120.0):
        learning.observe_dwell("doorstep", seconds)
    assert learning.dwell_s("doorstep") == pytest.approx((3 * 110 + 3 * 52) / 6)
    for seconds in [100.0] * 60 + [3000.0] * 5:
        learning.observe_dwell("doorstep", seconds)
    assert learning.dwell_s("doorstep") == pytest.approx(100.0, abs=4)
    assert learning.dwell_s("locker") == DEFAULT_DWELL_S["locker"]


def test_impossible_dwells_are_not_learnt() -> None:
    """Zero, negative and hour-long dwells leave the estimate alone."""
    learning = FleetLearning()
    for seconds in (0.0, -5.0, 7200.0):
        learning.observe_dwell("doorstep", seconds)
    assert learning.to_state()["dwells"] == {}


def test_pace_is_a_shrunk_clipped_median() -> None:
    """Pace starts at the prior, follows the median of legs (not one stuck leg), within bounds."""
    bounds = {"prior_legs": 3.0, "lower": 0.5, "upper": 2.5}
    assert pace_factor([], **bounds) == 1.0
    assert pace_factor([], prior=1.2, **bounds) == pytest.approx(1.2)
    assert pace_factor([1.3] * 3, **bounds) == pytest.approx(1.3**0.5)
    assert pace_factor([1.3] * 30 + [9.0] * 5, **bounds) == pytest.approx(1.3 ** (35 / 38))
    assert pace_factor([10.0] * 50, **bounds) == 2.5


def test_conformal_quantile_rounds_outwards() -> None:
    """With 9 values the p10 is the smallest and the p90 the largest."""
    values = [float(v) for v in range(1, 10)]
    assert conformal_quantile(values, 0.1) == 1.0
    assert conformal_quantile(values, 0.9) == 9.0
    assert conformal_quantile(values, 0.5) == 5.0


def test_conformal_quantile_counts_each_route_as_one_sample() -> None:
    """Nine residuals of one route weigh as much as one of each of nine others: the median
    is then the middle route's, and the edges take one more route into account (10 routes:
    the p90 needs 0.9 * 11 = 9.9 of them below it)."""
    values = [1.0] * 9 + [float(v) for v in range(2, 11)]
    weights = [1 / 9] * 9 + [1.0] * 9
    assert conformal_quantile(values, 0.5) == 2.0
    assert conformal_quantile(values, 0.5, weights) == 6.0
    assert conformal_quantile(values, 0.9, weights) == 10.0
    assert conformal_quantile(values, 0.1, weights) == 1.0
    many = [float(v) for v in range(1, 41)]
    assert conformal_quantile(many, 0.9, [1.0] * 40) == 37.0  # ceil(0.9 * 41)
    assert conformal_quantile(many, 0.1, [1.0] * 40) == 4.0  # floor(0.1 * 41)


def test_prior_windows_widen_with_horizon_and_lean_late() -> None:
    """Without data the window at 2 h is wider than at 30 min, and reaches further late than
    early."""
    learning = FleetLearning()
    low30, mid30, high30 = learning.window(1800)
    low2h, _, high2h = learning.window(7200)
    assert low30 < mid30 == 0 < high30
    assert high2h - low2h > 3 * (high30 - low30)
    assert high30 > -low30


def test_windows_cover_80_percent_at_a_fixed_lead() -> None:
    """Learnt from residuals that grow with lead, the p10-p90 window holds about 80 % of fresh
    arrivals 30 min ahead, although a late arrival was predicted less than 30 min ahead."""
    rng = random.Random(4)
    learning = FleetLearning()
    floor = learning.config.horizon_floor_s

    def residual(lead: float) -> float:
        return rng.lognormvariate(0, 0.5) * 0.12 * (lead + floor) - 0.1 * (lead + floor)

    learning.observe_residuals(
        (lead, residual(lead)) for lead in (rng.uniform(0, 7200) for _ in range(20_000))
    )
    inside = 0
    for _ in range(4000):
        r = residual(1800.0)
        low, _, high = learning.window(1800.0 - r)  # predicted horizon = lead - residual
        inside += low <= r <= high
    assert inside / 4000 == pytest.approx(0.8, abs=0.025)


def test_each_edge_takes_the_quantile_of_the_lead_it_implies() -> None:
    """Residuals whose median drifts late with lead (as a day's do): 30 min before arrival,
    neither edge misses more than its 10 %, though late arrivals were predicted nearer
    (where the drift is smaller) and early ones further (where it is larger)."""
    rng = random.Random(4)

    def z_at(lead: float) -> float:
        return 0.3 * lead / 7200 + rng.gauss(0, 0.06)

    learning = FleetLearning(LearningConfig(max_residuals_per_band=5000))
    learning.observe_residuals(
        (lead, z_at(lead) * (lead + 60)) for lead in (rng.uniform(0, 7200) for _ in range(40_000))
    )
    early = late = 0
    for _ in range(4000):
        r = z_at(1800.0) * (1800 + 60)
        low, _, high = learning.window(1800.0 - r)
        early += r < low
        late += r > high
    assert 0.07 < early / 4000 < 0.11
    assert 0.07 < late / 4000 < 0.11


def _fleet_day_coverage(*, by_route: bool, days: int = 1000, routes: int = 12) -> float:
    """Share of a fresh route's arrivals inside the window, over simulated days of a fleet
    whose drivers are each early or late all day (a residual is mostly its route's)."""
    rng = random.Random(3)
    config = LearningConfig(prior_weight=0.0)
    inside = 0
    for _ in range(days):
        learning = FleetLearning(config)
        for route in range(routes):
            late = rng.gauss(0, 0.1)
            leads = [rng.uniform(1200, 2400) for _ in range(40)]
            learning.observe_residuals(
                ((lead, (late + rng.gauss(0, 0.02)) * (lead + 60)) for lead in leads),
                f"r{route}" if by_route else None,
            )
        r = (rng.gauss(0, 0.1) + rng.gauss(0, 0.02)) * (1800 + 60)
        low, _, high = learning.window(1800.0 - r)
        inside += low <= r <= high
    return inside / days


def test_routes_late_at_every_stop_still_get_80_percent_windows() -> None:
    """Pooling 480 residuals as if independent under-covers a new route's arrival when they
    come from 12 routes that each run late or early all day; counting routes as the samples
    reaches the nominal 80 %."""
    assert _fleet_day_coverage(by_route=False) < 0.78
    assert _fleet_day_coverage(by_route=True) >= 0.82


def test_learning_state_round_trips_through_json() -> None:
    """A FleetLearning rebuilt from its JSON state predicts the same dwell, pace and windows."""
    learning = FleetLearning()
    for k in range(20):
        learning.observe_dwell("locker", 40.0 + k)
        learning.observe_leg(1.1 + k / 100)
    learning.observe_residuals(((60.0 * k, 5.0 * k - 30) for k in range(100)), "r1")
    learning.observe_residuals(((60.0 * k, 9.0 * k - 90) for k in range(40)), "r2")
    learning.observe_residuals((60.0 * k, 2.0 * k) for k in range(20))
    state = json.loads(json.dumps(learning.to_state()))
    copy = FleetLearning.from_state(state)
    assert copy.dwell_s("locker") == learning.dwell_s("locker")
    assert copy.fleet_pace == learning.fleet_pace
    for horizon in (0.0, 900.0, 2000.0, 9000.0):
        assert copy.window(horizon) == learning.window(horizon)
    assert copy.residual_count == learning.residual_count == 160
    with pytest.raises(ValueError, match="version"):
        FleetLearning.from_state({"version": 99})


def test_learning_state_from_before_routes_were_kept_still_loads() -> None:
    """A state whose residuals carry no routes loads, each residual counting as one sample."""
    unrouted = FleetLearning()
    unrouted.observe_residuals((60.0 * k, 5.0 * k - 30) for k in range(100))
    state = unrouted.to_state()
    del state["residuals"]["routes"]
    copy = FleetLearning.from_state(json.loads(json.dumps(state)))
    assert copy.residual_count == 100
    assert copy.window(900) == unrouted.window(900)


def test_the_table_of_route_names_stays_bounded() -> None:
    """Routes whose residuals have all been forgotten are dropped from the table of names,
    and the rest keep their residuals and windows."""
    config = LearningConfig(horizon_edges_s=(100.0,), max_residuals_per_band=3)
    learning = FleetLearning(config)
    for k in range(50):
        learning.observe_residuals([(50.0, 10.0 * k), (500.0, 20.0 * k - 300)], f"r{k}")
    held = learning.to_state()["residuals"]["routes"]
    assert held == [["r47", "r48", "r49"]] * 2
    assert len(learning._residuals._routes) <= 2 * 2 * 3
    copy = FleetLearning.from_state(json.loads(json.dumps(learning.to_state())), config)
    assert copy.window(300.0) == learning.window(300.0)


def test_config_rejects_inverted_quantiles() -> None:
    """The low quantile must lie below the median and the high one above it."""
    with pytest.raises(ValueError, match="quantiles"):
        LearningConfig(low_quantile=0.6)
