"""The ledger's pure core: canonical JSON, entry hashes, Merkle trees and proofs, sealed keys."""

from __future__ import annotations

import hashlib
import math

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from lastmile.ledger.core.canonical import canonical_json, normalized
from lastmile.ledger.core.entry import Entry
from lastmile.ledger.core.keys import (
    open_private_key,
    public_key_hex,
    seal_private_key,
    sign,
    signature_valid,
)
from lastmile.ledger.core.merkle import (
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    proof_sides,
    root_from_proof,
)

leaves = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


def rfc6962_root(hashes: list[bytes]) -> bytes:
    """RFC 6962's recursive Merkle tree hash, as the reference the level-wise tree must match."""
    if len(hashes) == 1:
        return leaf_hash(hashes[0])
    split = 2 ** (math.ceil(math.log2(len(hashes))) - 1)
    return node_hash(rfc6962_root(hashes[:split]), rfc6962_root(hashes[split:]))


def test_canonical_json_is_sorted_compact_utf8() -> None:
    """Keys are sorted at every depth, there is no whitespace and text stays UTF-8."""
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "ção"}}) == (
        '{"a":{"c":"ção","d":[1,2]},"b":1}'.encode()
    )


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": float("inf")}, {"x": "\ud800"}])
def test_canonical_json_refuses_values_without_one_form(bad: dict[str, object]) -> None:
    """NaN, infinities and lone surrogates have no canonical JSON, so they are refused."""
    with pytest.raises(ValueError, match="canonical"):
        canonical_json(bad)


@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_normalized_details_hash_the_same_after_a_json_round_trip(details: dict) -> None:  # type: ignore[type-arg]
    """What is stored hashes the same as what a JSON column gives back."""
    stored = normalized(details)
    assert canonical_json(stored) == canonical_json(normalized(stored))


def test_normalized_turns_number_keys_and_tuples_into_their_stored_form() -> None:
    """Number keys become strings and tuples lists, as they would on reading back."""
    assert normalized({"a": (1, 2), "b": {3: "x"}}) == {"a": [1, 2], "b": {"3": "x"}}


def test_entry_hash_covers_every_field() -> None:
    """Changing any one field of an entry changes its hash."""
    entry = Entry(1, "0" * 64, "org", "ord", "par", "loaded", "user:u", "2024-05-01T10:00:00Z",
                  "2024-05-01", {"k": 1})  # fmt: skip
    changed = {
        "sequence": 2, "prev_hash": "1" * 64, "organization_id": "org2", "order_id": "ord2",
        "parcel_id": None, "event": "delivered", "actor": "user:v",
        "at": "2024-05-01T10:00:01Z", "day": "2024-05-02", "details": {"k": 2},
    }  # fmt: skip
    assert set(changed) == set(entry.statement())
    digests = {
        Entry(**(entry.statement() | {name: value})).digest() for name, value in changed.items()
    }
    assert entry.digest() not in digests
    assert len(digests) == len(changed)
    assert entry.digest() == hashlib.sha256(canonical_json(entry.statement())).hexdigest()


@given(leaves)
def test_merkle_root_matches_rfc6962_recursive_definition(hashes: list[bytes]) -> None:
    """Promoting the odd node level by level gives RFC 6962's tree hash for every size."""
    assert merkle_root(hashes) == rfc6962_root(hashes)


def test_odd_leaf_is_promoted_not_duplicated() -> None:
    """A list with its last leaf repeated has another root (no CVE-2012-2459 style collision)."""
    a, b, c = (bytes([i]) * 32 for i in range(3))
    assert merkle_root([a, b, c]) == node_hash(node_hash(leaf_hash(a), leaf_hash(b)), leaf_hash(c))
    assert merkle_root([a, b, c]) != merkle_root([a, b, c, c])


def test_leaf_and_node_hashes_are_separated() -> None:
    """A one-leaf tree over the bytes of two children is not the two-leaf tree's root."""
    a, b = bytes(32), bytes([1]) * 32
    assert merkle_root([a, b]) != leaf_hash(leaf_hash(a) + leaf_hash(b))


@given(leaves, st.data())
def test_every_leaf_proves_its_inclusion(hashes: list[bytes], data: st.DataObject) -> None:
    """The proof of any leaf leads to the root and its sides follow from index and size."""
    index = data.draw(st.integers(0, len(hashes) - 1))
    path = inclusion_proof(hashes, index)
    assert root_from_proof(hashes[index], path) == merkle_root(hashes)
    assert [side for side, _ in path] == proof_sides(index, len(hashes))


@given(leaves.filter(lambda h: len(h) > 1), st.data())
def test_a_proof_fails_for_another_leaf_or_a_changed_sibling(
    hashes: list[bytes], data: st.DataObject
) -> None:
    """Swapping in another entry hash, or altering one sibling, no longer reaches the root."""
    index = data.draw(st.integers(0, len(hashes) - 1))
    path = inclusion_proof(hashes, index)
    root = merkle_root(hashes)
    assert root_from_proof(hashlib.sha256(hashes[index]).digest(), path) != root
    step = data.draw(st.integers(0, len(path) - 1))
    side, sibling = path[step]
    flipped = ("0" if sibling[0] != "0" else "1") + sibling[1:]
    assert (
        root_from_proof(hashes[index], [*path[:step], (side, flipped), *path[step + 1 :]]) != root
    )


def test_merkle_tree_needs_a_leaf() -> None:
    """An empty day has no root (days without entries are not sealed)."""
    with pytest.raises(ValueError, match="at least one leaf"):
        merkle_root([])


def test_sealed_key_opens_only_with_its_secret_and_organization() -> None:
    """The private key round-trips; another secret or another organization cannot open it."""
    key = Ed25519PrivateKey.generate()
    sealed = seal_private_key(key, "s3cret", "org_a")
    opened = open_private_key(sealed, "s3cret", "org_a")
    assert public_key_hex(opened) == public_key_hex(key)
    for secret, org in (("other", "org_a"), ("s3cret", "org_b")):
        with pytest.raises(ValueError, match="does not open"):
            open_private_key(sealed, secret, org)


def test_signature_check_rejects_other_messages_keys_and_garbage() -> None:
    """A signature holds for its message and key only; malformed hex is simply invalid."""
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signature = sign(key, b"message")
    assert signature_valid(key.public_key(), signature, b"message")
    assert not signature_valid(key.public_key(), signature, b"massage")
    assert not signature_valid(other.public_key(), signature, b"message")
    assert not signature_valid(key.public_key(), "zz" + signature[2:], b"message")
