"""Appending, sealing and key handling through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from lastmile.db.engine import Database
from lastmile.kit.errors import Conflict, Unprocessable
from lastmile.ledger.core.entry import GENESIS_HASH
from lastmile.ledger.core.keys import load_public_key, signature_valid
from lastmile.ledger.core.merkle import merkle_root
from lastmile.ledger.models import CustodyEntry, LedgerHead, LedgerRoot, OrganizationKey
from lastmile.ledger.service import (
    append_custody,
    publish_roots,
    signed_entry,
    verify_ledger,
)
from tests.factories import Tenant
from tests.ledger.builders import SECRET, append, build_ledger, day


def entries(db: Database, organization_id: str) -> list[CustodyEntry]:
    with db.unit_of_work(readonly=True) as session:
        stmt = select(CustodyEntry).where(CustodyEntry.organization_id == organization_id)
        return list(session.scalars(stmt.order_by(CustodyEntry.sequence)))


def test_appends_form_a_signed_chain(database: Database, tenant: Tenant) -> None:
    """Entries link by hash from the genesis, are signed by the organization's new key and
    record the server's day."""
    first = append(database, tenant.organization_id, "ord_1", now=day(0))
    second = append(database, tenant.organization_id, "ord_2", now=day(1))
    assert (first.sequence, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.sequence, second.prev_hash) == (2, first.entry_hash)
    assert (first.day.isoformat(), second.day.isoformat()) == ("2024-05-01", "2024-05-02")
    with database.unit_of_work(readonly=True) as session:
        keys = list(session.scalars(select(OrganizationKey)))
        head = session.get(LedgerHead, tenant.organization_id)
    assert len(keys) == 1
    assert head is not None
    assert (head.last_sequence, head.last_hash) == (2, second.entry_hash)
    public = load_public_key(keys[0].public_key)
    for row in entries(database, tenant.organization_id):
        assert signed_entry(row).entry.digest() == row.entry_hash
        assert signature_valid(public, row.signature, bytes.fromhex(row.entry_hash))


def test_organizations_have_separate_chains(
    database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Each organization's chain starts at 1 with its own key."""
    a = append(database, tenant.organization_id, "ord_1", now=day(0))
    b = append(database, other_tenant.organization_id, "ord_1", now=day(0))
    assert a.sequence == b.sequence == 1
    with database.unit_of_work(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(OrganizationKey)) == 2


def test_details_are_stored_in_the_form_that_was_hashed(database: Database, tenant: Tenant) -> None:
    """Tuples and number keys are normalised before hashing, so the stored row verifies."""
    append(database, tenant.organization_id, "ord_1", now=day(0),
           details={"codes": (1, 2), "by_stop": {3: 0.1}, "text": "Só à porta"})  # fmt: skip
    [row] = entries(database, tenant.organization_id)
    assert row.details == {"codes": [1, 2], "by_stop": {"3": 0.1}, "text": "Só à porta"}
    assert signed_entry(row).entry.digest() == row.entry_hash


@pytest.mark.parametrize(
    ("event", "details", "at", "field"),
    [
        ("delivered", {"x": float("nan")}, day(0), "details"),
        ("delivered", {"x": 1}, datetime(2024, 5, 1, 8), "at"),  # naive on purpose
        ("teleported", {"x": 1}, day(0), "event"),
    ],
)
def test_unrecordable_input_is_refused_and_writes_nothing(
    database: Database, tenant: Tenant, event: str, details: dict[str, object], at: datetime,
    field: str,
) -> None:  # fmt: skip
    """An unknown event, NaN details or a naive time are a 422 naming the field; no entry,
    head or key is left."""
    with pytest.raises(Unprocessable) as raised, database.unit_of_work() as session:
        append_custody(
            session, organization_id=tenant.organization_id, order_id="ord_1", parcel_id=None,
            event=event, actor="user:u", at=at, details=details, secret_key=SECRET,  # type: ignore[arg-type]
        )  # fmt: skip
    assert [e.field for e in raised.value.errors] == [field]
    with database.unit_of_work(readonly=True) as session:
        for model in (CustodyEntry, LedgerHead, OrganizationKey):
            assert session.scalar(select(func.count()).select_from(model)) == 0


def test_sealing_signs_closed_days_once_and_leaves_today_open(
    database: Database, tenant: Tenant
) -> None:
    """publish_roots seals every day before today, exactly once, over the day's entry hashes."""
    org = tenant.organization_id
    build_ledger(database, org, [2, 3, 1])
    with database.unit_of_work() as session:
        again = publish_roots(session, org, secret_key=SECRET, now=day(2, 23))
    assert again == []
    rows = entries(database, org)
    with database.unit_of_work(readonly=True) as session:
        roots = list(session.scalars(select(LedgerRoot).order_by(LedgerRoot.day)))
        head = session.get(LedgerHead, org)
    sealed = [(r.day.isoformat(), r.entry_count, r.first_sequence, r.last_sequence) for r in roots]
    assert sealed == [("2024-05-01", 2, 1, 2), ("2024-05-02", 3, 3, 5)]
    assert roots[1].root_hash == merkle_root([bytes.fromhex(r.entry_hash) for r in rows[2:5]]).hex()
    assert head is not None
    assert head.sealed_through is not None
    assert head.sealed_through.isoformat() == "2024-05-02"


def test_a_sealed_day_takes_no_more_entries(database: Database, tenant: Tenant) -> None:
    """An append whose server day is sealed (the clock went back) is refused with 409."""
    org = tenant.organization_id
    append(database, org, "ord_1", now=day(0))
    with database.unit_of_work() as session:
        publish_roots(session, org, secret_key=SECRET, now=day(1))
    with pytest.raises(Conflict, match="sealed"):
        append(database, org, "ord_1", now=day(0, 12))


def test_days_never_go_back_along_the_chain(database: Database, tenant: Tenant) -> None:
    """A server clock that steps back a day keeps appending to the latest day."""
    org = tenant.organization_id
    append(database, org, "ord_1", now=day(3))
    late = append(database, org, "ord_1", now=day(2))
    assert late.day == day(3).date()


def test_the_key_opens_only_with_the_secret_it_was_sealed_with(
    database: Database, tenant: Tenant
) -> None:
    """After LASTMILE_SECRET_KEY changes, appends fail rather than sign with a new key."""
    append(database, tenant.organization_id, "ord_1", now=day(0))
    with pytest.raises(ValueError, match="does not open"), database.unit_of_work() as session:
        append_custody(
            session, organization_id=tenant.organization_id, order_id="ord_1", parcel_id=None,
            event="loaded", actor="user:u", at=day(0), details={}, secret_key="another",  # type: ignore[arg-type]
        )  # fmt: skip
    assert len(entries(database, tenant.organization_id)) == 1


def test_concurrent_appends_never_fork_the_chain(database: Database, tenant: Tenant) -> None:
    """Drivers appending at once from many threads get one gapless chain that verifies."""
    org, threads, each = tenant.organization_id, 6, 8
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def driver(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                append(database, org, f"ord_{n}_{i}", now=day(0, 10))
        except BaseException as exc:  # reported below, from the test thread
            errors.append(exc)

    workers = [threading.Thread(target=driver, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    rows = entries(database, org)
    assert [r.sequence for r in rows] == list(range(1, threads * each + 1))
    assert all(r.prev_hash == p.entry_hash for p, r in itertools.pairwise(rows))
    with database.unit_of_work(readonly=True) as session:
        assert verify_ledger(session, org).ok
        assert session.scalar(select(func.count()).select_from(OrganizationKey)) == 1
