"""Shared fixtures: a database per backend, an app client, and a populated tenant."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def postgres_schema(schema: str, *, tables: bool = True) -> Iterator[str]:
    """A fresh schema on the test PostgreSQL (with all tables unless ``tables`` is False).

    Yields a URL whose connections use that schema; the schema is dropped afterwards.
    """
    base = service_url("LASTMILE_TEST_POSTGRES_URL")
    admin = Database(base)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {base}: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc.orig}")
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    if tables:
        db = Database(url)
        Base.metadata.create_all(db.engine)
        db.dispose()
    try:
        yield url
    finally:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema_url(worker_id: str) -> Iterator[str]:
    """A private schema on the test PostgreSQL for this xdist worker, with all tables.

    The process id keeps two test runs against the same server (two checkouts) apart.
    """
    with postgres_schema(f"lm_test_{worker_id}_{os.getpid()}") as url:
        yield url


def _empty_all(db: Database) -> None:
    # DELETE, children first: for a test's few rows it takes milliseconds where TRUNCATE,
    # which replaces every table's files, takes a second.
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database with the current schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'test.sqlite'}")
        Base.metadata.create_all(db.engine)
    else:
        db = Database(request.getfixturevalue("postgres_schema_url"))
        _empty_all(db)
    yield db
    db.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[Database]:
    """Like ``database`` but shared by the tests of one module (for read-only test tables).

    PostgreSQL gets a schema of its own, so function-scoped databases cannot truncate it.
    """
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('module') / 'test.sqlite'}")
        Base.metadata.create_all(db.engine)
        yield db
        db.dispose()
        return
    module = request.module.__name__.rsplit(".", 1)[-1][:24]
    with postgres_schema(f"lm_test_{worker_id}_{os.getpid()}_{module}") as url:
        db = Database(url)
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


@pytest.fixture(scope="module")
def module_client(
    module_database: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """A client shared by a module's tests, over ``module_database``."""
    settings = Settings(
        environment="test", data_dir=tmp_path_factory.mktemp("app"), auto_migrate=False
    )
    with TestClient(create_app(settings, database=module_database)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def module_tenant(module_database: Database) -> Tenant:
    """A tenant shared by a module's tests, in ``module_database``."""
    return make_tenant(module_database, "Shared Deliveries")


@pytest.fixture
def tenant(database: Database) -> Tenant:
    """An organization with a user of each role, a merchant key, a depot and a locker."""
    return make_tenant(database, "Acme Deliveries")


@pytest.fixture
def other_tenant(database: Database) -> Tenant:
    return make_tenant(database, "Rival Logistics")
