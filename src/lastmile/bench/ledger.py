"""``lastmile bench ledger``: custody appends per second, and verify time per million entries.

Appends go through ``append_custody`` (hash, sign, chain-head lock, insert) into a fresh
database: a SQLite file by default, or a fresh schema on the PostgreSQL server at
``database_url``. First one append per unit of work, committed each time, as a driver's
delivery does; then ``batch`` appends per commit, as a hub scanning a cage of parcels might.

Verification is timed on a synthetic chain of ``entries`` entries built with the pure core,
sealed in days of ``DAY_SIZE`` entries: in memory (the pure ``verify_chain``), in both signature
modes, and after bulk-loading the chain into the database (``verify_ledger``, what
``lastmile ledger verify`` runs). Times are scaled linearly to a million entries; the JSON
says from how many they were measured.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, text

from lastmile.db.engine import Database
from lastmile.db.models import Base
from lastmile.kit.ids import new_id
from lastmile.ledger.core.chain import SignatureMode, verify_chain
from lastmile.ledger.core.entry import GENESIS_HASH, Entry, SignedEntry
from lastmile.ledger.core.events import CustodyEvent
from lastmile.ledger.core.keys import public_key_hex, seal_private_key, sign
from lastmile.ledger.core.merkle import merkle_root
from lastmile.ledger.core.roots import DayRoot, SignedRoot
from lastmile.ledger.models import CustodyEntry, LedgerHead, LedgerRoot, OrganizationKey
from lastmile.ledger.service import append_custody, verify_ledger
from lastmile.organizations.service import create_organization

DAY_SIZE = 20_000  # entries per synthetic day: a busy depot's day of scans and deliveries
FIRST_DAY = date(2024, 1, 1)
SECRET = "bench-ledger-secret"  # seals the key of a throwaway database
INSERT_BATCH = 10_000
EVENTS = list(CustodyEvent)


def _details(i: int) -> dict[str, Any]:
    """Evidence as the driver app sends it: content hashes of the photo and signature."""
    return {"photo_sha256": f"{i:064x}", "signature_sha256": f"{i * 7:064x}"}


def synthetic_chain(
    organization_id: str, key: Ed25519PrivateKey, entries: int
) -> tuple[list[SignedEntry], list[SignedRoot]]:
    """A valid chain of ``entries`` entries in days of ``DAY_SIZE``, every day sealed.

    All sealed, as the whole ledger is just after midnight: the figures are then the cost per
    sealed entry. An entry of a day still open costs one signature check more (~60 us).
    """
    chain: list[SignedEntry] = []
    prev = GENESIS_HASH
    for i in range(entries):
        day = FIRST_DAY + timedelta(days=i // DAY_SIZE)
        entry = Entry(
            sequence=i + 1,
            prev_hash=prev,
            organization_id=organization_id,
            order_id=f"ord_{i // 3:026d}",
            parcel_id=f"par_{i // 3:026d}",
            event=EVENTS[i % len(EVENTS)].value,
            actor=f"user:usr_{i % 50:026d}",
            at=f"{day.isoformat()}T{(i // 60) % 24:02d}:{i % 60:02d}:00.123456Z",
            day=day.isoformat(),
            details=_details(i),
        )
        prev = entry.digest()
        chain.append(SignedEntry(entry, prev, sign(key, bytes.fromhex(prev))))
    roots = []
    for first in range(0, entries, DAY_SIZE):
        day_entries = chain[first : first + DAY_SIZE]
        root = DayRoot(
            organization_id=organization_id,
            day=day_entries[0].entry.day,
            entry_count=len(day_entries),
            first_sequence=day_entries[0].entry.sequence,
            last_sequence=day_entries[-1].entry.sequence,
            root=merkle_root([bytes.fromhex(e.entry_hash) for e in day_entries]).hex(),
        )
        roots.append(SignedRoot(root, sign(key, root.message())))
    return chain, roots


def _timed_verify(
    chain: list[SignedEntry], roots: list[SignedRoot], key: Ed25519PrivateKey, mode: SignatureMode
) -> float:
    start = time.perf_counter()
    report = verify_chain(chain, key.public_key(), roots=roots, signatures=mode)
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"the synthetic chain did not verify: {report.first_fault}")
    return elapsed


def _load(
    db: Database,
    organization_id: str,
    key: Ed25519PrivateKey,
    chain: list[SignedEntry],
    roots: list[SignedRoot],
) -> None:
    """Bulk-insert a synthetic chain (with key, roots and head) as appends would leave it."""
    with db.unit_of_work() as session:
        session.add(
            OrganizationKey(
                id=new_id("lkey"),
                organization_id=organization_id,
                public_key=public_key_hex(key),
                private_key_sealed=seal_private_key(key, SECRET, organization_id),
            )
        )
        for start in range(0, len(chain), INSERT_BATCH):
            session.execute(
                insert(CustodyEntry),
                [_row(signed) for signed in chain[start : start + INSERT_BATCH]],
            )
        for signed_root in roots:
            root = signed_root.root
            session.add(
                LedgerRoot(
                    id=new_id("lrt"), organization_id=organization_id,
                    day=date.fromisoformat(root.day), entry_count=root.entry_count,
                    first_sequence=root.first_sequence, last_sequence=root.last_sequence,
                    root_hash=root.root, signature=signed_root.signature,
                )
            )  # fmt: skip
        last = chain[-1]
        session.add(
            LedgerHead(
                organization_id=organization_id, last_sequence=last.entry.sequence,
                last_hash=last.entry_hash, last_day=date.fromisoformat(last.entry.day),
                sealed_through=date.fromisoformat(roots[-1].root.day) if roots else None,
            )
        )  # fmt: skip


def _row(signed: SignedEntry) -> dict[str, Any]:
    entry = signed.entry
    return {
        "id": new_id("cus"),
        "organization_id": entry.organization_id,
        "sequence": entry.sequence,
        "prev_hash": entry.prev_hash,
        "entry_hash": signed.entry_hash,
        "signature": signed.signature,
        "order_id": entry.order_id,
        "parcel_id": entry.parcel_id,
        "event": entry.event,
        "actor": entry.actor,
        "at": datetime.fromisoformat(entry.at),
        "details": entry.details,
        "day": date.fromisoformat(entry.day),
    }


def _appends(db: Database, organization_id: str, count: int, per_commit: int) -> float:
    """Appends per second through the service, ``per_commit`` appends per unit of work."""
    start = time.perf_counter()
    for first in range(0, count, per_commit):
        with db.unit_of_work() as session:
            for i in range(first, min(first + per_commit, count)):
                append_custody(
                    session,
                    organization_id=organization_id,
                    order_id=f"ord_{i:026d}",
                    parcel_id=None,
                    event=CustodyEvent.delivered,
                    actor="user:usr_bench",
                    at=datetime.now(UTC),
                    details=_details(i),
                    secret_key=SECRET,
                )
    return count / (time.perf_counter() - start)


def run(
    *,
    appends: int = 2_000,
    batch: int = 100,
    entries: int = 200_000,
    database_url: str | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """
    Time appends through the service and verification of a chain of ``entries``.

    Returns
    -------
    dict
        ``appends_per_s`` (one commit per append), ``appends_per_s_batched`` (``batch`` per
        commit), ``verify_seconds_per_million`` (the default check: hashes, links, Merkle
        roots, root signatures), ``verify_all_signatures_seconds_per_million`` (every entry's
        signature too), ``verify_db_seconds_per_million`` (the default check reading the chain
        from the database), each scaled from ``verify_entries``.
    """
    if min(appends, batch, entries) < 1:
        raise ValueError("appends, batch and entries must be positive")
    progress = on_progress or (lambda _message: None)
    backend = "postgresql" if database_url else "sqlite"
    result: dict[str, Any] = {"backend": backend, "appends": appends, "batch": batch}
    with (
        tempfile.TemporaryDirectory(prefix="lastmile-ledger-") as tmp,
        _database(database_url, Path(tmp)) as db,
    ):
        with db.unit_of_work() as session:
            appending = create_organization(session, "Bench appends", "UTC").id
            loaded = create_organization(session, "Bench verify", "UTC").id
        progress(f"{appends} appends, one commit each ({backend})")
        result["appends_per_s"] = round(_appends(db, appending, appends, 1))
        progress(f"{appends} appends, {batch} per commit")
        result["appends_per_s_batched"] = round(_appends(db, appending, appends, batch))
        with db.unit_of_work(readonly=True) as session:
            result["appended_chain_ok"] = verify_ledger(session, appending).ok

        key = Ed25519PrivateKey.generate()
        progress(f"building a chain of {entries} entries")
        chain, roots = synthetic_chain(loaded, key, entries)
        scale = 1_000_000 / entries
        result["verify_entries"] = entries
        result["verify_days_sealed"] = len(roots)
        progress("verifying it in memory")
        anchors = _timed_verify(chain, roots, key, "anchors")
        every = _timed_verify(chain, roots, key, "all")
        result["verify_seconds_per_million"] = round(anchors * scale, 2)
        result["verify_all_signatures_seconds_per_million"] = round(every * scale, 2)
        progress("loading it into the database")
        _load(db, loaded, key, chain, roots)
        del chain, roots
        progress("verifying it from the database")
        start = time.perf_counter()
        with db.unit_of_work(readonly=True) as session:
            report = verify_ledger(session, loaded, signatures="anchors")
        result["verify_db_seconds_per_million"] = round((time.perf_counter() - start) * scale, 2)
        if not report.ok or report.entries != entries:
            raise RuntimeError(f"the loaded chain did not verify: {report.first_fault}")
    result["verify_scaled_from"] = f"{entries} entries, times x{scale:g}"
    return result


@contextmanager
def _database(server_url: str | None, tmp: Path) -> Iterator[Database]:
    """An empty database with every table: a SQLite file, or a fresh PostgreSQL schema."""
    if server_url is None:
        db = Database(f"sqlite:///{tmp / 'bench.sqlite'}")
        Base.metadata.create_all(db.engine)
        yield db
        db.dispose()
        return
    schema = f"lm_bench_ledger_{os.getpid()}"
    admin = Database(server_url)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in server_url else "?"
    db = Database(f"{server_url}{separator}options=-csearch_path%3D{schema}")
    try:
        Base.metadata.create_all(db.engine)
        yield db
    finally:
        db.dispose()
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
