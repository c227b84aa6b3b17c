"""Building ledgers in a test database through the service, as the driver API would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lastmile.config import DEV_SECRET
from lastmile.db.engine import Database
from lastmile.ledger.core.events import CustodyEvent
from lastmile.ledger.models import CustodyEntry
from lastmile.ledger.service import append_custody, publish_roots

SECRET = DEV_SECRET  # what the test app's settings seal and open keys with
FIRST_DAY = datetime(2024, 5, 1, 8, tzinfo=UTC)


def day(index: int, hour: int = 8) -> datetime:
    """A time on the index-th day of the test ledger (2024-05-01 is day 0)."""
    return FIRST_DAY + timedelta(days=index, hours=hour - 8)


def append(
    db: Database,
    organization_id: str,
    order_id: str,
    *,
    now: datetime,
    event: CustodyEvent = CustodyEvent.delivered,
    details: dict[str, object] | None = None,
) -> CustodyEntry:
    """One custody entry appended (and committed) on the server's day of ``now``."""
    with db.unit_of_work() as session:
        return append_custody(
            session,
            organization_id=organization_id,
            order_id=order_id,
            parcel_id=None,
            event=event,
            actor="user:usr_driver",
            at=now - timedelta(minutes=5),
            details={"photo_sha256": "ab" * 32} if details is None else details,
            secret_key=SECRET,
            now=now,
        )


def build_ledger(
    db: Database, organization_id: str, days: list[int], *, order_ids: list[str] | None = None
) -> None:
    """``days[i]`` entries on day i, orders taken in turn from ``order_ids``; every day but
    the last sealed."""
    orders = order_ids or ["ord_a", "ord_b", "ord_c"]
    n = 0
    for index, count in enumerate(days):
        for i in range(count):
            append(db, organization_id, orders[n % len(orders)], now=day(index, 8 + i % 10))
            n += 1
    with db.unit_of_work() as session:
        publish_roots(session, organization_id, secret_key=SECRET, now=day(len(days) - 1, 20))
