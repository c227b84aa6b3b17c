"""Merge orders that are delivered together (same locker or address) into stops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lastmile.routing.geo import Coordinate
from lastmile.routing.problem import Job, Load, TimeWindow


@dataclass(frozen=True, slots=True)
class Stop:
    """One visit: one or more orders handed over together at one place."""

    jobs: tuple[Job, ...]

    @property
    def job_ids(self) -> tuple[str, ...]:
        """Identifiers of the merged orders."""
        return tuple(job.id for job in self.jobs)

    @property
    def location(self) -> Coordinate:
        """Where the stop is: its first order's location."""
        return self.jobs[0].location

    @property
    def load(self) -> Load:
        """Combined load of all orders."""
        total = Load()
        for job in self.jobs:
            total = total + job.load
        return total

    @property
    def service_s(self) -> int:
        """Largest setup time plus every order's own service time."""
        return max(job.setup_s for job in self.jobs) + sum(job.service_s for job in self.jobs)

    @property
    def windows(self) -> tuple[TimeWindow, ...]:
        """Alternative windows, shared by all merged orders."""
        return self.jobs[0].windows

    @property
    def release_s(self) -> int:
        """When the last of the orders is ready at the depot."""
        return max(job.release_s for job in self.jobs)

    @property
    def skills(self) -> frozenset[str]:
        """Qualifications needed for any of the orders."""
        return frozenset().union(*(job.skills for job in self.jobs))


def merge_jobs_into_stops(
    jobs: Sequence[Job], capacities: Sequence[Load], *, merge: bool = True
) -> list[Stop]:
    """
    Group orders into stops, in order of first appearance.

    Orders merge when they share a ``stop_key`` and identical windows, as long as the merged
    load still fits at least one vehicle capacity in ``capacities``; beyond that a further
    stop at the same place is opened, so a big locker drop can be split over vehicles.

    Parameters
    ----------
    jobs
        Orders to group.
    capacities
        Capacities of the available vehicle types.
    merge
        When False, every order becomes its own stop.
    """
    stops: list[list[Job]] = []
    open_stop: dict[tuple[str, tuple[TimeWindow, ...]], int] = {}
    for job in jobs:
        key = (job.stop_key, job.windows) if merge and job.stop_key is not None else None
        if key is not None and key in open_stop:
            members = stops[open_stop[key]]
            combined = Stop((*members, job)).load
            if any(combined.fits_in(capacity) for capacity in capacities):
                members.append(job)
                continue
        if key is not None:
            open_stop[key] = len(stops)
        stops.append([job])
    return [Stop(tuple(members)) for members in stops]
