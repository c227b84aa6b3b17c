"""Receipts: built from the stored ledger, verified offline, and refused once altered."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lastmile.db.engine import Database
from lastmile.db.models import Base
from lastmile.ledger.core.keys import public_key_hex
from lastmile.ledger.core.receipt import verify_receipt
from lastmile.ledger.service import active_key, order_receipt, publish_roots
from tests.factories import make_tenant
from tests.ledger.builders import SECRET, append, build_ledger, day

DOCS = Path(__file__).parents[2] / "docs" / "ledger.md"
ORDER = "ord_receipt"


def receipt_of(db: Database, organization_id: str) -> tuple[dict[str, Any], str]:
    """The receipt of ORDER and the organization's public key."""
    with db.unit_of_work(readonly=True) as session:
        key = active_key(session, organization_id)
        assert key is not None
        return order_receipt(session, organization_id, ORDER), key.public_key


def ledger_with_order(db: Database, organization_id: str) -> None:
    """ORDER has entries on two sealed days (among other orders') and one on the open day."""
    build_ledger(db, organization_id, [3, 4], order_ids=[ORDER, "ord_x", "ord_y"])
    append(db, organization_id, ORDER, now=day(2))
    with db.unit_of_work() as session:
        publish_roots(session, organization_id, secret_key=SECRET, now=day(2, 20))


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """A receipt from a SQLite ledger, shared by the tests that alter copies of it."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('receipt') / 'ledger.sqlite'}")
    Base.metadata.create_all(db.engine)
    organization_id = make_tenant(db, "Receipts").organization_id
    ledger_with_order(db, organization_id)
    receipt = receipt_of(db, organization_id)
    db.dispose()
    return receipt


def test_a_receipt_round_trips_and_verifies_offline(database: Database) -> None:
    """The receipt of an order verifies from its JSON text alone, with proofs for sealed days."""
    organization_id = make_tenant(database, "Acme").organization_id
    ledger_with_order(database, organization_id)
    receipt, key = receipt_of(database, organization_id)
    result = verify_receipt(json.dumps(receipt), public_key=key)
    assert result.ok, result.problems
    assert (result.entries, result.sealed) == (4, 3)
    sealed = [item["sealed"] for item in receipt["entries"]]
    assert sealed == [True, True, True, False]
    assert sorted(receipt["roots"]) == ["2024-05-01", "2024-05-02"]
    assert {item["entry"]["order_id"] for item in receipt["entries"]} == {ORDER}


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target: Any = doc
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value


def flip(hex_text: str) -> str:
    return ("1" if hex_text[0] == "0" else "0") + hex_text[1:]


ALTERATIONS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("entry details", lambda r: set_path(r, "entries.0.entry.details", {"photo_sha256": "x"}),
     "entry 1: content does not match its hash"),
    ("entry time", lambda r: set_path(r, "entries.1.entry.at", "2024-05-01T00:00:00Z"),
     "entry 4: content does not match its hash"),
    ("entry signature", lambda r: set_path(r, "entries.3.signature", "00" * 64),
     "signature does not verify"),
    ("proof sibling", lambda r: r["entries"][0]["proof"]["path"][0].__setitem__(
        1, flip(r["entries"][0]["proof"]["path"][0][1])),
     "does not lead to the day's signed root"),
    ("proof position", lambda r: set_path(r, "entries.0.proof.index", 1),
     "position in the day does not match"),
    ("root statement", lambda r: set_path(r, "roots.2024-05-01.statement.entry_count", 2),
     "root of 2024-05-01: signature does not verify"),
    ("root signature", lambda r: set_path(r, "roots.2024-05-02.signature", "00" * 64),
     "no verified root of day 2024-05-02"),
    ("entry of another order", lambda r: set_path(r, "order_id", "ord_other"),
     "belongs to another organization or order"),
    ("public key", lambda r: set_path(
        r, "public_key", public_key_hex(Ed25519PrivateKey.generate())),
     "not the expected one"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "alter", "problem"), ALTERATIONS, ids=[a[0] for a in ALTERATIONS])
def test_an_altered_receipt_is_refused(
    stored: tuple[dict[str, Any], str], name: str, alter: Callable[[dict[str, Any]], None],
    problem: str,
) -> None:  # fmt: skip
    """Each alteration fails verification with a problem that says what and where."""
    receipt, key = stored
    assert verify_receipt(receipt, public_key=key).ok
    altered = copy.deepcopy(receipt)
    alter(altered)
    result = verify_receipt(altered, public_key=key)
    assert not result.ok
    assert any(problem in p for p in result.problems), result.problems


@pytest.mark.parametrize("text", ["{", '{"format": "lastmile.custody-receipt/1"}', "[]"])
def test_a_malformed_receipt_is_refused_not_raised(text: str) -> None:
    """Broken or partial JSON gives a failed result, never an exception."""
    result = verify_receipt(text)
    assert not result.ok
    assert result.problems


def recipe() -> str:
    """The offline verification recipe exactly as docs/ledger.md shows it."""
    section = DOCS.read_text(encoding="utf-8").split("## Offline verification recipe", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def run_recipe(
    tmp_path: Path, receipt: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "check_receipt.py"
    script.write_text(recipe(), encoding="utf-8")
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(receipt), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), str(receipt_file), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_documented_recipe_verifies_a_real_receipt(
    tmp_path: Path, stored: tuple[dict[str, Any], str]
) -> None:
    """The docs' plain-Python recipe accepts an intact receipt, with the published key."""
    receipt, key = stored
    done = run_recipe(tmp_path, receipt, key)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("receipt verified")
    assert "day not sealed yet" in done.stdout


# The recipe folds the Merkle path without checking that its shape fits the leaf's index
# (the full verifier does): a wrong index alone changes nothing it relies on.
RECIPE_ALTERATIONS = [a for a in ALTERATIONS if a[0] != "proof position"]


@pytest.mark.parametrize(
    ("name", "alter", "problem"), RECIPE_ALTERATIONS, ids=[a[0] for a in RECIPE_ALTERATIONS]
)
def test_the_documented_recipe_refuses_altered_receipts(
    tmp_path: Path, stored: tuple[dict[str, Any], str], name: str,
    alter: Callable[[dict[str, Any]], None], problem: str,
) -> None:  # fmt: skip
    """The recipe exits non-zero on every alteration the full verifier refuses."""
    receipt, key = stored
    altered = copy.deepcopy(receipt)
    alter(altered)
    done = run_recipe(tmp_path, altered, key)
    assert done.returncode != 0
    assert "receipt verified" not in done.stdout
