from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lastmile.db.repository import TenantRepository
from lastmile.kit.errors import Unprocessable, field_error
from lastmile.kit.pagination import Paged, decode_cursor
from lastmile.ledger.core.entry import GENESIS_HASH
from lastmile.ledger.models import CustodyEntry, LedgerHead, LedgerRoot, OrganizationKey

STREAM_BATCH = 5000
# What verification reads of each entry.
STORED_COLUMNS = ("organization_id", "sequence", "prev_hash", "entry_hash", "signature",
                  "order_id", "parcel_id", "event", "actor", "at", "details", "day")  # fmt: skip
# The stored columns that verification reads besides the organization.
CHAINED = ("sequence", "prev_hash", "entry_hash", "signature", "order_id", "parcel_id",
           "event", "actor", "at", "details", "day")  # fmt: skip


class CustodyEntryRepository(TenantRepository[CustodyEntry]):
    model = CustodyEntry

    def of_order(self, order_id: str) -> list[CustodyEntry]:
        stmt = self.scoped().where(CustodyEntry.order_id == order_id)
        return list(self.session.scalars(stmt.order_by(CustodyEntry.sequence)))

    def in_chain_order(self) -> Iterator[Row[Any]]:
        """Every entry's columns by sequence, streamed in batches.

        Plain rows, not ORM objects: a ledger of millions would fill the identity map, and
        building objects costs more than verifying them.
        """
        columns = [getattr(CustodyEntry, name) for name in STORED_COLUMNS]
        stmt = (
            select(*columns)
            .where(CustodyEntry.organization_id == self.scope.organization_id)
            .order_by(CustodyEntry.sequence)
            .execution_options(yield_per=STREAM_BATCH)
        )
        yield from self.session.execute(stmt)

    def day_hashes(self, day: date) -> list[tuple[int, str]]:
        """(sequence, entry hash) of the day's entries in chain order: the day's tree leaves."""
        stmt = (
            select(CustodyEntry.sequence, CustodyEntry.entry_hash)
            .where(
                CustodyEntry.organization_id == self.scope.organization_id,
                CustodyEntry.day == day,
            )
            .order_by(CustodyEntry.sequence)
        )
        return [(sequence, entry_hash) for sequence, entry_hash in self.session.execute(stmt)]

    def days_to_seal(self, after: date | None, up_to: date) -> list[date]:
        """Days with entries after ``after`` (exclusive) up to ``up_to`` (inclusive)."""
        stmt = (
            select(CustodyEntry.day)
            .where(
                CustodyEntry.organization_id == self.scope.organization_id,
                CustodyEntry.day <= up_to,
            )
            .distinct()
            .order_by(CustodyEntry.day)
        )
        if after is not None:
            stmt = stmt.where(CustodyEntry.day > after)
        return list(self.session.scalars(stmt))


class LedgerRootRepository(TenantRepository[LedgerRoot]):
    model = LedgerRoot

    def for_day(self, day: date) -> LedgerRoot | None:
        return self.session.scalars(self.scoped().where(LedgerRoot.day == day)).first()

    def for_days(self, days: set[date]) -> dict[date, LedgerRoot]:
        if not days:
            return {}
        stmt = self.scoped().where(LedgerRoot.day.in_(days))
        return {root.day: root for root in self.session.scalars(stmt)}

    def by_day(self) -> list[LedgerRoot]:
        return list(self.session.scalars(self.scoped().order_by(LedgerRoot.day)))

    def page_by_day(self, *, cursor: str | None, limit: int) -> Paged[LedgerRoot]:
        """A page of roots in day order (ids follow publication, not the day sealed)."""
        stmt = self.scoped()
        if cursor:
            after = self.get(decode_cursor(cursor))
            if after is None:
                raise Unprocessable(
                    "The cursor is not one this API returned.",
                    errors=[field_error(["cursor"], "invalid cursor")],
                )
            stmt = stmt.where(LedgerRoot.day > after.day)
        rows = list(self.session.scalars(stmt.order_by(LedgerRoot.day).limit(limit + 1)))
        return Paged.of(rows, limit=limit, key=lambda root: root.id)


class OrganizationKeyRepository(TenantRepository[OrganizationKey]):
    model = OrganizationKey

    def active(self) -> OrganizationKey | None:
        stmt = self.scoped().where(OrganizationKey.active.is_(True))
        return self.session.scalars(stmt.order_by(OrganizationKey.created_at.desc())).first()


def head(session: Session, organization_id: str) -> LedgerHead | None:
    """The chain's head as last committed, without locking it (for readers)."""
    return session.get(LedgerHead, organization_id)


def lock_head(session: Session, organization_id: str) -> LedgerHead:
    """
    The organization's chain head, locked until the transaction ends (created if missing).

    On PostgreSQL the row lock (``SELECT ... FOR UPDATE``) makes concurrent appenders take
    turns; on SQLite every writing unit of work already holds the database's write lock
    (``BEGIN IMMEDIATE``), and ``FOR UPDATE`` is left out of the SQL.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LedgerHead)
        .values(organization_id=organization_id, last_sequence=0, last_hash=GENESIS_HASH)
        .on_conflict_do_nothing(index_elements=["organization_id"])
    )
    stmt = (
        select(LedgerHead)
        .where(LedgerHead.organization_id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one()
