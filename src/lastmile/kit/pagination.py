"""Cursor pagination: opaque cursors over the time-ordered public ids."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from lastmile.kit.errors import Unprocessable, field_error

T = TypeVar("T")
U = TypeVar("U")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
]


_ID_SHAPE = re.compile(r"[a-z]{1,8}_[0-9a-z]{26}")


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    invalid = Unprocessable(
        "The cursor is not one this API returned.",
        errors=[field_error(["cursor"], "invalid cursor")],
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_id = base64.b64decode(padded.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid from exc
    if not _ID_SHAPE.fullmatch(last_id):
        raise invalid
    return last_id


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    """A page as a repository returns it (rows of any type)."""

    items: list[T]
    next_cursor: str | None

    @classmethod
    def of(cls, rows: Sequence[T], *, limit: int, key: Callable[[T], str]) -> Paged[T]:
        """Build a page from up to ``limit + 1`` rows (the extra one says there is more)."""
        items = list(rows[:limit])
        more = len(rows) > limit
        return cls(items=items, next_cursor=encode_cursor(key(items[-1])) if more else None)


class Page(BaseModel, Generic[T]):
    """A page of results; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[T]
    next_cursor: str | None = None

    @classmethod
    def build(cls, paged: Paged[U], fn: Callable[[U], T]) -> Page[T]:
        return cls(items=[fn(item) for item in paged.items], next_cursor=paged.next_cursor)
