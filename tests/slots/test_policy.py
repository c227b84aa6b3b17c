"""Slot policy rules: the window grid, cut-offs, prices and slot ids."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from lastmile.slots.policy import SlotPolicyRules, parse_slot_id, slot_id

LISBON = ZoneInfo("Europe/Lisbon")


def test_default_grid_is_six_two_hour_windows_on_the_local_clock() -> None:
    """08:00-20:00 local in 2 h steps, in summer time too (UTC+1 in July)."""
    windows = SlotPolicyRules().windows_on(date(2026, 7, 1), LISBON)
    assert len(windows) == 6
    assert windows[0][0] == datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert windows[-1][1] == datetime(2026, 7, 1, 19, tzinfo=UTC)


def test_cut_offs_by_service_level() -> None:
    """Same-day windows close 2 h before; other days close at 22:00 the evening before."""
    rules = SlotPolicyRules()
    start = datetime(2026, 1, 10, 14, tzinfo=UTC)  # Lisbon is UTC in January
    assert rules.closes_at(start, LISBON, same_day=True) == datetime(2026, 1, 10, 12, tzinfo=UTC)
    assert rules.closes_at(start, LISBON, same_day=False) == datetime(2026, 1, 9, 22, tzinfo=UTC)


def test_price_hint_adds_evening_and_takes_off_green() -> None:
    """Evening windows cost the premium more, green windows the discount less."""
    rules = SlotPolicyRules()
    day, evening = datetime(2026, 1, 10, 10, tzinfo=UTC), datetime(2026, 1, 10, 18, tzinfo=UTC)
    assert rules.price_hint(day, LISBON, green=False) == Decimal("4.90")
    assert rules.price_hint(evening, LISBON, green=False) == Decimal("6.40")
    assert rules.price_hint(day, LISBON, green=True) == Decimal("3.90")


def test_slot_ids_round_trip_and_reject_junk() -> None:
    """An id decodes to the start, length and area it was made of; anything else is None."""
    start = datetime(2026, 11, 25, 8, tzinfo=UTC)
    value = slot_id(start, 120, "dep_01abc")
    assert value == "slot_20261125T0800Z_120_dep_01abc"
    assert parse_slot_id(value) == (start, 120, "dep_01abc")
    for junk in ("slot_20261325T0800Z_120_dep_x", "slot_x", "", "slot_20261125T0800Z_0_dep"):
        assert parse_slot_id(junk) is None


def test_only_grid_windows_count_as_slots() -> None:
    """A start off the grid, or another length, is not a slot of the policy."""
    rules = SlotPolicyRules()
    assert rules.is_window(datetime(2026, 1, 10, 8, tzinfo=UTC), 120, LISBON)
    assert not rules.is_window(datetime(2026, 1, 10, 9, tzinfo=UTC), 120, LISBON)
    assert not rules.is_window(datetime(2026, 1, 10, 8, tzinfo=UTC), 60, LISBON)


@pytest.mark.parametrize(
    "bad",
    [
        {"day_start": "20:00", "day_end": "08:00"},
        {"window_minutes": 100},
        {"depot_capacity": {"dep_x": -1}},
        {"service_levels": []},
        {"next_day_cutoff": "22:00+01:00"},
        {"surprise": 1},
    ],
)
def test_incoherent_policies_are_refused(bad: dict[str, object]) -> None:
    """Reversed hours, off-step windows, negative capacity, no levels, offsets, unknown keys."""
    with pytest.raises(ValidationError):
        SlotPolicyRules.model_validate(bad)


def test_the_default_evening_starts_at_six() -> None:
    """The defaults are the documented ones."""
    rules = SlotPolicyRules()
    assert (rules.day_start, rules.day_end, rules.evening_from) == (time(8), time(20), time(18))
