"""The demo day generated around the present: its clock and its windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from lastmile.demo import generate_city, generate_orders
from lastmile.demo.city import TIMEZONE, live_day


def test_the_live_day_started_an_hour_ago() -> None:
    """The first shifts start 75 minutes before now (to 5 minutes), within today's date."""
    evening = datetime(2026, 11, 23, 22, 7, tzinfo=UTC)  # 22:07 in Lisbon (UTC+0 in winter)
    assert live_day(evening) == (date(2026, 11, 23), 20 + 50 / 60)
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 in Lisbon (UTC+1)
    assert live_day(summer) == (date(2026, 7, 1), 8.75)
    assert live_day(datetime(2026, 11, 23, 0, 20, tzinfo=UTC)) == (date(2026, 11, 23), 0.0)
    assert live_day(datetime(2026, 11, 23, 23, 50, tzinfo=UTC)) == (date(2026, 11, 23), 22.5)


def test_a_late_day_keeps_its_shape_past_midnight() -> None:
    """Shifted to the evening, shifts run on past midnight and windows still fit the day."""
    day = date(2026, 11, 23)
    city = generate_city(day, day_start_h=21.0)
    first = city.drivers[0]["shift"]
    assert first["starts_at"].astimezone(TIMEZONE).hour == 21
    assert first["ends_at"] - first["starts_at"] == timedelta(hours=9)
    now = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    orders = generate_orders(city, 400, seed=3, now=now)
    windows = [w for o in orders for w in o.get("windows", [])]
    assert windows
    assert all(datetime.fromisoformat(w["end"]) > now for w in windows)
    assert all(o["service_date"] == day.isoformat() for o in orders)


def test_windows_over_by_now_are_left_out_and_nothing_else_changes() -> None:
    """Only the windows already over go; the orders are otherwise the same, draw for draw."""
    city = generate_city(date(2026, 11, 23))
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    plain, live = generate_orders(city, 300, seed=5), generate_orders(city, 300, seed=5, now=noon)
    dropped = 0
    for a, b in zip(plain, live, strict=True):
        if a.get("windows") and datetime.fromisoformat(a["windows"][0]["end"]) <= noon:
            dropped += 1
            assert "windows" not in b
            assert b["service_level"] == "next_day"
            a = {k: v for k, v in a.items() if k not in ("windows", "service_level")}
            b = {k: v for k, v in b.items() if k != "service_level"}
        assert a == b
    assert dropped > 0
