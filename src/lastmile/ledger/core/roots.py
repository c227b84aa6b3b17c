"""Day roots: the signed statement that seals one organization's entries of one UTC day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lastmile.ledger.core.canonical import canonical_json

ROOT_KIND = "lastmile.ledger.day-root/1"


@dataclass(frozen=True, slots=True)
class DayRoot:
    """
    What a day root states; its signature covers the canonical JSON of :meth:`statement`.

    The statement carries a ``kind`` field, so a root signature (over a JSON document) can
    never be confused with an entry signature (over a 32-byte hash).
    """

    organization_id: str
    day: str
    entry_count: int
    first_sequence: int
    last_sequence: int
    root: str

    def statement(self) -> dict[str, Any]:
        return {
            "kind": ROOT_KIND,
            "organization_id": self.organization_id,
            "day": self.day,
            "entry_count": self.entry_count,
            "first_sequence": self.first_sequence,
            "last_sequence": self.last_sequence,
            "root": self.root,
        }

    def message(self) -> bytes:
        """The bytes the operator signs."""
        return canonical_json(self.statement())


@dataclass(frozen=True, slots=True)
class SignedRoot:
    root: DayRoot
    signature: str
