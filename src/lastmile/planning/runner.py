"""Runs planning jobs off the request path.

A thread per job records progress; the search itself runs in a worker process (PyVRP holds
the GIL while it searches), so the API stays responsive however long the budget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from sqlalchemy import update

from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.planning.assemble import AssembledDay
from lastmile.planning.models import Plan, PlanStatus
from lastmile.planning.proposal import proposal_from_plan
from lastmile.planning.solve import SolveSettings, solve_day

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.5


@dataclass(frozen=True)
class PlanJob:
    plan_id: str
    day: AssembledDay
    time_limit_s: int
    seed: int


class PlanRunner:
    """Executes :class:`PlanJob` s one after another (one search uses the machine's cores)."""

    def __init__(self, db: Database, solve_settings: SolveSettings, *, in_process: bool = False):
        self.db = db
        self.solve_settings = solve_settings
        self._pool: Executor = (
            ThreadPoolExecutor(max_workers=1)
            if in_process
            else ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        )
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, job: PlanJob, *, on_done: Callable[[str], None] | None = None) -> None:
        thread = threading.Thread(target=self._run, args=(job, on_done), daemon=True,
                                  name=f"plan-{job.plan_id}")  # fmt: skip
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout_s: float | None = None) -> None:
        """Block until every submitted job has finished (tests, CLI)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _set(self, plan_id: str, **values: object) -> None:
        with self.db.unit_of_work() as session:
            session.execute(update(Plan).where(Plan.id == plan_id).values(**values))

    def _run(self, job: PlanJob, on_done: Callable[[str], None] | None) -> None:
        started = time.monotonic()
        self._set(job.plan_id, status=PlanStatus.running, started_at=utcnow())
        future = self._pool.submit(solve_day, job.day.problem, self.solve_settings,
                                   job.time_limit_s, job.seed)  # fmt: skip
        try:
            while not future.done():
                elapsed = time.monotonic() - started
                # The search always runs for its full budget, so elapsed time is progress.
                self._set(job.plan_id, progress=round(min(0.99, elapsed / job.time_limit_s), 3))
                time.sleep(PROGRESS_INTERVAL_S)
            plan = future.result()
            result, summary = proposal_from_plan(plan, job.day)
            self._set(job.plan_id, status=PlanStatus.succeeded, progress=1.0,
                      result=result.model_dump(mode="json"), summary=summary.model_dump(),
                      finished_at=utcnow(), message=None)  # fmt: skip
        except Exception as exc:  # the job records every failure instead of dying silently
            log.exception("plan %s failed", job.plan_id)
            self._set(job.plan_id, status=PlanStatus.failed, finished_at=utcnow(),
                      message=f"{type(exc).__name__}: {exc}"[:1000])  # fmt: skip
        if on_done is not None:
            on_done(job.plan_id)


def fail_interrupted_plans(db: Database) -> None:
    """Jobs live in memory: after a restart, plans left queued or running never finish."""
    with db.unit_of_work() as session:
        session.execute(
            update(Plan)
            .where(Plan.status.in_((PlanStatus.queued, PlanStatus.running)))
            .values(
                status=PlanStatus.failed,
                finished_at=utcnow(),
                message="interrupted by a server restart; start the plan again",
            )
        )
