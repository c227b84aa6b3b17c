"""Background work of the chat: deleting messages past the retention period."""

from __future__ import annotations

from datetime import timedelta

from lastmile.chat.repository import purge_messages
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.kit.periodic import PeriodicJob

RETENTION_INTERVAL_S = 3600.0


def chat_retention_job(settings: Settings, db: Database) -> PeriodicJob:
    """A job that deletes messages older than ``chat_retention_days`` every hour."""
    period = timedelta(days=settings.chat_retention_days)

    def purge() -> None:
        with db.unit_of_work() as session:
            purge_messages(session, utcnow() - period)

    return PeriodicJob("chat-retention", RETENTION_INTERVAL_S, purge)
