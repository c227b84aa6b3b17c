"""The cut-off policy, row by row, and the purity of its module."""

from __future__ import annotations

import pytest

from lastmile.orders.status import OrderStatus
from lastmile.selfservice.policy import (
    CLOSED,
    DELIVERED,
    FAILED,
    LOADED,
    ON_THE_WAY,
    Action,
    Progress,
    verdict,
    verdicts,
)
from tests.test_architecture import FORBIDDEN, imports_of, module_file

S = OrderStatus
A = Action
EVERYTHING = set(Action)
# The table of docs/self-service.md: (status, driver heading here) -> actions allowed.
TABLE = [
    (S.created, False, EVERYTHING),
    (S.planned, False, EVERYTHING),
    (S.rescheduled, False, EVERYTHING),
    (S.dispatched, False, EVERYTHING),
    (S.out_for_delivery, False, EVERYTHING - {A.reschedule}),
    (S.out_for_delivery, True, {A.safe_place, A.instructions}),
    (S.arriving, False, {A.safe_place, A.instructions}),
    (S.arriving, True, {A.safe_place, A.instructions}),
    (S.failed, False, {A.reschedule, A.redirect}),
    (S.delivered, False, set()),
    (S.returned, False, set()),
    (S.cancelled, False, set()),
]


@pytest.mark.parametrize(("status", "heading", "allowed"), TABLE)
def test_each_state_allows_exactly_its_actions(
    status: OrderStatus, heading: bool, allowed: set[Action]
) -> None:
    """Every action is allowed in exactly the states the table says, refused with a reason
    otherwise."""
    decided = verdicts(Progress(status, heading))
    assert {a for a, v in decided.items() if v.allowed} == allowed
    for action, v in decided.items():
        assert (v.reason is None) == v.allowed, action


def test_every_status_is_in_the_table() -> None:
    """No status is left without a decided row."""
    assert {status for status, _, _ in TABLE} == set(OrderStatus)


@pytest.mark.parametrize(
    ("progress", "action", "reason"),
    [
        (Progress(S.dispatched, heading_here=True), A.window, ON_THE_WAY),
        (Progress(S.arriving), A.redirect, ON_THE_WAY),
        (Progress(S.out_for_delivery), A.reschedule, LOADED),
        (Progress(S.failed), A.instructions, FAILED),
        (Progress(S.delivered), A.instructions, DELIVERED),
        (Progress(S.cancelled), A.safe_place, CLOSED),
    ],
)
def test_refusals_say_why(progress: Progress, action: Action, reason: str) -> None:
    """The reason names what stands in the way (driver coming, parcel loaded, failure...)."""
    assert verdict(progress, action).reason == reason


def test_policy_is_a_pure_module() -> None:
    """The policy imports no web or database framework and no lastmile module but the pure
    status machine."""
    path = module_file("lastmile.selfservice.policy")
    assert path is not None
    imported = imports_of(path)
    lastmile = {m for m in imported if m.startswith("lastmile")}
    assert lastmile <= {"lastmile.orders.status", "lastmile.orders.status.OrderStatus"}
    assert not {m for m in imported if m.split(".")[0] in FORBIDDEN}
