"""`lastmile ledger ...`: verify (exit code and fault table), seal, export-roots, verify-receipt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from lastmile import cli
from lastmile.cli import app
from lastmile.db.engine import Database
from lastmile.ledger.core.canonical import canonical_json
from lastmile.ledger.core.keys import load_public_key, signature_valid
from lastmile.ledger.service import order_receipt
from tests.factories import make_tenant
from tests.ledger.builders import build_ledger

runner = CliRunner()


@pytest.fixture
def ledger(sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, str]:
    """A SQLite ledger of 3 days (the first two sealed) and the organization's id."""
    monkeypatch.delenv("LASTMILE_SECRET_KEY", raising=False)
    # Rich tables on one line each (the CLI's consoles exist since import: set them directly).
    monkeypatch.setattr(cli.out, "width", 200)
    monkeypatch.setattr(cli.console, "width", 200)
    organization_id = make_tenant(sqlite_database, "Acme").organization_id
    build_ledger(sqlite_database, organization_id, [2, 3, 2])
    return sqlite_database, organization_id


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_verify_passes_then_pinpoints_an_edit_with_exit_code_1(
    ledger: tuple[Database, str],
) -> None:
    """An intact ledger exits 0; after an UPDATE in SQL it exits 1 naming entry and fault."""
    db, org = ledger
    code, output = invoke("ledger", "verify", "--database-url", db.url)
    assert code == 0, output
    assert org in output
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE custody_entries SET event = 'returned' WHERE sequence = 4"), {})
    code, output = invoke(
        "ledger", "verify", "--database-url", db.url, "--organization", org, "--all-signatures"
    )
    assert code == 1
    [row] = [line for line in output.splitlines() if "edited" in line]
    assert "│ 4 " in row
    assert "content does not match its hash" in row


def test_seal_and_export_roots_write_verifiable_json_lines(
    ledger: tuple[Database, str], tmp_path: Path
) -> None:
    """`seal` has nothing left to seal in the past; `export-roots` writes one signed root a
    line, each checkable with the public key on the same line."""
    db, org = ledger
    code, output = invoke("ledger", "seal", "--database-url", db.url)
    assert code == 0, output
    assert "Sealed 1 ledger days." in output  # the last test day is over by now
    out = tmp_path / "roots.jsonl"
    code, output = invoke("ledger", "export-roots", "--database-url", db.url, "--out", str(out))
    assert code == 0, output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["day"] for line in lines] == ["2024-05-01", "2024-05-02", "2024-05-03"]
    for line in lines:
        assert line["organization_id"] == org
        key = load_public_key(line["public_key"])
        assert signature_valid(key, line["signature"], canonical_json(line["statement"]))


def test_verify_receipt_checks_a_file_offline(ledger: tuple[Database, str], tmp_path: Path) -> None:
    """A receipt file verifies (exit 0); the same with an edited entry fails (exit 1)."""
    db, org = ledger
    with db.unit_of_work(readonly=True) as session:
        receipt = order_receipt(session, org, "ord_a")
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(receipt))
    receipt["entries"][0]["entry"]["actor"] = "user:someone_else"
    bad.write_text(json.dumps(receipt))
    code, output = invoke(
        "ledger", "verify-receipt", str(good), "--public-key", receipt["public_key"]
    )
    assert code == 0, output
    assert "Receipt verified" in output
    code, output = invoke("ledger", "verify-receipt", str(bad))
    assert code == 1
    assert "entry 1: content does not match its hash" in output
