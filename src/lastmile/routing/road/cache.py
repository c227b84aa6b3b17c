"""On-disk cache of prepared road graphs, keyed by the source file and the rules."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.road.graph import ProfileWeights, RoadGraph
from lastmile.routing.road.rules import RoadProfileRules

CACHE_FORMAT = 1
"""Bump when RoadGraph's layout or the graph-building logic changes meaning."""


def cache_path(
    cache_dir: Path, pbf_path: Path, rules: Mapping[RoutingProfile, RoadProfileRules]
) -> Path:
    """File that holds the graph built from ``pbf_path`` with ``rules``."""
    digest = hashlib.sha256()
    with pbf_path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(_rules_fingerprint(rules).encode())
    digest.update(str(CACHE_FORMAT).encode())
    return cache_dir / f"road-{pbf_path.name.split('.')[0]}-{digest.hexdigest()[:20]}.npz"


def _rules_fingerprint(rules: Mapping[RoutingProfile, RoadProfileRules]) -> str:
    # repr() of sets and frozensets varies with hash randomisation; JSON of sorted data does not.
    def plain(value: object) -> object:
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in sorted(value.items())}
        if isinstance(value, frozenset | set):
            return sorted(str(v) for v in value)
        return value

    return json.dumps(
        {str(p): plain(dataclasses.asdict(r)) for p, r in sorted(rules.items())}, sort_keys=True
    )


def save_graph(graph: RoadGraph, path: Path) -> None:
    """Write ``graph`` atomically, so concurrent readers never see half a file."""
    arrays: dict[str, NDArray[Any]] = {
        "lat": graph.lat,
        "lon": graph.lon,
        "tail": graph.tail,
        "head": graph.head,
        "order": graph.order,
        "profiles": np.asarray([str(p) for p in graph.weights]),
    }
    for profile, weights in graph.weights.items():
        arrays[f"{profile}.duration"] = weights.duration
        arrays[f"{profile}.distance"] = weights.distance
        arrays[f"{profile}.in_component"] = weights.in_component
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            # numpy's stub reads **arrays as possibly carrying its allow_pickle flag.
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_graph(path: Path) -> RoadGraph:
    """Read a graph written by :func:`save_graph`."""
    with np.load(path) as data:
        profiles = [RoutingProfile(str(p)) for p in data["profiles"]]
        return RoadGraph(
            lat=data["lat"],
            lon=data["lon"],
            tail=data["tail"],
            head=data["head"],
            order=data["order"],
            weights={
                p: ProfileWeights(
                    duration=data[f"{p}.duration"],
                    distance=data[f"{p}.distance"],
                    in_component=data[f"{p}.in_component"],
                )
                for p in profiles
            },
        )
