"""The custody events a parcel goes through, as the ledger records them."""

from __future__ import annotations

import enum


class CustodyEvent(enum.StrEnum):
    """A change of who holds a parcel (or proof that nobody could take it)."""

    received_at_hub = "received_at_hub"
    loaded = "loaded"
    delivered = "delivered"
    put_in_locker = "put_in_locker"
    collected = "collected"
    failed = "failed"
    returned = "returned"
