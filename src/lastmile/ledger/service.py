"""The custody ledger's rules: append (inside the caller's transaction), seal days, verify,
and issue receipts. Never commits; the caller's unit of work does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.kit.clock import as_utc, iso_z, utcnow
from lastmile.kit.errors import Conflict, Unprocessable, field_error
from lastmile.kit.ids import new_id
from lastmile.ledger.core.canonical import normalized
from lastmile.ledger.core.chain import ChainHead, ChainReport, SignatureMode, verify_chain
from lastmile.ledger.core.entry import Entry, SignedEntry
from lastmile.ledger.core.events import CustodyEvent
from lastmile.ledger.core.keys import (
    load_public_key,
    open_private_key,
    public_key_hex,
    seal_private_key,
    sign,
)
from lastmile.ledger.core.merkle import inclusion_proof, merkle_root
from lastmile.ledger.core.receipt import InclusionProof, build_receipt
from lastmile.ledger.core.roots import DayRoot, SignedRoot
from lastmile.ledger.models import CustodyEntry, LedgerHead, LedgerRoot, OrganizationKey
from lastmile.ledger.repository import (
    CustodyEntryRepository,
    LedgerRootRepository,
    OrganizationKeyRepository,
    head,
    lock_head,
)

T = TypeVar("T")


def ledger_scope(organization_id: str) -> Principal:
    """The scope the ledger reads and writes an organization's rows in."""
    return Principal(organization_id, Access.admin, system="ledger")


def append_custody(
    session: Session,
    *,
    organization_id: str,
    order_id: str,
    parcel_id: str | None,
    event: CustodyEvent,
    actor: str,
    at: datetime,
    details: dict[str, Any],
    secret_key: str,
    now: datetime | None = None,
) -> CustodyEntry:
    """
    Append one custody event to the organization's chain, in the caller's transaction.

    Concurrent appends take turns on the chain head's row lock, so the chain never forks;
    the entry becomes visible (and the head moves) when the caller commits.

    Parameters
    ----------
    at
        When the event happened (the device's clock); timezone-aware.
    details
        Evidence, e.g. ``{"photo_sha256": ..., "signature_sha256": ...}``: hashes and codes,
        not personal data (the ledger is never rewritten, so it could not be erased).
    secret_key
        The deployment's ``settings.secret_key``; opens (or seals, on the first append) the
        organization's signing key.
    now
        The server's time of appending (default: now); its UTC date is the entry's day.

    Raises
    ------
    Unprocessable
        ``event`` is no custody event, ``details`` has no canonical JSON form, or ``at``
        has no timezone.
    Conflict
        The server's clock places the entry in a day already sealed.
    """
    custody_event = _checked("event", lambda: CustodyEvent(event))
    stored_details = _checked("details", lambda: normalized(details))
    if at.tzinfo is None:
        raise Unprocessable(
            "The custody time needs a timezone.", errors=[field_error(["at"], "naive time")]
        )
    at_utc = _checked("at", lambda: as_utc(at))

    chain = lock_head(session, organization_id)
    key = _signing_key(session, organization_id, secret_key)
    day = as_utc(now or utcnow()).date()
    if chain.last_day is not None and day < chain.last_day:
        day = chain.last_day  # the server clock stepped back: days never go back along a chain
    if chain.sealed_through is not None and day <= chain.sealed_through:
        raise Conflict(f"The ledger day {day.isoformat()} is sealed; check the server clock.")

    entry = Entry(
        sequence=chain.last_sequence + 1,
        prev_hash=chain.last_hash,
        organization_id=organization_id,
        order_id=order_id,
        parcel_id=parcel_id,
        event=custody_event.value,
        actor=actor,
        at=iso_z(at_utc),
        day=day.isoformat(),
        details=stored_details,
    )
    entry_hash = entry.digest()
    row = CustodyEntry(
        id=new_id("cus"),
        organization_id=organization_id,
        sequence=entry.sequence,
        prev_hash=entry.prev_hash,
        entry_hash=entry_hash,
        signature=sign(key, bytes.fromhex(entry_hash)),
        order_id=order_id,
        parcel_id=parcel_id,
        event=entry.event,
        actor=actor,
        at=at_utc,
        details=stored_details,
        day=day,
    )
    session.add(row)
    chain.last_sequence, chain.last_hash, chain.last_day = entry.sequence, entry_hash, day
    session.flush()
    return row


def _checked(field: str, parse: Callable[[], T]) -> T:
    """``parse()``, its ValueError turned into a 422 naming ``field``."""
    try:
        return parse()
    except ValueError as exc:
        raise Unprocessable(
            f"The custody entry cannot be recorded: {field}: {exc}",
            errors=[field_error([field], str(exc))],
        ) from exc


def _signing_key(session: Session, organization_id: str, secret_key: str) -> Ed25519PrivateKey:
    """The organization's private key, created on first use (the caller holds the head lock,
    so two first appends cannot both create one)."""
    keys = OrganizationKeyRepository(session, ledger_scope(organization_id))
    stored = keys.active()
    if stored is not None:
        return open_private_key(stored.private_key_sealed, secret_key, organization_id)
    key = Ed25519PrivateKey.generate()
    keys.add(
        OrganizationKey(
            id=new_id("lkey"),
            public_key=public_key_hex(key),
            private_key_sealed=seal_private_key(key, secret_key, organization_id),
        )
    )
    return key


def publish_roots(
    session: Session,
    organization_id: str,
    up_to_day: date | None = None,
    *,
    secret_key: str,
    now: datetime | None = None,
) -> list[LedgerRoot]:
    """
    Seal the organization's closed days up to ``up_to_day``: sign each day's Merkle root.

    Only days before today (UTC) can be sealed, since today's entries are still coming;
    days sealed before are skipped, so running it again (or in two processes) is harmless.
    """
    last_closed = as_utc(now or utcnow()).date() - timedelta(days=1)
    up_to = last_closed if up_to_day is None else min(up_to_day, last_closed)
    chain = lock_head(session, organization_id)
    if chain.sealed_through is not None and up_to <= chain.sealed_through:
        return []
    scope = ledger_scope(organization_id)
    entries = CustodyEntryRepository(session, scope)
    roots = LedgerRootRepository(session, scope)
    published: list[LedgerRoot] = []
    days = entries.days_to_seal(chain.sealed_through, up_to)
    if days:
        key = _signing_key(session, organization_id, secret_key)
    for day in days:
        leaves = entries.day_hashes(day)
        statement = DayRoot(
            organization_id=organization_id,
            day=day.isoformat(),
            entry_count=len(leaves),
            first_sequence=leaves[0][0],
            last_sequence=leaves[-1][0],
            root=merkle_root([bytes.fromhex(h) for _, h in leaves]).hex(),
        )
        published.append(
            roots.add(
                LedgerRoot(
                    id=new_id("lrt"),
                    day=day,
                    entry_count=statement.entry_count,
                    first_sequence=statement.first_sequence,
                    last_sequence=statement.last_sequence,
                    root_hash=statement.root,
                    signature=sign(key, statement.message()),
                )
            )
        )
    chain.sealed_through = up_to
    session.flush()
    return published


def ledger_organizations(session: Session) -> list[str]:
    """Organizations that have a ledger (for the sealing job)."""
    return list(session.scalars(select(LedgerHead.organization_id)))


class StoredEntry(Protocol):
    """The stored columns of an entry (an ORM object or a plain row of them)."""

    @property
    def organization_id(self) -> str: ...

    @property
    def sequence(self) -> int: ...

    @property
    def prev_hash(self) -> str: ...

    @property
    def entry_hash(self) -> str: ...

    @property
    def signature(self) -> str: ...

    @property
    def order_id(self) -> str: ...

    @property
    def parcel_id(self) -> str | None: ...

    @property
    def event(self) -> str: ...

    @property
    def actor(self) -> str: ...

    @property
    def at(self) -> datetime: ...

    @property
    def details(self) -> dict[str, Any]: ...

    @property
    def day(self) -> date: ...


def signed_entry(row: StoredEntry) -> SignedEntry:
    """A stored entry as the pure core sees it."""
    return SignedEntry(
        Entry(
            sequence=row.sequence,
            prev_hash=row.prev_hash,
            organization_id=row.organization_id,
            order_id=row.order_id,
            parcel_id=row.parcel_id,
            event=row.event,
            actor=row.actor,
            at=iso_z(row.at),
            day=row.day.isoformat(),
            details=row.details,
        ),
        entry_hash=row.entry_hash,
        signature=row.signature,
    )


def signed_root(row: LedgerRoot) -> SignedRoot:
    return SignedRoot(
        DayRoot(
            organization_id=row.organization_id,
            day=row.day.isoformat(),
            entry_count=row.entry_count,
            first_sequence=row.first_sequence,
            last_sequence=row.last_sequence,
            root=row.root_hash,
        ),
        signature=row.signature,
    )


def verify_ledger(
    session: Session, organization_id: str, *, signatures: SignatureMode = "all"
) -> ChainReport:
    """Check the organization's whole chain as stored (see ``core.chain`` for each check)."""
    scope = ledger_scope(organization_id)
    stored_key = OrganizationKeyRepository(session, scope).active()
    chain = head(session, organization_id)
    entries: Iterator[SignedEntry] = (
        signed_entry(row) for row in CustodyEntryRepository(session, scope).in_chain_order()
    )
    return verify_chain(
        entries,
        load_public_key(stored_key.public_key) if stored_key else None,
        roots=[signed_root(row) for row in LedgerRootRepository(session, scope).by_day()],
        head=None
        if chain is None
        else ChainHead(
            chain.last_sequence,
            chain.last_hash,
            chain.sealed_through.isoformat() if chain.sealed_through else None,
        ),
        signatures=signatures,
    )


def day_roots(session: Session, organization_id: str) -> list[LedgerRoot]:
    """The organization's published roots, by day."""
    return LedgerRootRepository(session, ledger_scope(organization_id)).by_day()


def active_key(session: Session, organization_id: str) -> OrganizationKey | None:
    """The organization's signing key record (None before its first custody entry)."""
    return OrganizationKeyRepository(session, ledger_scope(organization_id)).active()


def order_receipt(
    session: Session, organization_id: str, order_id: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """
    The custody receipt of one order: every entry, with a Merkle proof where its day is sealed.

    The caller has checked that the order is the reader's to see. Entries of the current
    (open) day have ``"sealed": false`` and no proof: their signature is all there is until
    the day is sealed, after which a new receipt carries the proof.
    """
    scope = ledger_scope(organization_id)
    entries = CustodyEntryRepository(session, scope)
    rows = entries.of_order(order_id)
    roots = LedgerRootRepository(session, scope).for_days({row.day for row in rows})
    proofs: dict[int, InclusionProof] = {}
    for day in roots:
        leaves = entries.day_hashes(day)
        position = {sequence: index for index, (sequence, _) in enumerate(leaves)}
        tree = [bytes.fromhex(entry_hash) for _, entry_hash in leaves]
        for row in rows:
            if row.day == day:
                index = position[row.sequence]
                proofs[row.sequence] = InclusionProof(
                    day.isoformat(), index, inclusion_proof(tree, index)
                )
    key = active_key(session, organization_id)
    return build_receipt(
        organization_id=organization_id,
        order_id=order_id,
        public_key=key.public_key if key else None,
        issued_at=iso_z(now or utcnow()),
        entries=[signed_entry(row) for row in rows],
        proofs=proofs,
        roots={day.isoformat(): signed_root(root) for day, root in roots.items()},
    )
