"""The OpenStreetMap road-network model on synthetic ways and a real Heidelberg extract."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lastmile.routing import Coordinate, RoadNetworkModel, RoutingProfile, parse_maxspeed_kmh
from lastmile.routing.geo import haversine_m
from lastmile.routing.road.graph import DISTANCE_UNITS_PER_M, DURATION_UNITS_PER_S, INF_WEIGHT

HEIDELBERG = Path(__file__).parent.parent / "data" / "routing" / "heidelberg_altstadt.osm.pbf"
VAN = RoutingProfile.VAN
BIKE = RoutingProfile.CARGO_BIKE

# Five nodes on an east-west line (about 100 m apart) and a far-away pair.
NODES = {1: (50.0, 8.000), 2: (50.0, 8.0014), 3: (50.0, 8.0028), 4: (50.0, 8.0042),
         5: (50.001, 8.0014), 8: (50.01, 8.05), 9: (50.01, 8.0514)}  # fmt: skip


def _way(ident: int, nodes: list[int], **tags: str) -> str:
    refs = "".join(f'<nd ref="{n}"/>' for n in nodes)
    tag_xml = "".join(f'<tag k="{k.replace("_", ":")}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{ident}" version="1">{refs}{tag_xml}</way>'


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> RoadNetworkModel:
    """A tiny network: a oneway street, a 50 km/h road, parallel ways and an island."""
    nodes = "".join(
        f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>' for i, (lat, lon) in NODES.items()
    )
    ways = "".join(
        [
            _way(100, [1, 2], highway="residential", oneway="yes"),
            _way(101, [1, 5, 2], highway="residential"),  # the way back around the oneway
            _way(102, [2, 3], highway="primary", maxspeed="50"),
            _way(103, [3, 4], highway="service"),
            _way(104, [3, 4], highway="secondary"),  # parallel and faster than 103
            _way(105, [8, 9], highway="residential"),  # an island
        ]
    )
    path = tmp_path_factory.mktemp("osm") / "synthetic.osm"
    path.write_text(f"<?xml version='1.0'?><osm version='0.6'>{nodes}{ways}</osm>")
    return RoadNetworkModel.from_osm(path)


def _point(node: int) -> Coordinate:
    return Coordinate(*NODES[node])


def test_oneway_is_respected_for_vans(synthetic: RoadNetworkModel) -> None:
    """Against a oneway street a van must detour, so the reverse trip is longer."""
    matrices = synthetic.matrices([_point(1), _point(2)], VAN)
    assert matrices.distance_m[1, 0] > matrices.distance_m[0, 1] + 50


def test_maxspeed_sets_the_duration(synthetic: RoadNetworkModel) -> None:
    """A 50 km/h way takes its length at the van's share (75 %) of the posted limit."""
    matrices = synthetic.matrices([_point(2), _point(3)], VAN)
    length = float(haversine_m(*map(np.asarray, (*NODES[2], *NODES[3]))))
    assert matrices.duration_s[0, 1] == pytest.approx(length / (50 * 0.75 / 3.6), abs=1)


def test_parallel_ways_keep_the_fastest(synthetic: RoadNetworkModel) -> None:
    """Of two ways between the same nodes the faster one counts, not their sum."""
    matrices = synthetic.matrices([_point(3), _point(4)], VAN)
    length = float(haversine_m(*map(np.asarray, (*NODES[3], *NODES[4]))))
    assert matrices.duration_s[0, 1] == pytest.approx(length / (45 * 0.9 / 3.6), abs=1)


def test_points_snap_to_the_largest_component(synthetic: RoadNetworkModel) -> None:
    """A point on a disconnected island snaps to the main network and stays reachable."""
    matrices = synthetic.matrices([_point(1), _point(9)], VAN)
    assert matrices.distance_m[0, 1] < 10_000
    _, offsets = synthetic.snap([_point(9)], VAN)
    assert offsets[0] > 1000


def test_maxspeed_values_parse() -> None:
    """Numeric, mph and country-implicit maxspeed values read in km/h; junk reads as None."""
    assert parse_maxspeed_kmh("50") == 50
    assert parse_maxspeed_kmh("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed_kmh("PT:urban") == 50
    assert parse_maxspeed_kmh("DE:zone30") == 30
    assert parse_maxspeed_kmh("signals") is None


@pytest.fixture(scope="module")
def heidelberg(tmp_path_factory: pytest.TempPathFactory) -> RoadNetworkModel:
    """The Heidelberg old-town extract, prepared through the on-disk cache."""
    return RoadNetworkModel.from_osm(HEIDELBERG, cache_dir=tmp_path_factory.mktemp("cache"))


def _sample(count: int, seed: int = 0) -> list[Coordinate]:
    rng = np.random.default_rng(seed)
    return [
        Coordinate(float(rng.uniform(49.406, 49.417)), float(rng.uniform(8.686, 8.714)))
        for _ in range(count)
    ]


@pytest.mark.parametrize("profile", [VAN, BIKE])
def test_cch_matches_dijkstra(heidelberg: RoadNetworkModel, profile: RoutingProfile) -> None:
    """CCH matrices equal SciPy Dijkstra on the same graph, for both metrics."""
    graph = heidelberg._graph
    points = _sample(15)
    matrices = heidelberg.matrices(points, profile)
    node, offset = heidelberg.snap(points, profile)
    weights = graph.weights[profile]
    for metric, units, reported, access_per_m in (
        (weights.duration, DURATION_UNITS_PER_S, matrices.duration_s, 1 / (10 / 3.6)),
        (weights.distance, DISTANCE_UNITS_PER_M, matrices.distance_m, 1.0),
    ):
        usable = metric < INF_WEIGHT
        adjacency = csr_matrix(
            (metric[usable] / units, (graph.tail[usable], graph.head[usable])),
            shape=(graph.node_count, graph.node_count),
        )
        path = dijkstra(adjacency, indices=node)[:, node]
        expected = path + (offset[:, None] + offset[None, :]) * access_per_m
        np.fill_diagonal(expected, 0)
        assert np.abs(reported - expected).max() <= 1


def test_matrices_satisfy_the_triangle_inequality(heidelberg: RoadNetworkModel) -> None:
    """No detour through a third point is shorter than the direct trip (up to rounding)."""
    matrices = heidelberg.matrices(_sample(12, seed=1), VAN)
    for m in (matrices.duration_s, matrices.distance_m):
        via = (m[:, :, None] + m[None, :, :]).min(axis=1)
        assert (m <= via + 2).all()


def test_cache_round_trip_gives_identical_matrices(tmp_path: Path) -> None:
    """A graph loaded from the cache answers exactly like the freshly built one."""
    points = _sample(8, seed=2)
    fresh = RoadNetworkModel.from_osm(HEIDELBERG, cache_dir=tmp_path).matrices(points, VAN)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    cached = RoadNetworkModel.from_osm(HEIDELBERG, cache_dir=tmp_path).matrices(points, VAN)
    assert np.array_equal(fresh.duration_s, cached.duration_s)
    assert np.array_equal(fresh.distance_m, cached.distance_m)


def test_path_runs_along_the_road(heidelberg: RoadNetworkModel) -> None:
    """A drawn path starts and ends at the stops and is about as long as the matrix says."""
    a, b = _sample(2, seed=3)
    line = heidelberg.path([a, b], VAN)
    assert (line[0], line[-1]) == (a, b)
    lat = np.asarray([p.lat for p in line])
    lon = np.asarray([p.lon for p in line])
    drawn = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum()
    distance = heidelberg.matrices([a, b], VAN).distance_m[0, 1]
    assert drawn >= distance * 0.95
    assert len(line) > 2


def test_pairs_of_profiles_differ(heidelberg: RoadNetworkModel) -> None:
    """Bikes are slower than vans over the same trips, on average."""
    points = _sample(10, seed=4)
    van = heidelberg.matrices(points, VAN).duration_s
    bike = heidelberg.matrices(points, BIKE).duration_s
    pairs = list(itertools.permutations(range(10), 2))
    assert np.mean([bike[i, j] for i, j in pairs]) > np.mean([van[i, j] for i, j in pairs])
