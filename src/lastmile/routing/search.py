"""Run differently seeded searches in parallel worker processes and keep the best."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from lastmile.routing.formulation import SolverInstance
from lastmile.routing.solver import (
    ProgressCallback,
    SearchLimits,
    SolverResult,
    SolverRoute,
    solve_instance,
)


def best_result(results: Sequence[SolverResult]) -> SolverResult:
    """Feasible before infeasible, then cheapest, then lowest seed (a deterministic choice)."""
    return min(results, key=lambda r: (not r.feasible, r.objective, r.seed))


def run_search(
    instance: SolverInstance,
    limits: SearchLimits,
    *,
    seed: int,
    workers: int = 1,
    on_progress: ProgressCallback | None = None,
    initial: Sequence[SolverRoute] | None = None,
) -> SolverResult:
    """
    Search with seeds ``seed .. seed + workers - 1`` at once and return the best result.

    The search with ``seed`` runs in this process and reports progress; the others run in
    spawned processes (safe next to threads, e.g. in a web server), which share the same
    wall-clock deadline.

    Parameters
    ----------
    instance
        Formulated problem.
    limits
        Time and iteration limits of every search.
    seed
        Seed of the first search.
    workers
        Number of concurrent searches (CPU cores to use).
    on_progress
        Progress callback of the in-process search.
    initial
        Warm-start routes given to every search.
    """
    started = time.time()
    if workers <= 1:
        return solve_instance(
            instance, limits, seed, on_progress=on_progress, initial=initial, started=started
        )
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
        futures = [
            pool.submit(
                solve_instance, instance, limits, seed + k, initial=initial, started=started
            )
            for k in range(1, workers)
        ]
        own = solve_instance(
            instance, limits, seed, on_progress=on_progress, initial=initial, started=started
        )
        return best_result([own, *(f.result() for f in futures)])
