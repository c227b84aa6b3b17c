"""Custody receipts: one order's entries with everything needed to check them offline.

A receipt holds, for each custody entry of the order: the entry's statement, its hash and
signature, and (once its day is sealed) the Merkle path to the day's signed root; plus those
roots and the organization's public key. :func:`verify_receipt` needs nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lastmile.ledger.core.canonical import canonical_json
from lastmile.ledger.core.entry import Entry, SignedEntry
from lastmile.ledger.core.keys import load_public_key, signature_valid
from lastmile.ledger.core.merkle import ProofStep, proof_sides, root_from_proof
from lastmile.ledger.core.roots import ROOT_KIND, SignedRoot

RECEIPT_FORMAT = "lastmile.custody-receipt/1"


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Where an entry sits in its day's tree: leaf ``index`` and the path to the root."""

    day: str
    index: int
    path: list[ProofStep]


def build_receipt(
    *,
    organization_id: str,
    order_id: str,
    public_key: str | None,
    issued_at: str,
    entries: Sequence[SignedEntry],
    proofs: Mapping[int, InclusionProof],
    roots: Mapping[str, SignedRoot],
) -> dict[str, Any]:
    """The receipt document; ``proofs`` by entry sequence (absent while a day is unsealed)."""
    items = []
    for signed in entries:
        proof = proofs.get(signed.entry.sequence)
        items.append(
            {
                "entry": signed.entry.statement(),
                "entry_hash": signed.entry_hash,
                "signature": signed.signature,
                "sealed": proof is not None,
                "proof": None
                if proof is None
                else {
                    "day": proof.day,
                    "index": proof.index,
                    "path": [list(step) for step in proof.path],
                },
            }
        )
    used_days = {proof.day for proof in proofs.values()}
    return {
        "format": RECEIPT_FORMAT,
        "organization_id": organization_id,
        "order_id": order_id,
        "issued_at": issued_at,
        "public_key": public_key,
        "entries": items,
        "roots": {
            day: {"statement": signed.root.statement(), "signature": signed.signature}
            for day, signed in sorted(roots.items())
            if day in used_days
        },
    }


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Whether a receipt holds up; each problem names the entry (by sequence) or root."""

    ok: bool
    entries: int = 0
    sealed: int = 0
    problems: list[str] = field(default_factory=list)


def verify_receipt(
    receipt: str | bytes | Mapping[str, Any], *, public_key: str | None = None
) -> VerifyResult:
    """
    Check a receipt with nothing but its own content.

    Parameters
    ----------
    receipt
        The receipt as JSON text or parsed.
    public_key
        The organization's key as obtained independently (its published key); when given, a
        receipt carrying another key fails. Without it the receipt proves only that *its* key
        signed the entries.

    Returns
    -------
    VerifyResult
        ``ok`` when every entry's hash and signature hold, and every sealed entry's Merkle
        path leads to its day's root, signed by the same key.
    """
    try:
        doc: Any = json.loads(receipt) if isinstance(receipt, str | bytes) else receipt
        return _verify(doc, public_key)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return VerifyResult(ok=False, problems=[f"the receipt is malformed: {exc!r}"])


def _verify(doc: Mapping[str, Any], expected_key: str | None) -> VerifyResult:
    problems: list[str] = []
    if doc["format"] != RECEIPT_FORMAT:
        return VerifyResult(ok=False, problems=[f"unknown receipt format {doc['format']!r}"])
    key_hex = doc["public_key"]
    if key_hex is None:
        return VerifyResult(ok=False, problems=["the receipt carries no public key"])
    if expected_key is not None and key_hex.lower() != expected_key.lower():
        problems.append("the receipt's public key is not the expected one")
    key = load_public_key(key_hex)
    organization_id, order_id = doc["organization_id"], doc["order_id"]

    roots: dict[str, Mapping[str, Any]] = {}
    for day, signed in doc["roots"].items():
        statement = signed["statement"]
        if statement["kind"] != ROOT_KIND or statement["day"] != day:
            problems.append(f"root of {day}: not a day root of that day")
        elif statement["organization_id"] != organization_id:
            problems.append(f"root of {day}: belongs to another organization")
        elif not signature_valid(key, signed["signature"], canonical_json(statement)):
            problems.append(f"root of {day}: signature does not verify")
        else:
            roots[day] = statement

    items = doc["entries"]
    if not items:
        problems.append("the receipt holds no custody entries")
    sealed = 0
    for item in items:
        entry = Entry.from_statement(item["entry"])
        label = f"entry {entry.sequence}"
        if entry.organization_id != organization_id or entry.order_id != order_id:
            problems.append(f"{label}: belongs to another organization or order")
        if entry.digest() != item["entry_hash"]:
            problems.append(f"{label}: content does not match its hash")
            continue
        if not signature_valid(key, item["signature"], bytes.fromhex(item["entry_hash"])):
            problems.append(f"{label}: signature does not verify")
        if item["sealed"]:
            sealed += 1
            problem = _check_inclusion(entry, item["entry_hash"], item["proof"], roots)
            if problem:
                problems.append(f"{label}: {problem}")
    return VerifyResult(ok=not problems, entries=len(items), sealed=sealed, problems=problems)


def _check_inclusion(
    entry: Entry, entry_hash: str, proof: Mapping[str, Any], roots: Mapping[str, Any]
) -> str | None:
    root = roots.get(proof["day"])
    if proof["day"] != entry.day or root is None:
        return f"no verified root of day {entry.day}"
    index = int(proof["index"])
    # The leaf's position must agree with the entry's sequence, so a proof cannot place the
    # entry anywhere else in the day than the chain does.
    if index != entry.sequence - root["first_sequence"] or not 0 <= index < root["entry_count"]:
        return "its position in the day does not match its sequence"
    path: list[ProofStep] = [(side, sibling) for side, sibling in proof["path"]]
    if [side for side, _ in path] != proof_sides(index, root["entry_count"]):
        return "the Merkle path does not fit its position in the day"
    if root_from_proof(bytes.fromhex(entry_hash), path).hex() != root["root"]:
        return "the Merkle path does not lead to the day's signed root"
    return None
