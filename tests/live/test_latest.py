"""The latest-position store: newest fix wins, per organisation, on both backends."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from lastmile.live import (
    InMemoryLatestPositions,
    LatestPositions,
    RedisLatestPositions,
    VehiclePosition,
    build_latest_positions,
)
from tests.live.support import delete_keys, position


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, prefix: str) -> Iterator[LatestPositions]:
    """An empty store, in memory and in Redis."""
    if request.param == "memory":
        yield InMemoryLatestPositions()
        return
    url = request.getfixturevalue("redis_url")
    redis_store = RedisLatestPositions(url, prefix)
    yield redis_store
    redis_store.close()
    delete_keys(url, prefix)


def test_keeps_the_newest_fix(store: LatestPositions) -> None:
    """A newer fix replaces the stored one; an older or equally old one is ignored."""
    assert store.put_many("org_1", {"veh_1": position("veh_1", 100.0)}) == {"veh_1"}
    assert store.put_many("org_1", {"veh_1": position("veh_1", 99.5, lat=1.0)}) == set()
    assert store.put_many("org_1", {"veh_1": position("veh_1", 100.0, lat=2.0)}) == set()
    assert store.get_many("org_1", ["veh_1"]) == {"veh_1": position("veh_1", 100.0)}
    assert store.put_many("org_1", {"veh_1": position("veh_1", 100.25, lat=3.0)}) == {"veh_1"}
    assert store.get_many("org_1", ["veh_1"])["veh_1"].lat == 3.0


def test_a_batch_is_judged_vehicle_by_vehicle(store: LatestPositions) -> None:
    """In one batch, each vehicle's fix is kept or ignored on its own merits."""
    store.put_many("org_1", {"veh_1": position("veh_1", 100.0), "veh_2": position("veh_2", 100.0)})
    replaced = store.put_many(
        "org_1",
        {"veh_1": position("veh_1", 90.0), "veh_2": position("veh_2", 110.0),
         "veh_3": position("veh_3", 50.0)},
    )  # fmt: skip
    assert replaced == {"veh_2", "veh_3"}
    assert {v: p.t for v, p in store.all("org_1").items()} == {
        "veh_1": 100.0, "veh_2": 110.0, "veh_3": 50.0,
    }  # fmt: skip


def test_organisations_are_separate(store: LatestPositions) -> None:
    """One organisation never sees another's vehicles."""
    store.put_many("org_1", {"veh_1": position("veh_1", 100.0)})
    store.put_many("org_2", {"veh_9": position("veh_9", 100.0)})
    assert set(store.all("org_1")) == {"veh_1"}
    assert store.get_many("org_2", ["veh_1", "veh_9"]) == {"veh_9": position("veh_9", 100.0)}
    assert store.all("org_3") == {}
    assert store.get_many("org_1", []) == {}


def test_every_field_survives(store: LatestPositions) -> None:
    """A position read back equals what was stored, optional fields left empty included."""
    sparse = VehiclePosition("veh_1", 1_700_000_000.123456, 41.1, -8.6, None, None, None, None,
                             None, 1_700_000_001.5)  # fmt: skip
    store.put_many("org_1", {"veh_1": sparse, "veh_2": position("veh_2", 5.0)})
    assert store.all("org_1") == {"veh_1": sparse, "veh_2": position("veh_2", 5.0)}


def test_concurrent_writers_leave_the_newest(store: LatestPositions) -> None:
    """Writers racing on the same vehicles leave each one at the largest ``t`` written."""
    vehicles = [f"veh_{n}" for n in range(20)]
    rng = random.Random(4)
    batches = [
        {v: position(v, rng.uniform(0, 1000)) for v in rng.sample(vehicles, 10)} for _ in range(40)
    ]
    expected: dict[str, float] = {}
    for batch in batches:
        for v, p in batch.items():
            expected[v] = max(expected.get(v, 0.0), p.t)

    def write(chunk: list[dict[str, VehiclePosition]]) -> None:
        for batch in chunk:
            store.put_many("org_1", batch)

    threads = [threading.Thread(target=write, args=(batches[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert {v: p.t for v, p in store.all("org_1").items()} == expected


def test_build_picks_the_backend() -> None:
    """Without a Redis URL the store is in memory; with one it is Redis."""
    assert isinstance(build_latest_positions(None), InMemoryLatestPositions)
    built = build_latest_positions("redis://127.0.0.1:6379/15", prefix="unused")
    assert isinstance(built, RedisLatestPositions)
    built.close()
