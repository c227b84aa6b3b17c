"""HTTP routes of self-service on the tracking link: ``/v1/self-service/{token}/...``.

The token is the credential (as on ``/v1/tracking/{token}``): an unknown token, or one that
belongs to another order than the ``order_id`` the page names, answers 404; a withdrawn or
expired one 410. Every change answers the new view, so the page can redraw from it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from lastmile.deps import ServicesDep, SessionDep, SettingsDep
from lastmile.kit.errors import NotFound
from lastmile.selfservice import schemas as s
from lastmile.selfservice.service import SelfService
from lastmile.tracking.links import resolve_link

router = APIRouter(prefix="/v1/self-service", tags=["self-service"])

OrderId = Annotated[
    str | None,
    Query(max_length=40, description="The order the page shows; another order's token is 404."),
]
REFUSALS: dict[int | str, dict[str, str]] = {
    404: {"description": "Unknown link, or the link of another order"},
    409: {"description": "Refused (past the cut-off, full, closed, no room): see `detail`"},
    410: {"description": "The link was withdrawn or has expired"},
}


def _self_service(
    token: str, order_id: str | None, session: SessionDep, services: ServicesDep,
    settings: SettingsDep,
) -> SelfService:  # fmt: skip
    after = timedelta(hours=settings.tracking_link_after_delivery_hours)
    link = resolve_link(session, token, after_close=after)
    if order_id is not None and link.order_id != order_id:
        raise NotFound("This tracking link does not exist.")
    return SelfService(session, services, settings, link)


@router.get("/{token}", response_model=s.SelfServiceView, responses=REFUSALS)
def read_self_service(
    token: str, session: SessionDep, services: ServicesDep, settings: SettingsDep,
    response: Response, order_id: OrderId = None,
) -> s.SelfServiceView:  # fmt: skip
    """What the customer may change now (each action allowed or not, with the reason), the
    feasible windows of the delivery day and of other days, lockers and pick-up points near
    the address, the safe places, the current choices and what the sender allows."""
    svc = _self_service(token, order_id, session, services, settings)
    # The token is in the URL: keep the answer out of every cache. (A change's answer may be
    # stored: the Idempotency-Key middleware replays it to a retry.)
    response.headers["Cache-Control"] = "no-store"
    return svc.view()


def _change(
    token: str, order_id: str | None, session: SessionDep, services: ServicesDep,
    settings: SettingsDep, apply: Callable[[SelfService], None],
) -> s.SelfServiceView:  # fmt: skip
    svc = _self_service(token, order_id, session, services, settings)
    apply(svc)
    return svc.view()


@router.post("/{token}/window", response_model=s.SelfServiceView, responses=REFUSALS)
def change_window(
    token: str, body: s.WindowChange, session: SessionDep, services: ServicesDep,
    settings: SettingsDep, order_id: OrderId = None,
) -> s.SelfServiceView:  # fmt: skip
    """Move the delivery to another window of the same day (one of `windows`). On a route the
    stop moves where the van has room; a full window answers 409."""
    return _change(token, order_id, session, services, settings,
                   lambda svc: svc.change_window(body))  # fmt: skip


@router.post("/{token}/reschedule", response_model=s.SelfServiceView, responses=REFUSALS)
def reschedule(
    token: str, body: s.Reschedule, session: SessionDep, services: ServicesDep,
    settings: SettingsDep, order_id: OrderId = None,
) -> s.SelfServiceView:  # fmt: skip
    """Move the delivery to a window of another day (one of `days`). An order already on a
    route goes back to be planned for that day; after a failed attempt it is rescheduled."""
    return _change(token, order_id, session, services, settings,
                   lambda svc: svc.reschedule(body))  # fmt: skip


@router.post("/{token}/redirect", response_model=s.SelfServiceView, responses=REFUSALS)
def redirect(
    token: str, body: s.Redirect, session: SessionDep, services: ServicesDep,
    settings: SettingsDep, order_id: OrderId = None,
) -> s.SelfServiceView:  # fmt: skip
    """Send the parcel to a locker or pick-up point nearby (or back to the address with
    `null`): only one with a free compartment that day, open when the van gets there."""
    return _change(token, order_id, session, services, settings,
                   lambda svc: svc.redirect(body))  # fmt: skip


@router.post("/{token}/safe-place", response_model=s.SelfServiceView, responses=REFUSALS)
def set_safe_place(
    token: str, body: s.SafePlaceChange, session: SessionDep, services: ServicesDep,
    settings: SettingsDep, order_id: OrderId = None,
) -> s.SelfServiceView:  # fmt: skip
    """Where the driver may leave the parcel, with a note; allowed until it is delivered."""
    return _change(token, order_id, session, services, settings,
                   lambda svc: svc.set_safe_place(body))  # fmt: skip


@router.post("/{token}/instructions", response_model=s.SelfServiceView, responses=REFUSALS)
def set_instructions(
    token: str, body: s.InstructionsChange, session: SessionDep, services: ServicesDep,
    settings: SettingsDep, order_id: OrderId = None,
) -> s.SelfServiceView:  # fmt: skip
    """Instructions for the driver (up to 1000 characters); allowed until it is delivered."""
    return _change(token, order_id, session, services, settings,
                   lambda svc: svc.set_instructions(body))  # fmt: skip


@router.post("/{token}/delivery-options", response_model=s.SelfServiceView, responses=REFUSALS)
def set_delivery_options(
    token: str, body: s.DeliveryOptions, session: SessionDep, services: ServicesDep,
    settings: SettingsDep, order_id: OrderId = None,
) -> s.SelfServiceView:  # fmt: skip
    """Ask for a signature or for in-home delivery, where the sender offers them."""
    return _change(token, order_id, session, services, settings,
                   lambda svc: svc.set_options(body))  # fmt: skip
