"""The report core on small hand-made rows, with expectations worked out by hand."""

from __future__ import annotations

import pytest

from lastmile.reports.metrics import (
    DelayRow,
    OrderRow,
    Outcome,
    RatingRow,
    ReasonRow,
    ReportData,
    RouteRow,
    delay_histogram,
    overall,
    route_driven,
    summarize,
    weighted_quantile,
)

GRID = 229.0  # g CO2e per kWh
D = Outcome.delivered

DAY = ReportData(
    orders=[
        OrderRow("d1", "van", D, first_attempt=True, on_time=True, parcels=2),
        OrderRow("d1", "ev_van", D, first_attempt=False, on_time=False),
        OrderRow("d1", "cargo_bike", D, first_attempt=True, on_time=None),
        OrderRow("d1", "van", Outcome.failed, first_attempt=False, on_time=None),
        OrderRow("d1", "van", Outcome.open, first_attempt=True, on_time=None),
    ],
    routes=[
        # Half its stops reached: 5 of 10 km, 0.5 of 1 h; 40 + 0.35 x 5 + 22 x 0.5 = 52.75;
        # 240 g/km x 5 km = 1200 g.
        RouteRow("d1", "van", 10_000, 3_600, stops=4, visited=2, completed=False,
                 fixed_cost=40, cost_per_km=0.35, cost_per_hour=22, co2_g_per_km=240),
        # Completed: 20 km, 2 h; 45 + 0.12 x 20 + 22 x 2 = 91.4; 0.22 kWh/km x 20 x 229 g.
        RouteRow("d1", "ev_van", 20_000, 7_200, stops=3, visited=0, completed=True,
                 fixed_cost=45, cost_per_km=0.12, cost_per_hour=22, energy_kwh_per_km=0.22),
    ],
    reasons=[ReasonRow("d1", "not_home", 2), ReasonRow("d1", "refused")],
    ratings=[RatingRow("d1", 5, 2), RatingRow("d1", 2)],
    delays=[DelayRow("d1", -2), DelayRow("d1", 0, 2), DelayRow("d1", 10), DelayRow("d1", -20)],
)  # fmt: skip


def test_one_group_by_hand() -> None:
    """Counts, rates, km, cost, CO2e, shares, rating and delays of one day, worked by hand."""
    (day,) = summarize(DAY, GRID)
    assert (day.key, day.orders, day.delivered, day.failed, day.parcels_delivered) == (
        "d1", 5, 3, 1, 4
    )  # fmt: skip
    assert day.first_attempt_rate == 0.5  # 2 first-attempt deliveries of 4 orders attempted
    assert (day.on_time_rate, day.on_time_basis) == (0.5, 2)  # the bike's order had no window
    assert day.failed_attempts == 3
    assert day.failure_reasons == {"not_home": 2, "refused": 1}
    assert (day.routes, day.km, day.driving_hours) == (2, 25.0, 2.5)
    assert day.cost == 144.15
    assert day.cost_per_parcel == 36.04  # 144.15 / 4
    assert day.co2_kg == round((1200 + 0.22 * 20 * GRID) / 1000, 2)
    assert day.co2_g_per_parcel == round((1200 + 0.22 * 20 * GRID) / 4, 1)
    assert (day.ev_share, day.bike_share) == (0.25, 0.25)  # of 4 parcels delivered
    assert (day.rating_mean, day.ratings) == (4.0, 3)
    # Delays -20, -2, 0, 0, 10: the median is 0; |delay| 0, 0, 2, 10, 20: p90 (rank 5) is 20.
    assert (day.arrival_delay_median_min, day.arrival_delay_p90_min) == (0.0, 20.0)


def test_totals_come_from_summed_counts_not_averaged_rates() -> None:
    """Overall first-attempt rate of 1/1 and 0/3 is 1/4, not the mean of the two rates."""
    data = ReportData(
        orders=[
            OrderRow("a", "van", D, first_attempt=True, on_time=None),
            OrderRow("b", "van", D, first_attempt=False, on_time=None, orders=3, parcels=3),
        ]
    )
    groups = summarize(data, GRID)
    assert [g.first_attempt_rate for g in groups] == [1.0, 0.0]
    assert overall(data, GRID).first_attempt_rate == 0.25
    assert overall(data, GRID).key is None


def test_aggregated_rows_count_like_single_orders() -> None:
    """A row standing for three orders reports as three rows of one order each."""
    one = OrderRow("d", "cargo_bike", D, first_attempt=True, on_time=True)
    three = OrderRow("d", "cargo_bike", D, first_attempt=True, on_time=True, orders=3, parcels=3)
    assert summarize(ReportData(orders=[three]), GRID) == summarize(
        ReportData(orders=[one, one, one]), GRID
    )


def test_empty_groups_have_no_rates() -> None:
    """Without deliveries or routes, rates are None (nothing to divide), counts zero."""
    empty = overall(ReportData(), GRID)
    assert (empty.orders, empty.km, empty.cost) == (0, 0.0, 0.0)
    assert empty.first_attempt_rate is None
    assert empty.cost_per_parcel is None
    assert empty.rating_mean is None
    assert empty.arrival_delay_median_min is None


def test_route_not_started_costs_nothing() -> None:
    """A dispatched route with no stop reached has driven nothing: no km, no fixed cost."""
    route = RouteRow("d", "van", 10_000, 3_600, stops=5, visited=0, completed=False,
                     fixed_cost=40, cost_per_km=1, co2_g_per_km=240)  # fmt: skip
    assert route_driven(route, GRID) == (0.0, 0.0, 0.0, 0.0)


def test_unknown_group_sorts_last() -> None:
    """Groups come in key order and the unknown (None) group last."""
    data = ReportData(ratings=[RatingRow(None, 3), RatingRow("b", 4), RatingRow("a", 5)])
    assert [g.key for g in summarize(data, GRID)] == ["a", "b", None]


@pytest.mark.parametrize(
    ("counts", "q", "expected"),
    [({}, 0.5, None), ({7: 1}, 0.9, 7.0), ({1: 1, 2: 1}, 0.5, 1.0), ({1: 9, 50: 1}, 0.9, 1.0),
     ({1: 8, 50: 2}, 0.9, 50.0)],
)  # fmt: skip
def test_weighted_quantile_nearest_rank(counts: dict[int, int], q: float, expected: float) -> None:
    """Nearest rank: the smallest value with at least q of the weight at or below it."""
    assert weighted_quantile(counts, q) == expected


def test_delay_histogram_clips_into_the_end_bins() -> None:
    """Every stop lands in a bin; beyond the range it counts in the first or last bin."""
    bins = dict(delay_histogram([DelayRow(None, -45), DelayRow(None, -1), DelayRow(None, 0, 2),
                                 DelayRow(None, 4), DelayRow(None, 75, 3)]))  # fmt: skip
    assert min(bins) == -30
    assert max(bins) == 55
    assert (bins[-30], bins[-5], bins[0], bins[55]) == (1, 1, 3, 3)
    assert sum(bins.values()) == 8
