"""Tampering with the stored ledger in plain SQL is found and pinpointed, on both backends.

The ledger has 4 entries on 2024-05-01 (sequences 1-4), 5 on 05-02 (5-9), both sealed, and
3 on the open day 05-03 (10-12).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text

from lastmile.db.engine import Database
from lastmile.ledger.core.chain import FaultKind, SignatureMode
from lastmile.ledger.service import verify_ledger
from tests.factories import Tenant
from tests.ledger.builders import build_ledger

DAYS = [4, 5, 3]


@dataclass(frozen=True)
class Tamper:
    """Statements run against the organization's rows (``:org``), and the first fault."""

    name: str
    sql: list[str]
    kind: FaultKind
    sequence: int
    signatures: SignatureMode = "anchors"


def entry(sequence: int) -> str:
    return f"organization_id = :org AND sequence = {sequence}"


TAMPERS = [
    Tamper("edit details of a sealed entry",
           [f"UPDATE custody_entries SET details = {{json}} WHERE {entry(6)}"],
           FaultKind.edited, 6),
    Tamper("edit details of an open-day entry",
           [f"UPDATE custody_entries SET details = {{json}} WHERE {entry(11)}"],
           FaultKind.edited, 11),
    Tamper("change the event",
           [f"UPDATE custody_entries SET event = 'returned' WHERE {entry(3)}"],
           FaultKind.edited, 3),
    Tamper("change the actor",
           [f"UPDATE custody_entries SET actor = 'user:someone_else' WHERE {entry(8)}"],
           FaultKind.edited, 8),
    Tamper("move an entry to another order",
           [f"UPDATE custody_entries SET order_id = 'ord_other' WHERE {entry(10)}"],
           FaultKind.edited, 10),
    Tamper("delete a sealed entry",
           [f"DELETE FROM custody_entries WHERE {entry(5)}"],
           FaultKind.broken_link, 6),
    Tamper("delete an open-day entry",
           [f"DELETE FROM custody_entries WHERE {entry(11)}"],
           FaultKind.broken_link, 12),
    Tamper("delete the newest entry",
           [f"DELETE FROM custody_entries WHERE {entry(12)}"],
           FaultKind.broken_link, 12),
    Tamper("swap two entries' sequences",
           [f"UPDATE custody_entries SET sequence = -1 WHERE {entry(7)}",
            f"UPDATE custody_entries SET sequence = 7 WHERE {entry(8)}",
            f"UPDATE custody_entries SET sequence = 8 WHERE {entry(-1)}"],
           FaultKind.broken_link, 7),
    Tamper("damage an open-day signature",
           [f"UPDATE custody_entries SET signature = '{'0' * 128}' WHERE {entry(10)}"],
           FaultKind.bad_signature, 10),
    Tamper("damage a sealed signature (checked with all signatures)",
           [f"UPDATE custody_entries SET signature = '{'0' * 128}' WHERE {entry(2)}"],
           FaultKind.bad_signature, 2, "all"),
    Tamper("change a root hash",
           [f"UPDATE ledger_roots SET root_hash = '{'0' * 64}' "
            "WHERE organization_id = :org AND entry_count = 5"],
           FaultKind.bad_root_signature, 5),
    Tamper("delete a root",
           ["DELETE FROM ledger_roots WHERE organization_id = :org AND entry_count = 4"],
           FaultKind.root_mismatch, 1),
]  # fmt: skip


def run_sql(db: Database, statements: list[str], organization_id: str) -> None:
    # A JSON literal needs a cast on PostgreSQL; SQLite stores JSON as text.
    json = "CAST(:json AS JSON)" if not db.is_sqlite else ":json"
    with db.engine.begin() as conn:
        for statement in statements:
            params = {"org": organization_id}
            if "{json}" in statement:
                statement = statement.replace("{json}", json)
                params["json"] = '{"photo_sha256": "' + "00" * 32 + '"}'
            assert conn.execute(text(statement), params).rowcount == 1


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.name)
def test_tampering_is_pinpointed(
    database: Database, tenant: Tenant, other_tenant: Tenant, tamper: Tamper
) -> None:
    """verify_ledger's first fault names the damaged entry (or day) and the kind of damage,
    and another organization's ledger is unaffected."""
    build_ledger(database, tenant.organization_id, DAYS)
    build_ledger(database, other_tenant.organization_id, DAYS)
    with database.unit_of_work(readonly=True) as session:
        before = verify_ledger(session, tenant.organization_id, signatures=tamper.signatures)
    assert before.ok, before.faults
    run_sql(database, tamper.sql, tenant.organization_id)
    with database.unit_of_work(readonly=True) as session:
        report = verify_ledger(session, tenant.organization_id, signatures=tamper.signatures)
        assert verify_ledger(session, other_tenant.organization_id, signatures="all").ok
    assert not report.ok
    fault = report.first_fault
    assert fault is not None
    assert (fault.kind, fault.sequence) == (tamper.kind, tamper.sequence), report.faults


def test_a_rehashed_and_resigned_forgery_of_a_sealed_day_fails_its_root(
    database: Database, tenant: Tenant
) -> None:
    """Even rewriting a sealed day's hashes and links in SQL shows: the signed root differs."""
    org = tenant.organization_id
    build_ledger(database, org, DAYS)
    with database.unit_of_work(readonly=True) as session:
        assert verify_ledger(session, org).ok
    # Drop entry 9 (the last of 05-02) and relink 10 to 8: a consistent chain, minus one.
    run_sql(
        database,
        [
            f"UPDATE custody_entries SET prev_hash = (SELECT entry_hash FROM custody_entries "
            f"WHERE {entry(8)}) WHERE {entry(10)}",
            f"DELETE FROM custody_entries WHERE {entry(9)}",
        ],
        org,
    )
    with database.unit_of_work(readonly=True) as session:
        report = verify_ledger(session, org)
    kinds = {(f.kind, f.sequence) for f in report.faults}
    assert (FaultKind.root_mismatch, 5) in kinds
    assert (FaultKind.edited, 10) in kinds
