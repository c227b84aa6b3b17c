"""Migrations build exactly the models' schema, on SQLite and PostgreSQL; SQLite's settings."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from lastmile.db.engine import Database
from lastmile.db.migrate import alembic_config, upgrade
from lastmile.db.models import Base
from tests.conftest import postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[str]:
    """The URL of a database with no tables at all (a fresh file, a fresh schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    with postgres_schema(f"lm_mig_{worker_id}_{os.getpid()}", tables=False) as url:
        yield url


def schema_differences(url: str) -> list[Any]:
    """What alembic's autogenerate would change to make ``url``'s schema match the models."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        db.dispose()


def test_upgrade_head_builds_the_models_schema(empty_url: str) -> None:
    """`alembic upgrade head` on an empty database yields no autogenerate differences."""
    upgrade(empty_url)
    assert schema_differences(empty_url) == []


def test_upgrade_is_repeatable_and_reversible(empty_url: str) -> None:
    """Upgrading twice changes nothing; downgrading to base drops every table again."""
    upgrade(empty_url)
    upgrade(empty_url)
    command.downgrade(alembic_config(empty_url), "base")
    db = Database(empty_url)
    try:
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    finally:
        db.dispose()
    upgrade(empty_url)
    assert schema_differences(empty_url) == []


def test_sqlite_uses_wal_and_enforces_foreign_keys(tmp_path: Path) -> None:
    """Every SQLite connection is in WAL mode with foreign keys on and a busy timeout."""
    path = tmp_path / "wal.sqlite"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        with pytest.raises(IntegrityError), db.unit_of_work() as session:
            session.execute(
                text(
                    "INSERT INTO depots (id, name, kind, lat, lon, opening_hours, loading_time_s,"
                    " organization_id, created_at, updated_at) VALUES ('dep_x', 'x', 'depot', 0,"
                    " 0, '[]', 0, 'org_missing', '2030-01-01', '2030-01-01')"
                )
            )
    finally:
        db.dispose()
    # WAL is a property of the file: a plain connection sees it too.
    with sqlite3.connect(path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
