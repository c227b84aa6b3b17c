"""Builders of small valid chains for the pure-core tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lastmile.ledger.core.entry import GENESIS_HASH, Entry, SignedEntry
from lastmile.ledger.core.keys import sign
from lastmile.ledger.core.merkle import merkle_root
from lastmile.ledger.core.roots import DayRoot, SignedRoot

ORG = "org_test"


def make_chain(
    key: Ed25519PrivateKey, days: list[int], *, organization_id: str = ORG
) -> list[SignedEntry]:
    """A valid chain with ``days[i]`` entries on day i (from 2024-05-01)."""
    chain: list[SignedEntry] = []
    prev = GENESIS_HASH
    for day_index, count in enumerate(days):
        day = f"2024-05-{day_index + 1:02d}"
        for _ in range(count):
            entry = Entry(
                sequence=len(chain) + 1, prev_hash=prev, organization_id=organization_id,
                order_id=f"ord_{len(chain) % 3}", parcel_id=None, event="delivered",
                actor="user:usr_1", at=f"{day}T10:00:00Z", day=day,
                details={"photo_sha256": "ab" * 32, "n": len(chain)},
            )  # fmt: skip
            prev = entry.digest()
            chain.append(SignedEntry(entry, prev, sign(key, bytes.fromhex(prev))))
    return chain


def seal(key: Ed25519PrivateKey, chain: list[SignedEntry], day: str) -> SignedRoot:
    """The signed root of ``day`` over the chain's entries of that day."""
    entries = [e for e in chain if e.entry.day == day]
    root = DayRoot(
        organization_id=entries[0].entry.organization_id, day=day, entry_count=len(entries),
        first_sequence=entries[0].entry.sequence, last_sequence=entries[-1].entry.sequence,
        root=merkle_root([bytes.fromhex(e.entry_hash) for e in entries]).hex(),
    )  # fmt: skip
    return SignedRoot(root, sign(key, root.message()))


def edited(signed: SignedEntry, **changes: Any) -> SignedEntry:
    """The same stored entry with some content fields changed (hash and signature kept)."""
    return dataclasses.replace(signed, entry=dataclasses.replace(signed.entry, **changes))
