"""Canonical JSON: the one byte form of a value that hashes and signatures are taken over."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """
    ``value`` as UTF-8 JSON with sorted keys and no whitespace.

    Raises
    ------
    ValueError
        The value has no JSON form (NaN or infinity, a lone surrogate, a non-string key).
    """
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # ValueError: NaN, infinity, lone surrogates
        raise ValueError(f"not canonical JSON: {exc}") from exc


def normalized(details: dict[str, Any]) -> dict[str, Any]:
    """
    ``details`` as it will read back from a JSON column, so its hash survives storage.

    Stored and hashed in this form: ``json`` turns tuples into lists and number keys into
    strings, which would otherwise change the hash between writing and reading.

    Raises
    ------
    ValueError
        ``details`` has no canonical JSON form.
    """
    parsed: dict[str, Any] = json.loads(canonical_json(details))
    return parsed
