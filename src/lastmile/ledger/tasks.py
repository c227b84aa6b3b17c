"""Background work of the ledger: sealing closed days, in every server process."""

from __future__ import annotations

import logging

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.periodic import PeriodicJob
from lastmile.ledger.service import ledger_organizations, publish_roots

log = logging.getLogger(__name__)

SEAL_INTERVAL_S = 3600.0


def seal_closed_days(db: Database, secret_key: str) -> int:
    """Publish the roots of every organization's closed, unsealed days; how many were sealed.

    One transaction per organization, so one that fails (say, a key sealed with another
    secret) does not hold back the others. Safe to run in several processes at once: each
    takes the organization's chain head lock and finds the days already sealed.
    """
    with db.unit_of_work(readonly=True) as session:
        organizations = ledger_organizations(session)
    sealed = 0
    for organization_id in organizations:
        try:
            with db.unit_of_work() as session:
                sealed += len(publish_roots(session, organization_id, secret_key=secret_key))
        except Exception:
            log.exception("sealing the ledger of %s failed", organization_id)
    return sealed


def sealing_job(settings: Settings, db: Database) -> PeriodicJob:
    """The hourly job that seals yesterday soon after midnight UTC (and catches up at start)."""
    return PeriodicJob(
        "ledger-sealing", SEAL_INTERVAL_S, lambda: seal_closed_days(db, settings.secret_key)
    )
