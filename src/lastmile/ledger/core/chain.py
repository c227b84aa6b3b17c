"""Verifying a whole chain: recompute every hash, follow every link, re-derive every day root.

What each check proves (see docs/ledger.md):

- **content hash** (``edited``): the stored fields still hash to the stored ``entry_hash``.
- **link** (``broken_link``): sequences run 1, 2, 3 ... without a gap and each ``prev_hash`` is
  the previous entry's hash, so no entry was deleted, inserted or moved; the head row records
  where the chain ends, so dropping the newest entries shows too.
- **entry signature** (``bad_signature``): the operator's key signed this entry hash.
- **day root** (``root_mismatch`` / ``bad_root_signature``): the sealed day still has exactly
  the entries, in the order, that the signed (and published) root commits to.

Signatures are the expensive part (an Ed25519 verification costs ~30x a SHA-256 of an entry).
With ``signatures="anchors"`` only the day roots and the entries of days not sealed yet are
signature-checked: an intact chain whose day roots verify is covered by those signatures, since
each root commits to its entries' hashes and each hash to the entry's content and predecessor.
What that mode cannot see is a stored entry signature that was damaged on its own (the content
untouched), which would only make that entry's receipt fail.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lastmile.ledger.core.entry import GENESIS_HASH, SignedEntry
from lastmile.ledger.core.keys import signature_valid
from lastmile.ledger.core.merkle import merkle_root
from lastmile.ledger.core.roots import SignedRoot

SignatureMode = Literal["all", "anchors"]
MAX_FAULTS = 100


class FaultKind(enum.StrEnum):
    edited = "edited"  # the entry's content no longer matches its hash
    bad_signature = "bad_signature"  # the entry hash is not signed by the organization's key
    broken_link = "broken_link"  # an entry was deleted, inserted or moved
    root_mismatch = "root_mismatch"  # a sealed day's entries differ from its signed root
    bad_root_signature = "bad_root_signature"  # a day root is not signed by the key


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing found wrong; ``sequence`` is the entry at fault (for a day: its first)."""

    kind: FaultKind
    sequence: int | None
    day: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where the ledger says its chain ends, and which days it says are sealed."""

    last_sequence: int
    last_hash: str
    sealed_through: str | None = None


@dataclass(slots=True)
class ChainReport:
    """The outcome of :func:`verify_chain`; ``faults`` are in chain order, the first first."""

    entries: int = 0
    days_sealed: int = 0
    signatures_checked: int = 0
    faults: list[Fault] = field(default_factory=list)
    faults_total: int = 0

    @property
    def ok(self) -> bool:
        return self.faults_total == 0

    @property
    def first_fault(self) -> Fault | None:
        return self.faults[0] if self.faults else None


@dataclass(slots=True)
class _Day:
    hashes: list[bytes] = field(default_factory=list)
    first_sequence: int = 0
    last_sequence: int = 0


def verify_chain(
    entries: Iterable[SignedEntry],
    public_key: Ed25519PublicKey | None,
    *,
    roots: Iterable[SignedRoot] = (),
    head: ChainHead | None = None,
    signatures: SignatureMode = "all",
    max_faults: int = MAX_FAULTS,
) -> ChainReport:
    """
    Check an organization's chain, given in stored sequence order, against its key and roots.

    Parameters
    ----------
    entries
        The stored entries ordered by their ``sequence`` column (read lazily, once).
    public_key
        The organization's key; ``None`` (no key found) fails every signature.
    roots
        The published day roots.
    head
        The recorded end of the chain; without it, a truncated tail goes unseen.
    signatures
        ``"all"`` checks every entry's signature; ``"anchors"`` only the roots' and those of
        entries in days without a root (see the module docstring for what that proves).
    max_faults
        Faults kept in the report (all are counted).

    Returns
    -------
    ChainReport
        Faults in chain order: the first one is where the ledger stops being trustworthy.
    """
    report = ChainReport()
    signed_roots = {signed.root.day: signed for signed in roots}
    sealed_days: dict[str, _Day] = {day: _Day() for day in signed_roots}
    sealed_through = head.sealed_through if head else None
    faults: list[Fault] = []

    first_of_day: dict[str, int] = {}
    last_of_day: dict[str, int] = {}
    expected_sequence, expected_prev, last_day = 1, GENESIS_HASH, ""
    for signed in entries:
        entry = signed.entry
        sequence = entry.sequence
        report.entries += 1
        if sequence != expected_sequence:
            what = (
                f"entries {expected_sequence}..{sequence - 1} are missing"
                if sequence > expected_sequence
                else f"sequence {sequence} where {expected_sequence} was expected"
            )
            faults.append(Fault(FaultKind.broken_link, sequence, entry.day, what))
        elif entry.prev_hash != expected_prev:
            faults.append(
                Fault(
                    FaultKind.broken_link,
                    sequence,
                    entry.day,
                    "prev_hash is not the hash of the entry before it (moved or replaced)",
                )
            )
        if entry.day < last_day:
            faults.append(
                Fault(FaultKind.broken_link, sequence, entry.day, f"day goes back from {last_day}")
            )
        if entry.digest() != signed.entry_hash:
            faults.append(
                Fault(FaultKind.edited, sequence, entry.day, "content does not match its hash")
            )
        if signatures == "all" or entry.day not in sealed_days:
            report.signatures_checked += 1
            if public_key is None or not signature_valid(
                public_key, signed.signature, _hash_bytes(signed.entry_hash)
            ):
                faults.append(
                    Fault(FaultKind.bad_signature, sequence, entry.day, "signature does not verify")
                )
        if entry.day != last_day:
            first_of_day.setdefault(entry.day, sequence)
        last_of_day[entry.day] = sequence
        day = sealed_days.get(entry.day)
        if day is not None:
            if not day.hashes:
                day.first_sequence = sequence
            day.last_sequence = sequence
            day.hashes.append(_hash_bytes(signed.entry_hash))
        expected_sequence, expected_prev = sequence + 1, signed.entry_hash
        last_day = max(last_day, entry.day)

    if head is not None and (
        head.last_sequence != expected_sequence - 1 or head.last_hash != expected_prev
    ):
        faults.append(
            Fault(
                FaultKind.broken_link,
                expected_sequence,
                last_day or None,
                f"the chain ends at entry {expected_sequence - 1} but its head records entry "
                f"{head.last_sequence}: the newest entries were removed or replaced",
            )
        )

    # A day's faults rank after the faults of its entries: an entry fault says which entry,
    # a root fault only which day. Both rank before anything later in the chain.
    ranked = [((fault.sequence or 0, 0), fault) for fault in faults]
    for day_name, signed_root in signed_roots.items():
        report.days_sealed += 1
        rank = (last_of_day.get(day_name, signed_root.root.last_sequence), 1)
        day_faults = _check_root(signed_root, sealed_days[day_name], public_key, report)
        ranked.extend((rank, fault) for fault in day_faults)
    if sealed_through is not None:
        ranked.extend(
            (
                (last_of_day[day_name], 1),
                Fault(FaultKind.root_mismatch, first, day_name, "the sealed day's root is missing"),
            )
            for day_name, first in first_of_day.items()
            if day_name <= sealed_through and day_name not in signed_roots
        )
    ranked.sort(key=lambda item: item[0])
    faults = [fault for _, fault in ranked]
    report.faults_total = len(faults)
    report.faults = faults[:max_faults]
    return report


def _hash_bytes(entry_hash: str) -> bytes:
    try:
        return bytes.fromhex(entry_hash)
    except ValueError:
        return entry_hash.encode("utf-8")


def _check_root(
    signed: SignedRoot, day: _Day, public_key: Ed25519PublicKey | None, report: ChainReport
) -> list[Fault]:
    root = signed.root
    faults = []
    report.signatures_checked += 1
    if public_key is None or not signature_valid(public_key, signed.signature, root.message()):
        faults.append(
            Fault(
                FaultKind.bad_root_signature,
                root.first_sequence,
                root.day,
                "the day root's signature does not verify",
            )
        )
    if not day.hashes:
        faults.append(
            Fault(
                FaultKind.root_mismatch,
                root.first_sequence,
                root.day,
                "the sealed day has no entries left",
            )
        )
        return faults
    found = (len(day.hashes), day.first_sequence, day.last_sequence, merkle_root(day.hashes).hex())
    sealed = (root.entry_count, root.first_sequence, root.last_sequence, root.root)
    if found != sealed:
        faults.append(
            Fault(
                FaultKind.root_mismatch,
                min(day.first_sequence, root.first_sequence),
                root.day,
                f"entries {found[1]}..{found[2]} ({found[0]}) do not make the signed root of "
                f"entries {sealed[1]}..{sealed[2]} ({sealed[0]})",
            )
        )
    return faults
