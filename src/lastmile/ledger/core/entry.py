"""A ledger entry: the fields its hash covers, and how entries link into a chain."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from lastmile.ledger.core.canonical import canonical_json

GENESIS_HASH = "0" * 64  # the "previous hash" of an organization's first entry


@dataclass(frozen=True, slots=True)
class Entry:
    """
    What one custody entry states; every field is covered by its hash.

    Attributes
    ----------
    sequence
        Position in the organization's chain, from 1 without gaps.
    prev_hash
        ``entry_hash`` of entry ``sequence - 1`` (``GENESIS_HASH`` for the first).
    at
        When the event happened, ISO 8601 in UTC with a ``Z`` (the device's claim).
    day
        UTC date (``YYYY-MM-DD``) on the server's clock when the entry was appended: the
        Merkle tree (day root) the entry belongs to.
    details
        Event evidence (hashes of photo and signature, reason codes), canonical JSON.
    """

    sequence: int
    prev_hash: str
    organization_id: str
    order_id: str
    parcel_id: str | None
    event: str
    actor: str
    at: str
    day: str
    details: dict[str, Any]

    def statement(self) -> dict[str, Any]:
        """The JSON object that is hashed (and that receipts carry as ``entry``)."""
        return {
            "sequence": self.sequence,
            "prev_hash": self.prev_hash,
            "organization_id": self.organization_id,
            "order_id": self.order_id,
            "parcel_id": self.parcel_id,
            "event": self.event,
            "actor": self.actor,
            "at": self.at,
            "day": self.day,
            "details": self.details,
        }

    def digest(self) -> str:
        """Hex SHA-256 of the canonical JSON of :meth:`statement`."""
        return entry_digest(self.statement())

    @classmethod
    def from_statement(cls, statement: dict[str, Any]) -> Entry:
        """The entry a receipt's ``entry`` object describes (KeyError if a field is missing)."""
        return cls(**{name: statement[name] for name in ENTRY_FIELDS})


ENTRY_FIELDS = tuple(Entry.__dataclass_fields__)


def entry_digest(statement: dict[str, Any]) -> str:
    """Hex SHA-256 of an entry statement's canonical JSON."""
    return hashlib.sha256(canonical_json(statement)).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedEntry:
    """An entry as stored: its content, the hash recorded for it and the operator's signature.

    ``entry_hash`` is what the next entry links to and what the day's Merkle tree holds; it
    differs from ``entry.digest()`` exactly when the content was changed after appending.
    """

    entry: Entry
    entry_hash: str
    signature: str
