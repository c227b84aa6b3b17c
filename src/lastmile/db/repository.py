"""Tenant-scoped data access shared by every domain's repository."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lastmile.db.base import Base
from lastmile.kit.pagination import Paged, decode_cursor

M = TypeVar("M", bound=Base)


class TenantScope(Protocol):
    """The part of a caller that decides what it may see."""

    @property
    def organization_id(self) -> str: ...

    @property
    def merchant_id(self) -> str | None: ...


class TenantRepository(Generic[M]):
    """All SQL for one model, always filtered to the caller's organization (and merchant).

    Subclasses set ``model``. Reads must start from :meth:`scoped`, so a forgotten filter
    cannot leak another tenant's rows; ``tests/security`` checks this on every endpoint.
    """

    model: type[M]

    def __init__(self, session: Session, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    def scoped(self) -> Select[M]:
        model: Any = self.model
        stmt = select(self.model).where(model.organization_id == self.scope.organization_id)
        merchant_column = getattr(model, "merchant_id", None)
        if merchant_column is not None and self.scope.merchant_id is not None:
            stmt = stmt.where(merchant_column == self.scope.merchant_id)
        return stmt

    def matching(self, equals: Mapping[str, Any]) -> Select[M]:
        """:meth:`scoped`, narrowed to rows whose columns equal the given non-None values."""
        stmt = self.scoped()
        for column, value in equals.items():
            if value is not None:
                stmt = stmt.where(getattr(self.model, column) == value)
        return stmt

    def get(self, id_: str) -> M | None:
        model: Any = self.model
        return self.session.scalars(self.scoped().where(model.id == id_)).first()

    def all(self) -> list[M]:
        """Every row the caller can see (for small tables: fleet, depots, lockers)."""
        return list(self.session.scalars(self.scoped()))

    def get_many(self, ids: Sequence[str]) -> list[M]:
        model: Any = self.model
        return list(self.session.scalars(self.scoped().where(model.id.in_(ids))))

    def add(self, obj: M) -> M:
        obj.organization_id = self.scope.organization_id  # type: ignore[attr-defined]
        self.session.add(obj)
        self.session.flush()
        return obj

    def delete(self, obj: M) -> None:
        self.session.delete(obj)
        self.session.flush()

    def page(self, stmt: Select[M], *, cursor: str | None, limit: int) -> Paged[M]:
        """One page of ``stmt`` in id order (ids are time-ordered) after ``cursor``."""
        model: Any = self.model
        if cursor:
            stmt = stmt.where(model.id > decode_cursor(cursor))
        rows = list(self.session.scalars(stmt.order_by(model.id).limit(limit + 1)))
        return Paged.of(rows, limit=limit, key=lambda row: str(getattr(row, "id")))  # noqa: B009
