"""verify_chain on in-memory chains: each kind of damage is found at the entry it starts at."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lastmile.ledger.core.chain import ChainHead, FaultKind, SignatureMode, verify_chain
from lastmile.ledger.core.entry import SignedEntry
from lastmile.ledger.core.keys import sign
from lastmile.ledger.core.roots import SignedRoot
from tests.ledger.chains import edited, make_chain, seal

KEY = Ed25519PrivateKey.generate()
DAYS = [4, 5, 3]  # 2024-05-01: 1-4, 05-02: 5-9, 05-03 (open): 10-12


@pytest.fixture
def chain() -> list[SignedEntry]:
    return make_chain(KEY, DAYS)


def roots_of(chain: list[SignedEntry]) -> list[SignedRoot]:
    return [seal(KEY, chain, "2024-05-01"), seal(KEY, chain, "2024-05-02")]


def head_of(chain: list[SignedEntry]) -> ChainHead:
    return ChainHead(chain[-1].entry.sequence, chain[-1].entry_hash, "2024-05-02")


def first(
    chain: list[SignedEntry],
    *,
    roots: list[SignedRoot] | None = None,
    head: ChainHead | None = None,
    signatures: SignatureMode = "all",
) -> tuple[FaultKind, int | None]:
    """The kind and entry of the first fault (the chain must have one)."""
    report = verify_chain(
        chain, KEY.public_key(), roots=roots_of(chain) if roots is None else roots,
        head=head or head_of(chain), signatures=signatures,
    )  # fmt: skip
    assert not report.ok
    fault = report.first_fault
    assert fault is not None
    return fault.kind, fault.sequence


def rechain(chain: list[SignedEntry], start: int, key: Ed25519PrivateKey) -> None:
    """Recompute links, hashes and signatures from index ``start`` on, as a forger would."""
    for i in range(start, len(chain)):
        entry = dataclasses.replace(chain[i].entry, prev_hash=chain[i - 1].entry_hash)
        digest = entry.digest()
        chain[i] = SignedEntry(entry, digest, sign(key, bytes.fromhex(digest)))


@pytest.mark.parametrize("signatures", ["all", "anchors"])
def test_an_intact_chain_verifies(chain: list[SignedEntry], signatures: SignatureMode) -> None:
    """A chain as appended, with its roots and head, has no fault in either mode."""
    report = verify_chain(
        chain, KEY.public_key(), roots=roots_of(chain), head=head_of(chain), signatures=signatures
    )
    assert report.ok, report.faults
    assert (report.entries, report.days_sealed) == (12, 2)
    # anchors: 2 roots + the open day's 3 entries; all: 12 entries + 2 roots
    assert report.signatures_checked == (14 if signatures == "all" else 5)


@pytest.mark.parametrize("signatures", ["all", "anchors"])
def test_an_edited_entry_is_pinpointed(chain: list[SignedEntry], signatures: SignatureMode) -> None:
    """Changing an entry's details (hash kept) is an `edited` fault at that entry."""
    chain[6] = edited(chain[6], details={"photo_sha256": "00" * 32})
    assert first(chain, signatures=signatures) == (FaultKind.edited, 7)


def test_a_rehashed_edit_breaks_its_signature_and_the_next_link(
    chain: list[SignedEntry],
) -> None:
    """Rewriting content and hash without the key fails the signature, then the next link."""
    forged = edited(chain[10], actor="user:mallory")
    chain[10] = dataclasses.replace(forged, entry_hash=forged.entry.digest())
    report = verify_chain(chain, KEY.public_key(), roots=roots_of(chain), head=head_of(chain))
    kinds = [(f.kind, f.sequence) for f in report.faults]
    assert kinds[0] == (FaultKind.bad_signature, 11)
    assert (FaultKind.broken_link, 12) in kinds


def test_a_deleted_entry_breaks_the_link_of_the_next(chain: list[SignedEntry]) -> None:
    """Removing entry 10 (open day) is a broken link at entry 11 naming the gap."""
    del chain[9]
    report = verify_chain(chain, KEY.public_key(), roots=roots_of(chain), head=head_of(chain))
    fault = report.first_fault
    assert fault is not None
    assert (fault.kind, fault.sequence) == (FaultKind.broken_link, 11)
    assert "10..10 are missing" in fault.detail


def test_reordered_entries_break_the_link_where_the_order_changes(chain: list[SignedEntry]) -> None:
    """Swapping the sequences of entries 10 and 11 is a broken link at entry 10."""
    a, b = chain[9], chain[10]
    chain[9] = edited(b, sequence=10)
    chain[10] = edited(a, sequence=11)
    assert first(chain) == (FaultKind.broken_link, 10)


def test_a_dropped_newest_entry_shows_against_the_head(chain: list[SignedEntry]) -> None:
    """Deleting the last entry leaves a valid-looking chain that the head contradicts."""
    assert first(chain[:-1], head=head_of(chain)) == (FaultKind.broken_link, 12)


def test_a_forged_signature_is_a_bad_signature(chain: list[SignedEntry]) -> None:
    """An entry signed by another key is found (in the open day, even in anchors mode)."""
    other = Ed25519PrivateKey.generate()
    chain[9] = dataclasses.replace(
        chain[9], signature=sign(other, bytes.fromhex(chain[9].entry_hash))
    )
    assert first(chain, signatures="anchors") == (FaultKind.bad_signature, 10)


def test_anchors_mode_skips_sealed_entries_own_signatures(
    chain: list[SignedEntry],
) -> None:
    """A damaged signature alone on a sealed entry is seen only when checking all signatures."""
    chain[1] = dataclasses.replace(chain[1], signature="00" * 64)
    roots, head = roots_of(chain), head_of(chain)
    assert verify_chain(chain, KEY.public_key(), roots=roots, head=head, signatures="anchors").ok
    assert first(chain, signatures="all") == (FaultKind.bad_signature, 2)


def test_a_changed_root_is_a_root_mismatch(chain: list[SignedEntry]) -> None:
    """A root whose count was changed fails its signature; re-signed by another key too."""
    roots = roots_of(chain)
    changed = dataclasses.replace(roots[1].root, entry_count=4)
    roots[1] = SignedRoot(changed, roots[1].signature)
    report = verify_chain(chain, KEY.public_key(), roots=roots, head=head_of(chain))
    assert {(f.kind, f.sequence, f.day) for f in report.faults} == {
        (FaultKind.bad_root_signature, 5, "2024-05-02"),
        (FaultKind.root_mismatch, 5, "2024-05-02"),
    }


def test_a_sealed_day_rewritten_consistently_still_fails_its_root(
    chain: list[SignedEntry],
) -> None:
    """Editing a sealed entry and re-chaining everything after it (another key) fails the
    day's signed root, even when only anchors are checked."""
    roots, head = roots_of(chain), head_of(chain)
    chain[6] = edited(chain[6], details={"photo_sha256": "00" * 32})
    rechain(chain, 6, Ed25519PrivateKey.generate())
    report = verify_chain(chain, KEY.public_key(), roots=roots, head=head, signatures="anchors")
    faults = {(f.kind, f.sequence) for f in report.faults}
    assert report.first_fault is not None
    assert (report.first_fault.kind, report.first_fault.sequence) == (FaultKind.root_mismatch, 5)
    assert {(FaultKind.bad_signature, n) for n in (10, 11, 12)} <= faults
    assert (FaultKind.broken_link, 13) in faults  # the head still names the original end


def test_a_deleted_root_of_a_sealed_day_is_reported(chain: list[SignedEntry]) -> None:
    """A day up to the head's sealed_through without a root is a root mismatch."""
    roots = roots_of(chain)[:1]
    assert first(chain, roots=roots) == (FaultKind.root_mismatch, 5)


def test_entries_moved_to_another_day_are_caught(chain: list[SignedEntry]) -> None:
    """Moving an open-day entry into a sealed day breaks its hash and the day's root."""
    roots = roots_of(chain)
    chain[9] = edited(chain[9], day="2024-05-02")
    report = verify_chain(chain, KEY.public_key(), roots=roots, head=head_of(chain))
    kinds = {(f.kind, f.sequence) for f in report.faults}
    assert (FaultKind.edited, 10) in kinds
    assert any(kind is FaultKind.root_mismatch for kind, _ in kinds)


def test_no_key_fails_every_signature(chain: list[SignedEntry]) -> None:
    """Without the organization's key nothing is vouched for."""
    report = verify_chain(chain, None, roots=roots_of(chain), head=head_of(chain))
    assert report.first_fault is not None
    assert report.first_fault.kind in {FaultKind.bad_signature, FaultKind.bad_root_signature}
    assert not report.ok


def test_faults_are_capped_but_counted(chain: list[SignedEntry]) -> None:
    """A wrecked ledger reports the first faults and how many there were in all."""
    wrecked = [edited(e, actor="x") for e in chain]
    report = verify_chain(wrecked, KEY.public_key(), max_faults=3)
    assert len(report.faults) == 3
    assert report.faults_total == 12
    assert [f.sequence for f in report.faults] == [1, 2, 3]
