"""The order status state machine: the pure module and the same rules through the HTTP API."""

from __future__ import annotations

from collections import deque

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from lastmile.db.engine import Database
from lastmile.orders.status import TERMINAL, TRANSITIONS, OrderStatus, can_transition
from tests.factories import Tenant, order_payload
from tests.helpers import FAST, assert_problem, set_order

S = OrderStatus
statuses = st.sampled_from(list(OrderStatus))


@st.composite
def target_sequences(draw: st.DrawFn) -> list[OrderStatus]:
    """Random targets, about half of them legal next steps, so walks reach late statuses."""
    current, sequence = S.created, []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        legal = sorted(TRANSITIONS[current])
        target = draw(st.sampled_from(legal) if legal and draw(st.booleans()) else statuses)
        sequence.append(target)
        current = target if can_transition(current, target) else current
    return sequence


targets = target_sequences()


def walk(sequence: list[OrderStatus]) -> tuple[OrderStatus, list[tuple[OrderStatus, OrderStatus]]]:
    """Apply ``sequence`` to a new order by the rules: the final status and accepted moves."""
    current, accepted = S.created, []
    for target in sequence:
        if can_transition(current, target):
            accepted.append((current, target))
            current = target
    return current, accepted


def reachable(start: OrderStatus) -> set[OrderStatus]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()] - seen:
            seen.add(nxt)
            queue.append(nxt)
    return seen


# --- the pure module -------------------------------------------------------------------------


def test_every_status_has_rules_and_no_self_loops() -> None:
    """Every status has an entry in TRANSITIONS and none may move to itself."""
    assert set(TRANSITIONS) == set(OrderStatus)
    assert all(status not in nexts for status, nexts in TRANSITIONS.items())


def test_terminal_statuses_are_delivered_returned_cancelled() -> None:
    """Exactly delivered, returned and cancelled are terminal: nothing leaves them."""
    assert {S.delivered, S.returned, S.cancelled} == TERMINAL
    assert not any(can_transition(t, s) for t in TERMINAL for s in OrderStatus)


def test_lifecycle_is_connected() -> None:
    """Every status is reachable from created, and every status can still reach an end."""
    assert reachable(S.created) == set(OrderStatus)
    assert all(reachable(status) & TERMINAL for status in OrderStatus)


def test_cancel_only_before_dispatch() -> None:
    """Cancelling is allowed from created, planned and rescheduled, and from nothing later."""
    assert {s for s in OrderStatus if can_transition(s, S.cancelled)} == {
        S.created,
        S.planned,
        S.rescheduled,
    }


@FAST
@given(sequence=targets)
def test_random_walks_follow_the_table(sequence: list[OrderStatus]) -> None:
    """Applying random targets moves exactly along TRANSITIONS and stops for good at an end."""
    final, accepted = walk(sequence)
    position = S.created
    for before, after in accepted:
        assert before == position
        assert after in TRANSITIONS[before]
        position = after
    assert position == final
    if final in TERMINAL:
        assert not any(can_transition(final, s) for s in OrderStatus)


@FAST
@given(current=statuses, target=statuses)
def test_can_transition_matches_table(current: OrderStatus, target: OrderStatus) -> None:
    """can_transition answers exactly membership in TRANSITIONS."""
    assert can_transition(current, target) == (target in TRANSITIONS[current])


# --- through the HTTP API --------------------------------------------------------------------


def history_of(client: TestClient, tenant: Tenant, order_id: str) -> list[tuple[str | None, str]]:
    response = client.get(f"/v1/orders/{order_id}/history", headers=tenant.headers("dispatcher"))
    assert response.status_code == 200, response.text
    return [(e["from_status"], e["to_status"]) for e in response.json()]


@FAST
@given(sequence=targets)
def test_http_transitions_follow_the_state_machine(
    client: TestClient, tenant: Tenant, sequence: list[OrderStatus]
) -> None:
    """Legal moves answer 200, illegal ones 409 problem+json changing nothing; history = moves."""
    created = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    staff = tenant.headers("dispatcher")
    current = S.created
    expected: list[tuple[str | None, str]] = [(None, "created")]
    for target in sequence:
        response = client.post(
            f"/v1/orders/{order_id}/transitions", json={"status": target}, headers=staff
        )
        if can_transition(current, target):
            assert response.status_code == 200, response.text
            assert response.json()["status"] == target
            expected.append((current.value, target.value))
            current = target
        else:
            body = assert_problem(response, 409)
            assert body["type"].endswith(":invalid-transition")
            assert client.get(f"/v1/orders/{order_id}", headers=staff).json()["status"] == current
            assert history_of(client, tenant, order_id) == expected
    assert history_of(client, tenant, order_id) == expected
    assert client.get(f"/v1/orders/{order_id}", headers=staff).json()["status"] == current


def test_transition_records_actor_and_reason(client: TestClient, tenant: Tenant) -> None:
    """An accepted move is recorded with who made it and the reason given."""
    order = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    order_id = order.json()["id"]
    client.post(
        f"/v1/orders/{order_id}/transitions",
        json={"status": "planned", "reason": "morning wave"},
        headers=tenant.headers("dispatcher"),
    )
    event = client.get(f"/v1/orders/{order_id}/history", headers=tenant.headers("admin")).json()[-1]
    assert event["reason"] == "morning wave"
    assert event["actor"].startswith("user:usr_")


def test_merchant_may_only_cancel(client: TestClient, tenant: Tenant) -> None:
    """A merchant gets 403 for any target but cancelled, and may cancel its created order."""
    order_id = client.post(
        "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
    ).json()["id"]
    merchant = tenant.headers("merchant")
    refused = client.post(
        f"/v1/orders/{order_id}/transitions", json={"status": "planned"}, headers=merchant
    )
    assert_problem(refused, 403)
    cancelled = client.post(f"/v1/orders/{order_id}/cancel", headers=merchant)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/v1/orders/{order_id}/cancel", headers=merchant)
    assert_problem(again, 409)


def test_driver_moves_only_delivery_statuses(
    client: TestClient, tenant: Tenant, database: Database
) -> None:
    """A driver may take its dispatched order out for delivery and deliver it, not plan it."""
    order_id = client.post(
        "/v1/orders", json=order_payload(), headers=tenant.headers("merchant")
    ).json()["id"]
    set_order(database, order_id, driver_id=tenant.driver_id, status=S.dispatched)
    driver = tenant.headers("driver")
    url = f"/v1/orders/{order_id}/transitions"
    assert_problem(client.post(url, json={"status": "planned"}, headers=driver), 403)
    for target in ("out_for_delivery", "arriving", "delivered"):
        response = client.post(url, json={"status": target}, headers=driver)
        assert response.status_code == 200, response.text
    assert_problem(client.post(url, json={"status": "failed"}, headers=driver), 409)
