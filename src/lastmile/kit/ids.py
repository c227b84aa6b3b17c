"""Public identifiers: a type prefix and a time-ordered random body, e.g. ``ord_01j9...``.

The body is 48 bits of milliseconds followed by 80 random bits in Crockford base32, so ids
sort by creation time (cursor pagination relies on it) yet cannot be guessed.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rest = divmod(value, 32)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """Return a fresh public id such as ``ord_01j9zq...`` (26 characters after the prefix)."""
    millis = time.time_ns() // 1_000_000
    body = (millis << 80) | secrets.randbits(80)
    return f"{prefix}_{_base32(body, 26)}"
