"""``Idempotency-Key`` on POST: replays answer the first response and create nothing twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.crud import ResourceService
from lastmile.db.engine import Database
from lastmile.idempotency.models import IdempotencyRecord
from lastmile.kit.clock import utcnow
from lastmile.orders.service import OrderService
from tests.factories import (
    Tenant,
    customer_payload,
    depot_payload,
    order_payload,
    tomorrow_window,
    vehicle_payload,
)
from tests.helpers import assert_problem, count, row_counts

REPLAYED = "idempotent-replayed"


def csv_file(*references: str) -> str:
    """A small valid import file with one order per reference."""
    window = tomorrow_window()
    lines = ["merchant_reference,customer_name,address_line1,country,lat,lon,service_level,"
             "windows,barcodes,weights_kg,volumes_litres"]  # fmt: skip
    lines += [
        f"{ref},Ana,Rua 1,PT,41.15,-8.61,scheduled,{window['start']}/{window['end']},BC{ref},1.5,4"
        for ref in references
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Post:
    """A POST endpoint: who calls it, two different valid bodies, and the table it writes."""

    name: str
    path: Callable[[Tenant], str]
    who: str
    body: Callable[[Tenant], Any]
    other_body: Callable[[Tenant], Any]
    table: str
    csv: bool = False
    secret: bool = False  # the response holds a secret: never stored, replay refused


POSTS = [
    Post("orders", lambda t: "/v1/orders", "merchant",
         lambda t: order_payload(), lambda t: order_payload(), "orders"),
    Post("depots", lambda t: "/v1/depots", "dispatcher",
         lambda t: depot_payload(), lambda t: depot_payload(name="South hub"), "depots"),
    Post("vehicles", lambda t: "/v1/vehicles", "dispatcher",
         lambda t: vehicle_payload(t.depot_id),
         lambda t: vehicle_payload(t.depot_id, name="Van 8"), "vehicles"),
    Post("customers", lambda t: "/v1/customers", "merchant",
         lambda t: customer_payload(), lambda t: customer_payload(name="Rita"), "customers"),
    Post("merchants", lambda t: "/v1/merchants", "admin",
         lambda t: {"name": "Loja"}, lambda t: {"name": "Outra loja"}, "merchants"),
    Post("users", lambda t: "/v1/users", "admin",
         lambda t: {"email": "new@example.org", "name": "New", "role": "dispatcher",
                    "password": "long enough secret"},
         lambda t: {"email": "other@example.org", "name": "Other", "role": "driver",
                    "password": "long enough secret"}, "users"),
    Post("api-keys", lambda t: f"/v1/merchants/{t.merchant_id}/api-keys", "admin",
         lambda t: {"name": "shop"}, lambda t: {"name": "warehouse"}, "api_keys", secret=True),
    Post("import", lambda t: "/v1/orders:import", "merchant",
         lambda t: csv_file("IMP1", "IMP2"), lambda t: csv_file("IMP3"), "orders", csv=True),
]  # fmt: skip


def send(
    client: TestClient, tenant: Tenant, post: Post, body: Any, key: str | None, who: str = ""
) -> httpx.Response:
    """POST ``body`` to the endpoint, with ``key`` as Idempotency-Key when given."""
    headers = tenant.headers(who or post.who) | ({"Idempotency-Key": key} if key else {})
    if post.csv:
        headers["content-type"] = "text/csv"
        return client.post(post.path(tenant), content=body, headers=headers)
    return client.post(post.path(tenant), json=body, headers=headers)


@pytest.mark.parametrize("post", POSTS, ids=lambda p: p.name)
def test_replay_returns_first_response_and_creates_once(
    client: TestClient, tenant: Tenant, database: Database, post: Post
) -> None:
    """A replay answers the same status and body, marked replayed, and writes no second row."""
    body = post.body(tenant)
    before = count(database, post.table)
    first = send(client, tenant, post, body, "key-1")
    assert first.status_code in (200, 201), first.text
    assert REPLAYED not in first.headers
    after_first = count(database, post.table)
    assert after_first > before
    replay = send(client, tenant, post, body, "key-1")
    if post.secret:
        assert assert_problem(replay, 409)["type"].endswith(":already-processed")
        assert count(database, post.table) == after_first
        return
    assert replay.status_code == first.status_code
    assert replay.content == first.content
    assert replay.headers[REPLAYED] == "true"
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert count(database, post.table) == after_first


@pytest.mark.parametrize("post", POSTS, ids=lambda p: p.name)
def test_same_key_with_another_body_is_refused(
    client: TestClient, tenant: Tenant, database: Database, post: Post
) -> None:
    """Reusing a key with a different body answers 422 problem+json and writes nothing."""
    assert send(client, tenant, post, post.body(tenant), "key-1").status_code in (200, 201)
    counts = row_counts(database)
    reused = send(client, tenant, post, post.other_body(tenant), "key-1")
    body = assert_problem(reused, 422)
    assert body["type"].endswith(":idempotency-key-reused")
    assert REPLAYED not in reused.headers
    assert row_counts(database) == counts


def test_new_api_key_secret_is_not_kept_for_replay(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """A key created with an Idempotency-Key leaves no copy of its secret in the database."""
    response = client.post(
        f"/v1/merchants/{tenant.merchant_id}/api-keys",
        json={"name": "shop"},
        headers=tenant.headers("admin") | {"Idempotency-Key": "secret-1"},
    )
    assert response.status_code == 201
    secret = response.json()["key"].encode()
    with database.unit_of_work() as session:
        bodies = session.scalars(select(IdempotencyRecord.body)).all()
    assert all(body is None or secret not in body for body in bodies)


def test_different_callers_do_not_share_keys(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Two callers sending the same key and body both get their own new row."""
    body = depot_payload()
    first = client.post(
        "/v1/depots", json=body, headers=tenant.headers("admin") | {"Idempotency-Key": "same"}
    )
    second = client.post(
        "/v1/depots", json=body, headers=tenant.headers("dispatcher") | {"Idempotency-Key": "same"}
    )
    assert first.status_code == second.status_code == 201
    assert REPLAYED not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert count(database, "depots") == 3


def test_merchants_with_the_same_key_do_not_collide(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Two merchants' orders under one key are two orders, not a replay or a 422."""
    key = {"Idempotency-Key": "order-1"}
    mine = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant") | key)
    theirs = client.post(
        "/v1/orders", json=order_payload(), headers=tenant.headers("merchant2") | key
    )
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert mine.json()["merchant_id"] != theirs.json()["merchant_id"]
    assert count(database, "orders") == 2


def test_post_without_key_is_not_deduplicated(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """Without a key the same POST twice creates two rows and nothing is recorded."""
    for _ in range(2):
        response = client.post("/v1/depots", json=depot_payload(), headers=tenant.headers("admin"))
        assert response.status_code == 201
        assert REPLAYED not in response.headers
    assert count(database, "depots") == 3
    assert count(database, "idempotency_records") == 0


def test_error_answers_are_replayed_too(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """A 4xx answer is the request's outcome: a replay gets it again without re-running."""
    bad = depot_payload(lat=95)
    headers = tenant.headers("admin") | {"Idempotency-Key": "bad-1"}
    first = client.post("/v1/depots", json=bad, headers=headers)
    assert_problem(first, 422, "lat")
    replay = client.post("/v1/depots", json=bad, headers=headers)
    assert replay.content == first.content
    assert replay.headers[REPLAYED] == "true"


def test_transition_replay_moves_once(client: TestClient, tenant: Tenant) -> None:
    """A replayed status change answers 200 again and records a single history event."""
    order_id = client.post(
        "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
    ).json()["id"]
    headers = tenant.headers("dispatcher") | {"Idempotency-Key": "plan-1"}
    url = f"/v1/orders/{order_id}/transitions"
    first = client.post(url, json={"status": "planned"}, headers=headers)
    replay = client.post(url, json={"status": "planned"}, headers=headers)
    assert first.status_code == replay.status_code == 200
    assert replay.headers[REPLAYED] == "true"
    history = client.get(f"/v1/orders/{order_id}/history", headers=headers).json()
    assert [e["to_status"] for e in history] == ["created", "planned"]


@pytest.fixture
def lenient_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    """A client that returns 500 answers instead of raising the server's exception."""
    app = create_app(settings, database=database)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "who", "target", "body"),
    [
        ("/v1/depots", "admin", ResourceService, lambda t: depot_payload()),
        ("/v1/orders", "merchant", OrderService, lambda t: order_payload()),
    ],
    ids=["depots", "orders"],
)
def test_server_error_frees_the_key(
    lenient_client: TestClient,
    tenant: Tenant,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    who: str,
    target: type,
    body: Callable[[Tenant], dict[str, Any]],
) -> None:
    """After a 5xx nothing is stored and a retry with the same key really runs."""
    payload = body(tenant)
    table = path.rsplit("/", 1)[-1]
    before = count(database, table)
    original = target.create
    calls: list[int] = []

    def fail_once(self: Any, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return original(self, *args)

    monkeypatch.setattr(target, "create", fail_once)
    headers = tenant.headers(who) | {"Idempotency-Key": "retry-me"}
    failed = lenient_client.post(path, json=payload, headers=headers)
    assert_problem(failed, 500)
    assert count(database, table) == before
    assert count(database, "idempotency_records") == 0
    retried = lenient_client.post(path, json=payload, headers=headers)
    assert retried.status_code == 201, retried.text
    assert REPLAYED not in retried.headers
    assert count(database, table) == before + 1


def _claim(database: Database, tenant: Tenant, key: str, path: str, body: bytes) -> None:
    """Record ``key`` as claimed by the tenant's admin for this exact request, not finished."""
    caller = hashlib.sha256(f"Bearer {tenant.tokens['admin']}".encode()).hexdigest()
    fingerprint = hashlib.sha256(b"\0".join([path.encode(), b"", body])).hexdigest()
    with database.unit_of_work() as session:
        session.add(
            IdempotencyRecord(caller=caller, key=key, fingerprint=fingerprint, created_at=utcnow())
        )


def test_request_in_progress_is_not_run_twice(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """While the first request with a key is unfinished, a retry answers 409 and runs nothing."""
    body = json.dumps(depot_payload()).encode()
    _claim(database, tenant, "busy", "/v1/depots", body)
    headers = tenant.headers("admin") | {
        "Idempotency-Key": "busy",
        "content-type": "application/json",
    }
    response = client.post("/v1/depots", content=body, headers=headers)
    assert assert_problem(response, 409)["type"].endswith(":request-in-progress")
    assert count(database, "depots") == 1


def test_expired_key_can_be_used_again(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """A key older than the retention period is forgotten: the request runs anew."""
    headers = tenant.headers("admin") | {"Idempotency-Key": "old"}
    client.post("/v1/depots", json=depot_payload(), headers=headers)
    with database.unit_of_work() as session:
        session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    again = client.post("/v1/depots", json=depot_payload(name="Newer"), headers=headers)
    assert again.status_code == 201, again.text
    assert REPLAYED not in again.headers
    assert count(database, "depots") == 3


@pytest.mark.parametrize("key", ["", "k" * 256], ids=["empty", "too-long"])
def test_malformed_key_is_refused(
    client: TestClient, tenant: Tenant, database: Database, key: str
) -> None:
    """An empty or over-long Idempotency-Key answers 422 and the request does not run."""
    headers = tenant.headers("admin") | {"Idempotency-Key": key}
    response = client.post("/v1/depots", json=depot_payload(), headers=headers)
    assert_problem(response, 422)
    assert count(database, "depots") == 1
