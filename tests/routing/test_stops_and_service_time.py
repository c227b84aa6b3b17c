"""Merging orders into stops and deriving service times."""

from __future__ import annotations

from lastmile.routing import DeliveryMethod, Load, TimeWindow, service_time
from lastmile.routing.stops import merge_jobs_into_stops
from tests.routing.builders import HOUR, job

CAPACITY = [Load(10, 100.0, 100.0)]


def test_doorstep_parcel_takes_the_median_52_seconds() -> None:
    """One doorstep parcel takes 52 s in total, the median of real urban deliveries."""
    timing = service_time(DeliveryMethod.DOORSTEP, 1)
    assert timing.setup_s + timing.service_s == 52


def test_methods_differ_as_expected() -> None:
    """In-home takes longer than doorstep; lockers add little per extra parcel."""
    home = service_time(DeliveryMethod.IN_HOME, 1)
    door = service_time(DeliveryMethod.DOORSTEP, 1)
    assert home.setup_s + home.service_s > door.setup_s + door.service_s
    one, five = service_time(DeliveryMethod.LOCKER, 1), service_time(DeliveryMethod.LOCKER, 5)
    assert five.service_s - one.service_s < 4 * door.service_s


def test_age_check_adds_time() -> None:
    """Checking the recipient's age lengthens the handover."""
    plain = service_time(DeliveryMethod.DOORSTEP, 1)
    checked = service_time(DeliveryMethod.DOORSTEP, 1, age_check=True)
    assert checked.service_s > plain.service_s


def test_same_key_and_windows_merge_with_one_setup() -> None:
    """Orders sharing key and windows form one stop: largest setup plus every service."""
    a = job("a", 0, 0, stop_key="k", setup_s=60, service_s=10)
    b = job("b", 0, 0, stop_key="k", setup_s=30, service_s=20)
    (stop,) = merge_jobs_into_stops([a, b], CAPACITY)
    assert stop.job_ids == ("a", "b")
    assert stop.service_s == 60 + 10 + 20
    assert stop.load == Load(2, 2.0, 10.0)


def test_different_windows_or_no_key_stay_apart() -> None:
    """Orders with different windows, or without a key, are not merged."""
    window = (TimeWindow(9 * HOUR, 10 * HOUR),)
    orders = [
        job("a", 0, 0, stop_key="k"),
        job("b", 0, 0, stop_key="k", windows=window),
        job("c", 0, 0),
        job("d", 0, 0),
    ]
    assert len(merge_jobs_into_stops(orders, CAPACITY)) == 4


def test_merging_respects_the_largest_capacity() -> None:
    """A locker drop larger than any vehicle is split into stops that each fit one."""
    orders = [job(f"j{i}", 0, 0, stop_key="k", load=Load(4)) for i in range(5)]
    stops = merge_jobs_into_stops(orders, CAPACITY)
    assert [len(s.jobs) for s in stops] == [2, 2, 1]


def test_merging_can_be_switched_off() -> None:
    """With merge=False every order is its own stop."""
    orders = [job("a", 0, 0, stop_key="k"), job("b", 0, 0, stop_key="k")]
    assert len(merge_jobs_into_stops(orders, CAPACITY, merge=False)) == 2
