"""Shared fixtures: a database per backend, an app client, and a populated tenant."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.db.models import Base
from tests.factories import Tenant, make_tenant

IN_CI = os.environ.get("CI", "").lower() == "true"


def service_url(env_var: str) -> str:
    """The URL of a service the test needs; skip locally when absent, fail loudly in CI."""
    url = os.environ.get(env_var)
    if not url:
        if IN_CI:
            pytest.fail(f"{env_var} is not set but CI=true requires service-backed tests")
        pytest.skip(f"{env_var} not set")
    return url


@pytest.fixture(scope="session")
def postgres_schema_url(worker_id: str) -> Iterator[str]:
    """A private schema on the test PostgreSQL for this xdist worker, with all tables."""
    base = service_url("LASTMILE_TEST_POSTGRES_URL")
    schema = f"lm_test_{worker_id}"
    admin = Database(base)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {base}: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc.orig}")
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    db = Database(url)
    Base.metadata.create_all(db.engine)
    db.dispose()
    yield url
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database with the current schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'test.sqlite'}")
        Base.metadata.create_all(db.engine)
    else:
        db = Database(request.getfixturevalue("postgres_schema_url"))
        _truncate_all(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """SQLite only, for tests about behaviour that does not depend on the backend."""
    db = Database(f"sqlite:///{tmp_path / 'test.sqlite'}")
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path, auto_migrate=False)


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client


@pytest.fixture
def tenant(database: Database) -> Tenant:
    """An organization with a user of each role, a merchant key, a depot and a locker."""
    return make_tenant(database, "Acme Deliveries")


@pytest.fixture
def other_tenant(database: Database) -> Tenant:
    return make_tenant(database, "Rival Logistics")
