"""The independent validator accepts planner output and catches each kind of broken plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache

import pytest

from lastmile.routing import (
    Break,
    Load,
    Plan,
    Problem,
    ProblemMatrices,
    TimeWindow,
    UnassignedJob,
    UnassignedReason,
    ViolationKind,
    validate_plan,
)
from tests.routing.builders import HOUR, job, problem, solve, van

LUNCH = Break(12 * HOUR, 13 * HOUR, 1800)


@cache
def baseline() -> tuple[Problem, Plan, ProblemMatrices]:
    """One van, a lunch break, a window, a skill, a release and a merged locker stop."""
    instance = problem(
        job("win", 400, 0, windows=(TimeWindow(9 * HOUR, 10 * HOUR),), service_s=1800),
        job("home", 800, 0, skills=frozenset({"in_home"}), service_s=1800),
        job("rel", 1200, 0, release_s=8 * HOUR + 600, service_s=1800),
        job("lk1", 1600, 0, stop_key="locker", service_s=900),
        job("lk2", 1600, 0, stop_key="locker", service_s=900),
        job("x", 2000, 0, service_s=1800),
        job("y", 2400, 0, service_s=1800),
        job("z", 2800, 0, service_s=1800),
        vehicles=(
            van(
                breaks=(LUNCH,),
                skills=frozenset({"in_home"}),
                max_distance_m=50_000,
                max_payload_kg=20.0,
            ),
        ),
    )
    plan, matrices = solve(instance)
    return instance, plan, matrices


def _route_replace(plan: Plan, **changes: object) -> Plan:
    route = replace(plan.routes[0], **changes)  # type: ignore[arg-type]
    return replace(plan, routes=(route, *plan.routes[1:]))


def _job_replace(instance: Problem, job_id: str, **changes: object) -> Problem:
    jobs = tuple(replace(j, **changes) if j.id == job_id else j for j in instance.jobs)  # type: ignore[arg-type]
    return replace(instance, jobs=jobs)


def _van_replace(instance: Problem, **changes: object) -> Problem:
    return replace(instance, vehicle_types=(replace(instance.vehicle_types[0], **changes),))  # type: ignore[arg-type]


def _shift_first_visit(plan: Plan, by: int) -> Plan:
    visit = plan.routes[0].visits[0]
    moved = replace(
        visit,
        arrival_s=visit.arrival_s + by,
        service_start_s=visit.service_start_s + by,
        departure_s=visit.departure_s + by,
    )
    return _route_replace(plan, visits=(moved, *plan.routes[0].visits[1:]))


def _also_unassigned(plan: Plan, job_id: str) -> Plan:
    extra = UnassignedJob(job_id, UnassignedReason.FLEET, "injected")
    return replace(plan, unassigned=(*plan.unassigned, extra))


Mutation = Callable[[Problem, Plan], tuple[Problem, Plan]]

MUTATIONS: list[tuple[str, Mutation, ViolationKind]] = [
    ("duplicate", lambda p, s: (p, _also_unassigned(s, "x")), ViolationKind.DUPLICATE_JOB),
    (
        "missing",
        lambda p, s: (replace(p, jobs=(*p.jobs, job("ghost", 0, 0))), s),
        ViolationKind.MISSING_JOB,
    ),
    ("unknown", lambda p, s: (replace(p, jobs=p.jobs[1:]), s), ViolationKind.UNKNOWN_JOB),
    (
        "window",
        lambda p, s: (_job_replace(p, "win", windows=(TimeWindow(8 * HOUR, 8 * HOUR + 60),)), s),
        ViolationKind.WINDOW,
    ),
    (
        "capacity",
        lambda p, s: (_van_replace(p, capacity=Load(3, 500, 3000)), s),
        ViolationKind.CAPACITY,
    ),
    (
        "shift",
        lambda p, s: (_van_replace(p, shift_end_s=s.routes[0].end_s - 1), s),
        ViolationKind.SHIFT,
    ),
    ("break", lambda p, s: (p, _route_replace(s, breaks=(), break_s=0)), ViolationKind.BREAK),
    ("range", lambda p, s: (_van_replace(p, max_distance_m=1000), s), ViolationKind.RANGE),
    ("payload", lambda p, s: (_van_replace(p, max_payload_kg=0.5), s), ViolationKind.PAYLOAD),
    ("skill", lambda p, s: (_van_replace(p, skills=frozenset()), s), ViolationKind.SKILL),
    (
        "release",
        lambda p, s: (_job_replace(p, "rel", release_s=17 * HOUR), s),
        ViolationKind.RELEASE,
    ),
    ("timing", lambda p, s: (p, _shift_first_visit(s, -120)), ViolationKind.TIMING),
    (
        "reported",
        lambda p, s: (p, _route_replace(s, distance_m=s.routes[0].distance_m + 1)),
        ViolationKind.REPORTED,
    ),
    ("merge", lambda p, s: (_job_replace(p, "lk2", stop_key="other"), s), ViolationKind.MERGE),
    ("vehicle", lambda p, s: (p, _route_replace(s, vehicle_index=5)), ViolationKind.VEHICLE),
    ("depot", lambda p, s: (p, _route_replace(s, start_depot_id="elsewhere")), ViolationKind.DEPOT),
]


def test_baseline_plan_is_valid_and_exercises_every_feature() -> None:
    """The planner's own plan passes, and it has a break, a merged stop and every order."""
    instance, plan, matrices = baseline()
    assert validate_plan(instance, matrices, plan) == []
    assert not plan.unassigned
    assert plan.routes[0].breaks
    assert any(set(v.job_ids) == {"lk1", "lk2"} for v in plan.routes[0].visits)


@pytest.mark.parametrize(
    ("mutation", "expected"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_validator_catches_broken_plan(mutation: Mutation, expected: ViolationKind) -> None:
    """A plan that breaks one constraint yields a violation of that kind."""
    instance, plan, matrices = baseline()
    broken_problem, broken_plan = mutation(instance, plan)
    kinds = {v.kind for v in validate_plan(broken_problem, matrices, broken_plan)}
    assert expected in kinds
