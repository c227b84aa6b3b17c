"""Offline replay: a proof sent again with its Idempotency-Key answers the first response and
applies nothing twice, even when the app rebuilt the multipart body (a new boundary)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lastmile.db.engine import Database
from lastmile.driver.models import DeliveryProof
from lastmile.ledger.models import CustodyEntry
from tests.driver.conftest import image, now_iso
from tests.factories import Tenant
from tests.helpers import assert_problem, snapshot
from tests.tracking.builders import BuiltRoute

REPLAYED = "idempotent-replayed"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]], boundary: str
              ) -> tuple[bytes, str]:  # fmt: skip
    """A multipart/form-data body with a chosen boundary, as a browser's FormData sends it."""
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())  # fmt: skip
    for name, (filename, content, kind) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n')  # fmt: skip
        parts.append(head.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def counts(db: Database) -> tuple[int, int]:
    with db.unit_of_work(readonly=True) as s:
        proofs = s.scalar(select(func.count()).select_from(DeliveryProof)) or 0
        custody = s.scalar(select(func.count()).select_from(CustodyEntry)) or 0
    return proofs, custody


def test_a_replayed_delivery_answers_the_first_response(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """The same key and form, sent again with another boundary, replays the stored 201 and
    records nothing more."""
    url = f"/v1/driver/orders/{route.order_ids[0]}/deliver"
    fields = {"captured_at": now_iso(), "recipient_name": "Ana"}
    files = {"photo": ("p.jpg", image("JPEG"), "image/jpeg")}
    key = {"Idempotency-Key": "deliver-1"} | tenant.headers("driver")
    first_body, first_type = multipart(fields, files, "----WebKitFormBoundaryAAAA1111")
    first = client.post(url, content=first_body, headers=key | {"content-type": first_type})
    assert first.status_code == 201, first.text
    assert counts(database) == (1, 1)
    before = snapshot(database)

    again_body, again_type = multipart(fields, files, "----WebKitFormBoundaryBBBB2222")
    again = client.post(url, content=again_body, headers=key | {"content-type": again_type})
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert snapshot(database) == before


def test_the_same_key_with_other_evidence_is_refused(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Reusing a key for a different delivery is refused, not replayed or applied."""
    url = f"/v1/driver/orders/{route.order_ids[0]}/deliver"
    key = {"Idempotency-Key": "deliver-2"} | tenant.headers("driver")
    fields = {"captured_at": now_iso(), "recipient_name": "Ana"}
    body, kind = multipart(fields, {}, "b1")
    assert client.post(url, content=body, headers=key | {"content-type": kind}).status_code == 201
    before = snapshot(database)
    other, kind = multipart(fields | {"recipient_name": "Bo"}, {}, "b2")
    refused = client.post(url, content=other, headers=key | {"content-type": kind})
    assert assert_problem(refused, 422)["type"].endswith("idempotency-key-reused")
    assert snapshot(database) == before


def test_a_refused_delivery_replays_its_refusal(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """A 4xx is kept for its key too: replaying it does not suddenly apply."""
    url = f"/v1/driver/orders/{route.order_ids[0]}/deliver"
    key = {"Idempotency-Key": "deliver-3"} | tenant.headers("driver")
    body, kind = multipart({"captured_at": now_iso()}, {}, "b1")
    assert_problem(client.post(url, content=body, headers=key | {"content-type": kind}), 422)
    replay = client.post(url, content=body, headers=key | {"content-type": kind})
    assert replay.status_code == 422
    assert replay.headers[REPLAYED] == "true"
    assert counts(database) == (0, 0)
