"""Assertions and database look-ups shared by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select, update

from lastmile.db.engine import Database
from lastmile.db.models import Base, Order

PROBLEM_JSON = "application/problem+json"

# Hypothesis for this suite: few examples, no deadline (CI machines are slow), the same examples
# on every run, and function-scoped fixtures shared by the examples of one test on purpose.
FAST = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Tables and columns that change on authenticated calls and retries, not by what a request did.
BOOKKEEPING = frozenset({"access_tokens", "idempotency_records"})
BOOKKEEPING_COLUMNS = frozenset({"last_used_at"})


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    """Check an RFC 9457 problem of ``status`` whose errors name each of ``fields``.

    A field matches an error field that equals it or lies inside it (``windows[0]`` matches
    ``windows[0].end``).
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:lastmile:problem:")
    named = [e["field"] for e in body["errors"]]
    for wanted in fields:
        assert any(n == wanted or n.startswith((f"{wanted}.", f"{wanted}[")) for n in named), (
            f"no error names {wanted!r}: {named}"
        )
    return body


def without_instance(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body minus ``instance`` (the request path), to compare two answers."""
    return {k: v for k, v in body.items() if k != "instance"}


def row_counts(db: Database) -> dict[str, int]:
    """Number of rows in every table of the schema."""
    with db.engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def count(db: Database, table: str) -> int:
    return row_counts(db)[table]


def snapshot(db: Database, skip: frozenset[str] = BOOKKEEPING) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but ``skip``), to show that a request changed nothing."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted(
                tuple(map(repr, row))
                for row in conn.execute(
                    select(*(c for c in table.columns if c.name not in BOOKKEEPING_COLUMNS))
                )
            )
            for table in Base.metadata.sorted_tables
            if table.name not in skip
        }


def set_order(db: Database, order_id: str, **values: Any) -> None:
    """Write order columns directly, as planning and dispatch would (e.g. ``driver_id``)."""
    with db.unit_of_work() as session:
        session.execute(update(Order).where(Order.id == order_id).values(**values))


T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
    """Run ``coro`` on a fresh event loop in its own thread, failing past ``timeout``.

    A thread of its own, because a session-wide Playwright (sync API) keeps an event loop
    running in the test thread, where ``asyncio.run`` refuses to start.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout)).result()
