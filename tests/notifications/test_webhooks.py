"""Merchant webhooks: endpoints over the API, signed requests a receiver can verify, retries
with backoff into the dead-letter list, and re-driving a dead letter."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.notifications.models import Channel, DeliveryState, NotificationDelivery
from lastmile.notifications.signing import verify
from lastmile.notifications.worker import NotificationWorker
from tests.factories import Tenant
from tests.helpers import assert_problem
from tests.notifications.helpers import create_endpoint, create_order, deliveries_of
from tests.notifications.receivers import HttpReceiver


def webhooks_of(db: Database, order_id: str) -> list[NotificationDelivery]:
    return [d for d in deliveries_of(db, order_id) if d.channel is Channel.webhook]


def make_due(db: Database) -> None:
    """Bring every pending retry forward to now (the backoff itself is tested in test_retry)."""
    with db.unit_of_work() as session:
        session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.status == DeliveryState.pending)
            .values(next_attempt_at=NotificationDelivery.created_at)
        )


def test_an_endpoint_receives_signed_events_it_can_verify(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    worker: NotificationWorker,
    receiver: HttpReceiver,
) -> None:
    """The secret shown once at creation verifies every request's signature; the body names
    the event and the order; the Idempotency-Key is the delivery's key."""
    endpoint = create_endpoint(client, tenant, receiver.url, description="ERP")
    assert endpoint["secret"].startswith("whsec_")
    read = client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers("merchant"))
    assert "secret" not in read.json()
    assert read.json()["secret_hint"] == endpoint["secret"][:10]

    order_id = create_order(client, tenant)
    assert worker.run_once().sent >= 1
    [request] = receiver.requests
    assert request.headers["Lastmile-Event"] == "order_confirmed"
    signature = request.headers["Lastmile-Signature"]
    assert verify(endpoint["secret"], signature, request.body, now=time.time())
    assert not verify("whsec_wrong", signature, request.body, now=time.time())
    assert not verify(endpoint["secret"], signature, request.body + b" ", now=time.time())
    assert not verify(endpoint["secret"], signature, request.body, now=time.time() + 301)
    payload = request.json()
    assert payload["type"] == "order_confirmed"
    assert payload["data"]["order_id"] == order_id
    assert payload["data"]["status"] == "created"
    [delivery] = webhooks_of(database, order_id)
    assert request.headers["Idempotency-Key"] == delivery.idempotency_key
    assert delivery.idempotency_key == f"{payload['id']}:webhook:{endpoint['id']}"
    assert delivery.status is DeliveryState.sent


def test_the_event_filter_and_the_active_flag_select_what_is_sent(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    worker: NotificationWorker,
    receiver: HttpReceiver,
) -> None:
    """An endpoint gets only the events it lists; a disabled one gets none; another merchant's
    orders never reach it."""
    filtered = create_endpoint(client, tenant, receiver.url, events=["delivered"])
    off = create_endpoint(client, tenant, receiver.url)
    patched = client.patch(
        f"/v1/webhook-endpoints/{off['id']}",
        json={"active": False},
        headers=tenant.headers("merchant"),
    )
    assert patched.json()["active"] is False
    create_order(client, tenant)
    create_order(client, tenant, who="merchant2")
    worker.run_once()
    assert receiver.requests == []
    assert filtered["events"] == ["delivered"]


def test_a_failing_endpoint_is_retried_then_dead_then_redriven(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    settings: Settings,
    receiver: HttpReceiver,
) -> None:
    """Non-2xx answers are retried with the same key until the last attempt, then the message
    is a dead letter with its error; staff re-drive it and it is delivered once the endpoint
    recovers."""
    worker = NotificationWorker.from_settings(
        database, settings.model_copy(update={"notification_max_attempts": 3})
    )
    create_endpoint(client, tenant, receiver.url)
    order_id = create_order(client, tenant, channels=[])
    receiver.statuses[:] = [500, 503, 502]
    worker.run_once()
    [delivery] = webhooks_of(database, order_id)
    assert (delivery.status, delivery.attempts) == (DeliveryState.pending, 1)
    assert delivery.last_error == "the endpoint answered 500"
    assert delivery.next_attempt_at > delivery.created_at
    for _ in range(2):
        make_due(database)
        worker.run_once()
    [delivery] = webhooks_of(database, order_id)
    assert (delivery.status, delivery.attempts) == (DeliveryState.dead, 3)
    assert len({r.headers["Idempotency-Key"] for r in receiver.requests}) == 1
    assert len(receiver.requests) == 3

    staff = tenant.headers("dispatcher")
    dead = client.get("/v1/notifications/dead-letters", headers=staff).json()["items"]
    assert [(d["id"], d["last_error"]) for d in dead] == [
        (delivery.id, "the endpoint answered 502")
    ]
    assert worker.run_once().busy is False  # the dead stay dead
    retried = client.post(f"/v1/notifications/{delivery.id}/retry", headers=staff)
    assert retried.status_code == 200, retried.text
    statuses = {d["channel"]: d["status"] for d in retried.json()["deliveries"]}
    assert statuses == {"email": "sent", "webhook": "pending"}
    assert worker.run_once().sent == 1
    assert len(receiver.requests) == 4
    assert receiver.requests[-1].headers["Idempotency-Key"] == delivery.idempotency_key
    assert client.get("/v1/notifications/dead-letters", headers=staff).json()["items"] == []
    again = client.post(f"/v1/notifications/{delivery.id}/retry", headers=staff)
    assert_problem(again, 409)


def test_a_deleted_endpoint_turns_its_queued_messages_dead(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    worker: NotificationWorker,
    receiver: HttpReceiver,
) -> None:
    """A retry waiting for an endpoint removed meanwhile becomes a dead letter, not a send."""
    endpoint = create_endpoint(client, tenant, receiver.url)
    order_id = create_order(client, tenant, channels=[])
    receiver.statuses[:] = [500]
    worker.run_once()
    removed = client.delete(
        f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers("merchant")
    )
    assert removed.status_code == 204
    make_due(database)
    worker.run_once()
    assert len(receiver.requests) == 1
    [delivery] = webhooks_of(database, order_id)
    assert (delivery.status, delivery.last_error) == (
        DeliveryState.dead,
        "the webhook endpoint was deleted",
    )


def test_the_test_call_reports_how_the_endpoint_answered(
    client: TestClient, tenant: Tenant, receiver: HttpReceiver
) -> None:
    """POST .../test sends a signed ping now and says whether it got a 2xx."""
    endpoint = create_endpoint(client, tenant, receiver.url)
    url = f"/v1/webhook-endpoints/{endpoint['id']}/test"
    ok = client.post(url, headers=tenant.headers("merchant"))
    assert ok.json() == {"delivered": True, "status_code": 200, "error": None}
    receiver.statuses[:] = [404]
    refused = client.post(url, headers=tenant.headers("admin"))
    assert refused.json() == {
        "delivered": False,
        "status_code": None,
        "error": "the endpoint answered 404",
    }
    assert [r.json()["type"] for r in receiver.requests] == ["ping", "ping"]
    assert verify(
        endpoint["secret"],
        receiver.requests[0].headers["Lastmile-Signature"],
        receiver.requests[0].body,
        now=time.time(),
    )


def test_endpoints_belong_to_their_merchant(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, receiver: HttpReceiver
) -> None:
    """A merchant sees and changes only its own endpoints; staff list them all; other
    organizations see none; staff cannot create them (no merchant to sign for)."""
    mine = create_endpoint(client, tenant, receiver.url)
    theirs = create_endpoint(client, tenant, receiver.url, description="second merchant")
    other = client.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url},
        headers=tenant.headers("merchant2"),
    ).json()
    listed = client.get("/v1/webhook-endpoints", headers=tenant.headers("merchant2")).json()
    assert [e["id"] for e in listed["items"]] == [other["id"]]
    staff = client.get("/v1/webhook-endpoints", headers=tenant.headers("dispatcher")).json()
    assert {e["id"] for e in staff["items"]} == {mine["id"], theirs["id"], other["id"]}
    for who, owner in (("merchant2", tenant), ("merchant", other_tenant)):
        path = f"/v1/webhook-endpoints/{mine['id']}"
        assert_problem(client.get(path, headers=owner.headers(who)), 404)
        assert_problem(client.patch(path, json={"active": False}, headers=owner.headers(who)), 404)
        assert_problem(client.post(f"{path}/test", headers=owner.headers(who)), 404)
    assert_problem(
        client.post(
            "/v1/webhook-endpoints", json={"url": receiver.url}, headers=tenant.headers("admin")
        ),
        403,
    )


def test_private_addresses_are_refused_unless_allowed(
    client: TestClient, database: Database, tenant: Tenant, settings: Settings
) -> None:
    """By default a webhook URL may not point at loopback or private networks, nor carry
    credentials or another scheme: 422 naming the url, nothing stored."""
    from fastapi.testclient import TestClient as Client

    from lastmile.app import create_app

    strict = settings.model_copy(update={"webhook_allow_private_urls": False})
    with Client(create_app(strict, database=database)) as strict_client:
        for url in (
            "http://127.0.0.1:9/hook",
            "http://10.1.2.3/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest",
            "ftp://example.org/hook",
            "https://user:pw@example.org/hook",
            "/relative",
        ):
            response = strict_client.post(
                "/v1/webhook-endpoints", json={"url": url}, headers=tenant.headers("merchant")
            )
            assert_problem(response, 422, "url")
        listed = strict_client.get("/v1/webhook-endpoints", headers=tenant.headers("merchant"))
        assert listed.json()["items"] == []
