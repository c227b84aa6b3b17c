"""The order chat over the API: both sides, privacy, read receipts, quick replies, live events."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.chat.models import ChatMessage
from lastmile.db.engine import Database
from lastmile.live.channels import fleet_channel, order_channel
from tests.chat.conftest import Thread, open_thread
from tests.factories import Tenant
from tests.helpers import assert_problem, row_counts
from tests.tracking.test_route_progress import collect


def send(
    client: TestClient, url: str, headers: dict[str, str] | None = None, **body: object
) -> httpx.Response:
    return client.post(url, json=body, headers=headers or {})


def test_customer_and_driver_talk(client: TestClient, tenant: Tenant, thread: Thread) -> None:
    """Each side sees the other's messages, named by role and first name, never by id."""
    asked = send(client, thread.customer, body="Could you leave it with the neighbour?")
    assert asked.status_code == 201, asked.text
    assert asked.json()["side"] == "customer"
    assert asked.json()["seq"] == 1
    replied = send(client, thread.staff, tenant.headers("driver"), body="Sure, no problem!")
    assert replied.status_code == 201, replied.text
    assert replied.json()["sender"] == {"role": "driver", "name": "Dee"}
    assert replied.json()["sender_id"] is not None  # the driver's user, for staff eyes only

    mine = client.get(thread.customer)
    assert mine.status_code == 200, mine.text
    view = mine.json()
    assert view["open"] is True
    assert view["closes_at"] is None
    assert [m["body"] for m in view["messages"]] == [
        "Could you leave it with the neighbour?", "Sure, no problem!"]  # fmt: skip
    assert [m["sender"] for m in view["messages"]] == [
        {"role": "customer", "name": "Ana"}, {"role": "driver", "name": "Dee"}]  # fmt: skip
    assert all("sender_id" not in m for m in view["messages"])
    assert view["unread"] == 1

    theirs = client.get(thread.staff, headers=tenant.headers("dispatcher")).json()
    assert [m["sender_id"] for m in theirs["messages"]] == [None, replied.json()["sender_id"]]
    assert theirs["unread"] == 1
    dispatch = send(client, thread.staff, tenant.headers("dispatcher"), body="Noted on the order.")
    assert dispatch.json()["sender"] == {"role": "dispatcher", "name": None}


def test_contact_details_are_hidden_from_the_other_side(
    client: TestClient, database: Database, tenant: Tenant, thread: Thread
) -> None:
    """Phone numbers and e-mails are masked before storing; postcodes and times stay."""
    body = "Call +351 912 345 678 or ana.silva@example.org, 4000-447 Porto, after 10:30"
    sent = send(client, thread.customer, body=body)
    expected = "Call [phone hidden] or [email hidden], 4000-447 Porto, after 10:30"
    assert sent.json()["body"] == expected
    seen = client.get(thread.staff, headers=tenant.headers("driver")).json()["messages"]
    assert seen[0]["body"] == expected
    with database.unit_of_work(readonly=True) as session:
        stored = session.scalars(select(ChatMessage.body)).all()
    assert stored == [expected]
    staff = send(client, thread.staff, tenant.headers("driver"), body="Ring me: 912345678")
    assert staff.json()["body"] == "Ring me: [phone hidden]"
    customer_view = client.get(thread.customer).text
    assert "912" not in customer_view
    assert "@example.org" not in customer_view


def test_read_receipts_move_forward_only(
    client: TestClient, tenant: Tenant, thread: Thread
) -> None:
    """A message shows read once the other side's receipt passes it; receipts never go back."""
    for text in ("one", "two", "three"):
        send(client, thread.customer, body=text)
    driver = tenant.headers("driver")
    partly = client.post(f"{thread.staff}/read", json={"up_to": 2}, headers=driver)
    assert partly.status_code == 200, partly.text
    assert partly.json()["side"] == "staff"
    assert partly.json()["up_to"] == 2
    assert [m["read"] for m in client.get(thread.customer).json()["messages"]] == [
        True, True, False]  # fmt: skip
    assert client.get(thread.staff, headers=driver).json()["unread"] == 1

    back = client.post(f"{thread.staff}/read", json={"up_to": 1}, headers=driver)
    assert back.json()["up_to"] == 2
    everything = client.post(f"{thread.staff}/read", headers=driver)  # no body: all so far
    assert everything.json()["up_to"] == 3
    beyond = client.post(f"{thread.staff}/read", json={"up_to": 99}, headers=driver)
    assert beyond.json()["up_to"] == 3
    view = client.get(thread.customer).json()
    assert all(m["read"] for m in view["messages"])
    assert view["read"] == {"customer": 0, "staff": 3}

    send(client, thread.staff, driver, body="On my way")
    assert client.get(thread.staff, headers=driver).json()["messages"][-1]["read"] is False
    mine = client.post(f"{thread.customer}/read", json={})
    assert mine.json() == {"side": "customer", "up_to": 4, "at": mine.json()["at"]}
    assert mine.json()["at"] is not None
    assert client.get(thread.staff, headers=driver).json()["messages"][-1]["read"] is True


def test_read_before_any_message_changes_nothing(
    client: TestClient, database: Database, thread: Thread
) -> None:
    """Marking an empty conversation read creates no conversation."""
    before = row_counts(database)
    response = client.post(f"{thread.customer}/read")
    assert response.status_code == 200, response.text
    assert response.json() == {"side": "customer", "up_to": 0, "at": None}
    assert row_counts(database) == before


def test_quick_replies_go_out_in_the_customers_language(
    client: TestClient, tenant: Tenant, thread: Thread
) -> None:
    """The catalogue lists codes with texts; a quick reply is sent in the customer's language."""
    driver = tenant.headers("driver")
    english = client.get("/v1/chat/quick-replies", headers=driver)
    assert english.status_code == 200, english.text
    codes = {r["code"]: r["text"] for r in english.json()}
    assert codes["im_outside"] == "I'm outside."
    assert set(codes) == {"im_outside", "cant_find_entrance", "running_late", "at_the_door",
                          "leaving_at_safe_place"}  # fmt: skip
    portuguese = client.get("/v1/chat/quick-replies?language=pt-PT", headers=driver).json()
    assert {r["code"]: r["text"] for r in portuguese}["im_outside"] == "Estou lá fora."
    # order_payload's customer speaks Portuguese.
    sent = send(client, thread.staff, driver, quick_reply="cant_find_entrance")
    assert sent.status_code == 201, sent.text
    assert sent.json()["body"] == "Não encontro a entrada."
    assert sent.json()["quick_reply"] == "cant_find_entrance"
    assert client.get(thread.customer).json()["messages"][0]["quick_reply"] == "cant_find_entrance"


def test_bad_messages_are_refused_and_write_nothing(
    client: TestClient, database: Database, tenant: Tenant, thread: Thread
) -> None:
    """Empty, too long, both or neither of body and quick reply, unknown codes: 422."""
    driver = tenant.headers("driver")
    before = row_counts(database)
    assert_problem(send(client, thread.customer, body="   "), 422, "body")
    assert_problem(send(client, thread.customer, body="x" * 1001), 422, "body")
    assert_problem(send(client, thread.customer, quick_reply="im_outside"), 422, "quick_reply")
    assert_problem(send(client, thread.staff, driver), 422, "body")
    assert_problem(send(client, thread.staff, driver, body="hi", quick_reply="im_outside"), 422,
                   "body")  # fmt: skip
    assert_problem(send(client, thread.staff, driver, quick_reply="im_lost"), 422, "quick_reply")
    assert_problem(client.post(f"{thread.staff}/read", json={"up_to": -1}, headers=driver), 422,
                   "up_to")  # fmt: skip
    assert_problem(client.get(f"{thread.customer}?limit=0"), 422, "query.limit")
    assert_problem(client.get("/v1/chat/quick-replies?language=klingon", headers=driver), 422,
                   "query.language")  # fmt: skip
    assert row_counts(database) == before
    assert send(client, thread.customer, body="x" * 1000).status_code == 201


def test_messages_and_receipts_are_published_live(
    client: TestClient, tenant: Tenant, thread: Thread
) -> None:
    """After commit, each message and receipt reaches the order's stream and the fleet's."""
    channels = [order_channel(thread.order_id), fleet_channel(tenant.organization_id)]
    events = collect(
        client, channels, lambda: send(client, thread.staff, tenant.headers("driver"), body="Hi")
    )
    assert [e.kind for e in events] == ["message", "message"]
    customer, fleet = events
    assert customer.data["order_id"] == fleet.data["order_id"] == thread.order_id
    assert customer.data["body"] == "Hi"
    assert customer.data["sender"] == {"role": "driver", "name": "Dee"}
    assert "sender_id" not in customer.data
    assert fleet.data["sender_id"] is not None

    events = collect(client, channels, lambda: client.post(f"{thread.customer}/read"))
    assert [(e.kind, e.data["side"], e.data["up_to"]) for e in events] == [
        ("read", "customer", 1), ("read", "customer", 1)]  # fmt: skip
    # A receipt that moves nothing, and a refused message, announce nothing.
    assert collect(client, channels, lambda: client.post(f"{thread.customer}/read")) == []
    assert collect(client, channels, lambda: send(client, thread.customer, body="")) == []


def test_retried_sends_are_deduplicated_per_customer(
    client: TestClient, database: Database, tenant: Tenant, thread: Thread
) -> None:
    """An Idempotency-Key replays for the same token; another customer's same key is theirs."""
    key = {"Idempotency-Key": "send-1"}
    first = client.post(thread.customer, json={"body": "Hello"}, headers=key)
    again = client.post(thread.customer, json={"body": "Hello"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other = open_thread(client, database, tenant)
    theirs = client.post(other.customer, json={"body": "Hello"}, headers=key)
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert [m["seq"] for m in client.get(thread.customer).json()["messages"]] == [1]
    assert [m["seq"] for m in client.get(other.customer).json()["messages"]] == [1]
