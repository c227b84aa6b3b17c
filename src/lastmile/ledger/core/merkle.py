"""Merkle trees over a day's entry hashes, with inclusion proofs (RFC 6962 hashing).

Leaves and inner nodes are hashed with different prefixes (``0x00`` leaf, ``0x01`` node), so
an inner node can never pass for a leaf. The tree is built level by level, pairing nodes left
to right; an odd node out at the end of a level is **promoted unchanged** to the next level
(never paired with a copy of itself, which would let two different leaf lists share a root).
This gives the same root as RFC 6962's recursive definition (split at the largest power of two
below the size).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

Side = Literal["left", "right"]
ProofStep = tuple[Side, str]  # where the sibling sits, and its hex hash


def leaf_hash(entry_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def merkle_root(entry_hashes: Sequence[bytes]) -> bytes:
    """Root of the tree whose leaves are ``entry_hashes`` in order (ValueError if empty)."""
    if not entry_hashes:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = [leaf_hash(h) for h in entry_hashes]
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def proof_sides(index: int, size: int) -> list[Side]:
    """The sides of the siblings on the path from leaf ``index`` of a ``size``-leaf tree."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    sides: list[Side] = []
    while size > 1:
        if index % 2:
            sides.append("left")
        elif index + 1 < size:
            sides.append("right")
        index, size = index // 2, (size + 1) // 2
    return sides


def inclusion_proof(entry_hashes: Sequence[bytes], index: int) -> list[ProofStep]:
    """The siblings that lead from leaf ``index`` to the root, bottom up."""
    if not 0 <= index < len(entry_hashes):
        raise ValueError(f"leaf {index} is not in a tree of {len(entry_hashes)}")
    level = [leaf_hash(h) for h in entry_hashes]
    path: list[ProofStep] = []
    while len(level) > 1:
        if index % 2:
            path.append(("left", level[index - 1].hex()))
        elif index + 1 < len(level):
            path.append(("right", level[index + 1].hex()))
        level = _next_level(level)
        index //= 2
    return path


def root_from_proof(entry_hash: bytes, path: Sequence[ProofStep]) -> bytes:
    """The root that ``path`` leads to from the leaf holding ``entry_hash``."""
    node = leaf_hash(entry_hash)
    for side, sibling in path:
        other = bytes.fromhex(sibling)
        node = node_hash(other, node) if side == "left" else node_hash(node, other)
    return node
