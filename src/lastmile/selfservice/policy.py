"""The cut-off policy (pure): which delivery changes a customer may still make, and why not.

The table in docs/self-service.md is this module in words; a test walks every row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lastmile.orders.status import OrderStatus


class Action(enum.StrEnum):
    """A change the customer can ask for; the value is its URL segment."""

    window = "window"
    reschedule = "reschedule"
    redirect = "redirect"
    safe_place = "safe-place"
    instructions = "instructions"
    delivery_options = "delivery-options"


# Changes that only tell the driver something: safe until the parcel is handed over.
NOTE_ACTIONS = frozenset({Action.safe_place, Action.instructions})
# After a failed attempt the customer chooses the next one: another day or a locker.
AFTER_FAILURE = frozenset({Action.reschedule, Action.redirect})

S = OrderStatus
ON_VAN = frozenset({S.out_for_delivery, S.arriving})


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the delivery stands, as far as the cut-off is concerned."""

    status: OrderStatus
    # The driver is heading to this order's stop: it is arriving, or the route is under way
    # and every earlier delivery stop is done.
    heading_here: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str | None = None


ALLOWED = Verdict(True)

DELIVERED = "Your parcel has already been delivered."
CLOSED = "This delivery will not take place any more."
ON_THE_WAY = "Your driver is already on the way to you, so this can no longer change."
LOADED = (
    "Your parcel is already out for delivery today: it can no longer move to another day, but "
    "you can still pick another time today or send it to a locker."
)
FAILED = "After a missed delivery, first choose another day or a locker."


def verdict(progress: Progress, action: Action) -> Verdict:
    """Whether ``action`` may be taken now, with the reason shown to the customer if not."""
    status = progress.status
    if status is S.delivered:
        return Verdict(False, DELIVERED)
    if status in (S.returned, S.cancelled):
        return Verdict(False, CLOSED)
    if status is S.failed:
        return ALLOWED if action in AFTER_FAILURE else Verdict(False, FAILED)
    if action in NOTE_ACTIONS:
        return ALLOWED
    if progress.heading_here or status is S.arriving:
        return Verdict(False, ON_THE_WAY)
    if status in ON_VAN and action is Action.reschedule:
        # The parcel is in the van: another day means a failed attempt first (status machine).
        # Another time today stays open until the driver heads here: the stop moves within
        # the running route when it fits (changes.DeliveryChanges.change_window).
        return Verdict(False, LOADED)
    return ALLOWED


def verdicts(progress: Progress) -> dict[Action, Verdict]:
    """The verdict for every action."""
    return {action: verdict(progress, action) for action in Action}
