"""The evidence a delivery or failure must carry, and when a device's time is believable."""

from __future__ import annotations

from datetime import datetime, timedelta

from lastmile.config import Settings
from lastmile.driver.media import PHOTO_TYPES, SIGNATURE_TYPES
from lastmile.driver.models import FailureReason
from lastmile.driver.schemas import Policy, Requirements
from lastmile.kit.errors import Unprocessable, field_error
from lastmile.orders.models import DeliveryMethod, Order
from lastmile.orders.schemas import PICKUP_METHODS

# A phone's clock may run a little fast; an action queued offline may replay up to two days
# later (a weekend without signal), no more: older claims are more likely wrong than late.
MAX_AHEAD = timedelta(minutes=5)
MAX_AGE = timedelta(hours=48)
# Nobody signs for these: the parcel is left, not handed over.
UNATTENDED = frozenset({DeliveryMethod.safe_place, DeliveryMethod.locker})
# Left at a locker or pick-up point: the custody entry says so instead of "delivered".
INTO_LOCKER = PICKUP_METHODS


def check_action_time(at: datetime, now: datetime, field: str) -> None:
    """Refuse (422 naming ``field``) a device time too far ahead of ``now`` or too old."""
    if at > now + MAX_AHEAD:
        message = "is more than 5 minutes in the future: check the phone's clock"
    elif at < now - MAX_AGE:
        message = "is more than 48 hours ago: record it by hand with the dispatcher"
    else:
        return
    raise Unprocessable(f"{field} {message}.", errors=[field_error([field], message)])


def requirements(order: Order, settings: Settings) -> Requirements:
    """What a delivery of ``order`` must carry under the organization's policy."""
    return Requirements(
        recipient_name=order.delivery_method not in UNATTENDED,
        photo=order.delivery_method.value in settings.proof_photo_methods,
        signature=order.signature_required,
        age_check=order.age_check,
    )


def photo_required_for(reason: FailureReason, settings: Settings) -> bool:
    return reason.value in settings.failure_photo_reasons


def policy(settings: Settings) -> Policy:
    return Policy(
        photo_required_for_methods=[DeliveryMethod(m) for m in settings.proof_photo_methods],
        failure_reasons=list(FailureReason),
        photo_required_for_reasons=[FailureReason(r) for r in settings.failure_photo_reasons],
        max_file_bytes=settings.proof_max_bytes,
        photo_types=list(PHOTO_TYPES),
        signature_types=list(SIGNATURE_TYPES),
    )
