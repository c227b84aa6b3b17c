"""Engine and unit of work for SQLite (WAL, the embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

WRITER_WAIT_S = 10.0  # as long as SQLite's busy_timeout


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; busy_timeout makes writers queue instead of
    # failing at once; NORMAL sync is durable in WAL mode except against power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: a deferred transaction that later upgrades to write can fail
    # with SQLITE_BUSY without waiting, which busy_timeout cannot help with.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str, *, echo: bool = False, immediate: bool = True) -> Engine:
    """Create an engine with the settings each backend needs.

    On SQLite, ``immediate`` makes every transaction take the write lock at BEGIN (for units of
    work that write); read-only ones use a deferred BEGIN so they never wait for writers.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is turned off so BEGIN IMMEDIATE takes effect.
        event.listen(
            engine,
            "connect",
            lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None),
        )
        event.listen(
            engine,
            "begin",
            _sqlite_begin_immediate if immediate else lambda conn: conn.exec_driver_sql("BEGIN"),
        )
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


AFTER_COMMIT = "lastmile.after_commit"
READONLY = "lastmile.readonly"


def is_readonly(session: Session) -> bool:
    """Whether the session belongs to a read-only unit of work (skip best-effort writes)."""
    return bool(session.info.get(READONLY, False))


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the unit of work holding ``session`` has committed.

    For work that must see the committed data, e.g. starting a background job.
    """
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_db_engine(url, echo=echo)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            self.read_engine = create_db_engine(url, echo=echo, immediate=False)
        else:
            self.read_engine = self.engine
        self.read_sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue on this lock instead
        # of in SQLite's busy handler, which sleeps 1-100 ms between tries: under load that
        # sleep, not the work, set the pace (lastmile bench ingest). A plain Lock, because a
        # request's unit of work may begin and end on different threadpool threads.
        self._writer = threading.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Services never commit; this boundary (a request, a job, a CLI command) does.
        ``readonly`` units of work may still write incidental data (see ``is_readonly``), but
        on SQLite they do not queue behind writers.
        """
        writer = None if readonly else self._writer
        if writer is not None and not writer.acquire(timeout=WRITER_WAIT_S):
            raise OperationalError("BEGIN IMMEDIATE", None, TimeoutError("database is busy"))
        session = (self.read_sessionmaker if readonly else self.sessionmaker)()
        session.info[READONLY] = readonly
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if writer is not None:
                writer.release()
        for callback in session.info.pop(AFTER_COMMIT, []):
            callback()

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()
