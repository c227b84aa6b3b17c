"""Bulk import of orders from CSV or JSON, all rows checked before anything is written.

CSV has one order per line. Columns (all optional but those an order needs):
``merchant_reference, customer_id, customer_name, customer_phone, customer_email,
customer_language, address_id, address_line1, address_line2, postcode, city, country, lat, lon,
service_level, delivery_method, pickup_point_id, service_date, windows, safe_place,
safe_place_note, instructions, signature_required, age_check, declared_value, currency,
priority, zone, release_at, barcodes, weights_kg, volumes_litres``.
``windows`` is ``start/end`` pairs in ISO 8601 separated by ``|``; ``barcodes``, ``weights_kg``
and ``volumes_litres`` are ``;``-separated, one value per parcel (a single weight or volume
applies to every parcel). JSON is a list of order objects (the ``POST /v1/orders`` body), or
``{"orders": [...]}``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from lastmile.kit.errors import FieldError, field_error
from lastmile.notifications.outbox import NotificationEvent, enqueue_for_rows
from lastmile.orders.intake import IntakeContext, check_orders, insert_rows
from lastmile.orders.models import Order
from lastmile.orders.schemas import OrderCreate

MAX_ROWS = 100_000
_CUSTOMER = {
    "customer_name": "name",
    "customer_phone": "phone",
    "customer_email": "email",
    "customer_language": "language",
}
_ADDRESS = {
    "address_line1": "line1",
    "address_line2": "line2",
    "postcode": "postcode",
    "city": "city",
    "country": "country",
    "lat": "lat",
    "lon": "lon",
}
_PLAIN = (
    "merchant_reference",
    "customer_id",
    "address_id",
    "service_level",
    "delivery_method",
    "pickup_point_id",
    "service_date",
    "safe_place",
    "safe_place_note",
    "instructions",
    "signature_required",
    "age_check",
    "priority",
    "zone",
    "release_at",
)
# Where an error inside the order object points back to in a CSV file.
_CSV_COLUMN = (
    {("customer", v): k for k, v in _CUSTOMER.items()}
    | {("address", v): k for k, v in _ADDRESS.items()}
    | {
        ("parcels", "barcode"): "barcodes",
        ("parcels", "weight_kg"): "weights_kg",
        ("parcels", "volume_litres"): "volumes_litres",
        ("parcels",): "barcodes",  # no parcel at all, or too many
        ("windows",): "windows",
        ("declared_value", "currency"): "currency",
        ("declared_value",): "declared_value",
        ("address",): "lat",  # the address's own rule: both coordinates or neither
    }
)


class ImportFormatError(ValueError):
    """The file itself cannot be read (not CSV/JSON, wrong shape, too many rows)."""


@dataclass
class ImportReport:
    received: int = 0
    imported: int = 0
    invalid_rows: int = 0
    errors: list[FieldError] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    number: int  # 1-based data row
    line: int  # line in the file where the row starts (CSV) or item index + 1 (JSON)
    data: dict[str, Any]


def _split(value: str, sep: str) -> list[str]:
    return [part.strip() for part in value.split(sep) if part.strip()]


def _csv_order(raw: Mapping[str, str | None]) -> dict[str, Any]:
    values = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
    order: dict[str, Any] = {k: values[k] for k in _PLAIN if values.get(k)}
    customer = {field: values[col] for col, field in _CUSTOMER.items() if values.get(col)}
    if customer:
        order["customer"] = customer
    address = {field: values[col] for col, field in _ADDRESS.items() if values.get(col)}
    if address:
        order["address"] = address
    if values.get("windows"):
        order["windows"] = [
            dict(zip(("start", "end"), pair.split("/", 1), strict=False))
            for pair in _split(values["windows"], "|")
        ]
    if values.get("declared_value"):
        order["declared_value"] = {
            "amount": values["declared_value"],
            "currency": values.get("currency") or "EUR",
        }
    barcodes = _split(values.get("barcodes", ""), ";")
    weights = _split(values.get("weights_kg", ""), ";")
    volumes = _split(values.get("volumes_litres", ""), ";")
    order["parcels"] = [
        {
            "barcode": code,
            "weight_kg": weights[i] if i < len(weights) else (weights[0] if weights else None),
            "volume_litres": volumes[i] if i < len(volumes) else (volumes[0] if volumes else None),
        }
        for i, code in enumerate(barcodes)
    ]
    return order


def _csv_rows(text: str) -> Iterator[_Row]:
    # csv.reader rather than DictReader: DictReader skips blank lines silently, which would
    # shift the line reported for every row after one.
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ImportFormatError("the CSV file has no header line")
    number, line = 0, reader.line_num + 1
    for values in reader:
        if values:  # a blank line carries no order
            number += 1
            yield _Row(number, line, _csv_order(dict(zip(header, values, strict=False))))
        line = reader.line_num + 1


def _json_rows(text: str) -> Iterator[_Row]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"not valid JSON: {exc}") from exc
    items = doc.get("orders") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ImportFormatError('expected a list of orders or {"orders": [...]}')
    for number, item in enumerate(items, start=1):
        yield _Row(number, number, item if isinstance(item, dict) else {"_": item})


def parse(content: str, fmt: str) -> list[_Row]:
    """Read a CSV or JSON file into rows (no validation yet)."""
    rows = list(_csv_rows(content) if fmt == "csv" else _json_rows(content))
    if len(rows) > MAX_ROWS:
        raise ImportFormatError(f"at most {MAX_ROWS} orders per import")
    return rows


def _csv_loc(loc: tuple[Any, ...]) -> list[str | int]:
    names = tuple(p for p in loc if isinstance(p, str) and not p.isdigit())
    if names == ("parcels",) and len(loc) > 1:
        return ["volumes_litres"]  # a parcel's own rule: it needs a volume (CSV has no sizes)
    for size in (2, 1):
        if names[:size] in _CSV_COLUMN:
            return [_CSV_COLUMN[names[:size]]]
    return [p for p in loc if isinstance(p, str | int)] or ["(row)"]


def import_orders(
    ctx: IntakeContext, content: str, fmt: str, *, skip_invalid: bool = False
) -> ImportReport:
    """Validate every row; write the valid ones only if all are valid or ``skip_invalid``.

    Error rows carry the file line (CSV) or the item number (JSON) in ``row``; fields name
    the CSV column (CSV) or the JSON path (JSON).
    """
    rows = parse(content, fmt)
    report = ImportReport(received=len(rows))
    valid: list[tuple[int | None, OrderCreate]] = []
    for row in rows:
        try:
            valid.append((row.line, OrderCreate.model_validate(row.data)))
        except ValidationError as exc:
            for err in exc.errors():
                loc = _csv_loc(err["loc"]) if fmt == "csv" else list(err["loc"])
                if loc == ["(row)"] or not loc:
                    loc = ["(row)"]
                report.errors.append(field_error(loc, err["msg"], row=row.line))
    intake = check_orders(ctx, valid)
    if fmt == "csv":
        for e in intake.errors:
            column = str(_csv_loc(tuple(e.pointer.strip("/").split("/")))[0])
            e.field, e.pointer = column, f"/{column}"
    report.errors.extend(intake.errors)
    # In CSV the parcels of a row share one column: report each problem of a cell once.
    unique = {(e.row, e.field, e.message): e for e in report.errors}
    report.errors = sorted(unique.values(), key=lambda e: (e.row or 0, e.field))
    report.invalid_rows = len({e.row for e in report.errors})
    if report.errors and not skip_invalid:
        return report
    insert_rows(ctx.session, intake)
    enqueue_for_rows(ctx.session, NotificationEvent.order_confirmed, intake.rows[Order])
    report.imported = len(intake.order_ids)
    report.order_ids = intake.order_ids
    return report


CSV_COLUMNS = [
    "merchant_reference",
    "customer_id",
    *_CUSTOMER,
    "address_id",
    *_ADDRESS,
    "service_level",
    "delivery_method",
    "pickup_point_id",
    "service_date",
    "windows",
    "safe_place",
    "safe_place_note",
    "instructions",
    "signature_required",
    "age_check",
    "declared_value",
    "currency",
    "priority",
    "zone",
    "release_at",
    "barcodes",
    "weights_kg",
    "volumes_litres",
]


def orders_to_csv(orders: list[dict[str, Any]]) -> str:
    """Write ``POST /v1/orders`` bodies in the import CSV format (the inverse of parsing)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for order in orders:
        row: dict[str, Any] = {k: order[k] for k in _PLAIN if order.get(k) is not None}
        row |= {
            col: order["customer"].get(f) for col, f in _CUSTOMER.items() if "customer" in order
        }
        row |= {col: order["address"].get(f) for col, f in _ADDRESS.items() if "address" in order}
        if order.get("windows"):
            row["windows"] = "|".join(f"{w['start']}/{w['end']}" for w in order["windows"])
        if order.get("declared_value"):
            row["declared_value"] = order["declared_value"]["amount"]
            row["currency"] = order["declared_value"]["currency"]
        parcels = order.get("parcels", [])
        row["barcodes"] = ";".join(p["barcode"] for p in parcels)
        row["weights_kg"] = ";".join(str(p["weight_kg"]) for p in parcels)
        row["volumes_litres"] = ";".join(str(p.get("volume_litres", "")) for p in parcels)
        writer.writerow(row)
    return out.getvalue()
