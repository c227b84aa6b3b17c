"""``POST /v1/orders:import``: every row is checked first and the report names line and field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from tests.factories import Tenant, order_payload, tomorrow_window
from tests.helpers import assert_problem, count, row_counts

WINDOW = tomorrow_window()
HEADER = (
    "merchant_reference,customer_name,customer_phone,address_line1,postcode,city,country,"
    "lat,lon,service_level,windows,barcodes,weights_kg,volumes_litres,zone"
)
GOOD = {
    "merchant_reference": "R1",
    "customer_name": "Ana Silva",
    "customer_phone": "+351912345678",
    "address_line1": "Rua de Cedofeita 1",
    "postcode": "4050-180",
    "city": "Porto",
    "country": "PT",
    "lat": "41.15",
    "lon": "-8.62",
    "service_level": "scheduled",
    "windows": f"{WINDOW['start']}/{WINDOW['end']}",
    "barcodes": "BC0001;BC0002",
    "weights_kg": "1.5;2",
    "volumes_litres": "4",
    "zone": "centro",
}


def row(n: int, **changes: str) -> str:
    """A CSV line for order ``n`` (its own reference and barcodes), with ``changes``."""
    values = GOOD | {"merchant_reference": f"R{n}", "barcodes": f"BC{n:04d}A;BC{n:04d}B"}
    values |= changes
    return ",".join(values[column] for column in HEADER.split(","))


def csv_file(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def post_csv(client: TestClient, tenant: Tenant, text: str, **params: str) -> Any:
    headers = tenant.headers("merchant") | {"content-type": "text/csv"}
    return client.post("/v1/orders:import", content=text, headers=headers, params=params)


def post_json(client: TestClient, tenant: Tenant, doc: Any, **params: str) -> Any:
    return client.post(
        "/v1/orders:import", json=doc, headers=tenant.headers("merchant"), params=params
    )


def reported(response: Any) -> list[tuple[int | None, str]]:
    return [(e["row"], e["field"]) for e in response.json()["errors"]]


def test_valid_csv_imports_every_row(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """A valid CSV file creates one order per line, with its parcels, windows and customer."""
    response = post_csv(client, tenant, csv_file(row(1), row(2), row(3)))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["received"] == report["imported"] == 3
    assert report["invalid_rows"] == 0
    assert report["errors"] == []
    assert count(database, "orders") == 3
    assert count(database, "parcels") == 6
    order = client.get(
        f"/v1/orders/{report['order_ids'][0]}", headers=tenant.headers("merchant")
    ).json()
    assert order["merchant_reference"] == "R1"
    assert order["merchant_id"] == tenant.merchant_id
    assert [p["weight_kg"] for p in order["parcels"]] == [1.5, 2.0]
    assert [p["volume_litres"] for p in order["parcels"]] == [4.0, 4.0]
    assert order["windows"][0]["start"].startswith(WINDOW["start"][:16])
    assert order["zone"] == "centro"


def test_csv_errors_name_file_line_and_column(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Every bad row is reported with its file line (header = 1) and CSV column; none imports."""
    text = csv_file(
        row(1),  # line 2
        row(2, lat="91"),  # line 3
        row(3, customer_phone="call me", barcodes="no spaces"),  # line 4
        row(4, windows=f"{WINDOW['end']}/{WINDOW['start']}"),  # line 5
        row(5, volumes_litres=""),  # line 6
        row(6, barcodes=""),  # line 7
        row(7, weights_kg="heavy"),  # line 8
    )
    before = row_counts(database)
    response = post_csv(client, tenant, text)
    assert_problem(response, 422)
    assert reported(response) == [
        (3, "lat"),
        (4, "barcodes"),
        (4, "customer_phone"),
        (5, "windows"),
        (6, "volumes_litres"),
        (7, "barcodes"),
        (8, "weights_kg"),
    ]
    assert all(e["pointer"] == f"/{e['field']}" for e in response.json()["errors"])
    assert response.json()["detail"].startswith("6 of 7 rows are invalid")
    assert row_counts(database) == before


def test_csv_lines_count_blank_and_multiline_rows(client: TestClient, tenant: Tenant) -> None:
    """Lines are file lines: blank lines and quoted line breaks are counted."""
    multiline = row(2, address_line1='"Rua A\nBloco 2"')  # lines 4-5
    text = csv_file(row(1), "", multiline, row(3, lat="x"), "", row(4, lon="200"))
    response = post_csv(client, tenant, text)
    assert reported(response) == [(6, "lat"), (8, "lon")]


def test_skip_invalid_imports_the_valid_rows(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """With skip_invalid=true the valid rows are imported and the bad ones still reported."""
    text = csv_file(row(1), row(2, lat="91"), row(3))
    response = post_csv(client, tenant, text, skip_invalid="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["received"], report["imported"], report["invalid_rows"]) == (3, 2, 1)
    assert reported(response) == [(3, "lat")]
    assert count(database, "orders") == 2
    refs = {
        client.get(f"/v1/orders/{i}", headers=tenant.headers("merchant")).json()[
            "merchant_reference"
        ]
        for i in report["order_ids"]
    }
    assert refs == {"R1", "R3"}


def test_duplicates_within_the_file(client: TestClient, tenant: Tenant, database: Database) -> None:
    """Rows repeating a reference or a barcode of another row are reported, all of them."""
    text = csv_file(
        row(1),
        row(2, merchant_reference="R1"),
        row(3, barcodes="BC0001A;BC0003B"),
        row(4),
    )
    response = post_csv(client, tenant, text)
    assert_problem(response, 422)
    assert reported(response) == [
        (2, "barcodes"),
        (2, "merchant_reference"),
        (3, "merchant_reference"),
        (4, "barcodes"),
    ]
    assert count(database, "orders") == 0


def test_duplicates_against_the_database(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Rows repeating an existing order's reference or barcode are reported as such."""
    existing = order_payload(merchant_reference="R2")
    existing["parcels"][0]["barcode"] = "BC0003A"
    assert (
        client.post("/v1/orders", json=existing, headers=tenant.headers("merchant")).status_code
        == 201
    )
    response = post_csv(client, tenant, csv_file(row(1), row(2), row(3)))
    assert reported(response) == [(3, "merchant_reference"), (4, "barcodes")]
    messages = [e["message"] for e in response.json()["errors"]]
    assert all("exists" in m for m in messages)
    assert count(database, "orders") == 1


def test_same_reference_of_another_merchant_is_fine(client: TestClient, tenant: Tenant) -> None:
    """References are unique per merchant: another merchant may import the same ones."""
    assert post_csv(client, tenant, csv_file(row(1))).status_code == 200
    other = tenant.headers("merchant2") | {"content-type": "text/csv"}
    text = csv_file(row(1, barcodes="OTHER1"))
    response = client.post("/v1/orders:import", content=text, headers=other)
    assert response.status_code == 200, response.text


def _json_order(n: int, **changes: Any) -> dict[str, Any]:
    body = order_payload(merchant_reference=f"J{n}")
    body["parcels"][0]["barcode"] = f"JBC{n:04d}"
    return body | changes


@pytest.mark.parametrize("wrapped", [False, True], ids=["list", "object"])
def test_json_errors_name_item_and_path(
    client: TestClient, tenant: Tenant, database: Database, wrapped: bool
) -> None:
    """JSON rows are numbered from 1 and fields are JSON paths; nothing imports on error."""
    items = [
        _json_order(1),
        _json_order(2, address={"line1": "Rua 1", "country": "PT", "lat": 91, "lon": 0}),
        _json_order(3, windows=[{"start": WINDOW["end"], "end": WINDOW["start"]}]),
        "not an order",
    ]
    response = post_json(client, tenant, {"orders": items} if wrapped else items)
    assert_problem(response, 422)
    rows = reported(response)
    assert (2, "address.lat") in rows
    assert (3, "windows[0].end") in rows
    assert {r for r, _ in rows} == {2, 3, 4}
    assert count(database, "orders") == 0
    ok = post_json(client, tenant, [_json_order(1)])
    assert ok.status_code == 200, ok.text
    assert ok.json()["imported"] == 1


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "merchant_reference\nR1\n"),
        ("application/xml", "<orders/>"),
        ("", "merchant_reference\nR1\n"),
    ],
    ids=["text", "xml", "none"],
)
def test_unsupported_content_type_is_refused(
    client: TestClient, tenant: Tenant, database: Database, content_type: str, body: str
) -> None:
    """Only text/csv and application/json are accepted: anything else is 422 on content-type."""
    headers = tenant.headers("merchant") | {"content-type": content_type}
    response = client.post("/v1/orders:import", content=body, headers=headers)
    assert_problem(response, 422, "content-type")
    assert count(database, "orders") == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b'{"something": "else"}'),
        ("text/csv", b""),
        ("text/csv", "merchant_reference\nR\xe9\n".encode("latin-1")),
    ],
    ids=["broken-json", "json-object", "empty-csv", "not-utf8"],
)
def test_unreadable_file_is_refused(
    client: TestClient, tenant: Tenant, database: Database, content_type: str, body: bytes
) -> None:
    """A file that cannot be read as CSV or JSON answers 422 and imports nothing."""
    headers = tenant.headers("merchant") | {"content-type": content_type}
    assert_problem(client.post("/v1/orders:import", content=body, headers=headers), 422)
    assert count(database, "orders") == 0


def test_header_only_csv_imports_nothing(client: TestClient, tenant: Tenant) -> None:
    """A CSV file with a header and no rows is a valid, empty import."""
    response = post_csv(client, tenant, HEADER + "\n")
    assert response.status_code == 200
    assert response.json()["received"] == response.json()["imported"] == 0


def test_import_is_for_staff_and_merchants(client: TestClient, tenant: Tenant) -> None:
    """Drivers may not import orders."""
    headers = tenant.headers("driver") | {"content-type": "text/csv"}
    response = client.post("/v1/orders:import", content=csv_file(row(1)), headers=headers)
    assert_problem(response, 403)


def test_json_import_matches_single_create(client: TestClient, tenant: Tenant) -> None:
    """An order imported from JSON reads back like one created with POST /v1/orders."""
    body = _json_order(1, instructions="Call first", priority=70)
    imported = post_json(client, tenant, json.loads(json.dumps([body])))
    order_id = imported.json()["order_ids"][0]
    order = client.get(f"/v1/orders/{order_id}", headers=tenant.headers("merchant")).json()
    assert order["instructions"] == "Call first"
    assert order["priority"] == 70
    assert order["status"] == "created"
