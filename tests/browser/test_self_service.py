"""Issue #5's customer journey on /t/<token>, end to end in Chromium against the real app.

The customer reschedules to another day's window, sends the parcel to a locker, chats with the
driver (whose reply arrives live) and rates the delivery once it is delivered: all on one page,
without a reload.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from lastmile.fleet.models import Driver
from lastmile.orders.models import Order
from lastmile.organizations.models import Merchant
from tests.browser.conftest import LiveServer
from tests.chat.conftest import DELIVER, move
from tests.factories import make_tenant, order_payload, vehicle_payload
from tests.helpers import set_order
from tests.selfservice.support import day, slot, window

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Rewritten only on request, like the tracking page's (it differs on every run):
# LASTMILE_UPDATE_SCREENSHOTS=1 pytest -p no:xdist tests/browser/test_self_service.py
SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "self-service.png"
UPDATE_SCREENSHOTS = os.environ.get("LASTMILE_UPDATE_SCREENSHOTS") == "1"


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


def test_customer_reschedules_redirects_chats_and_rates(
    live_server: LiveServer, http: httpx.Client, page: Page, page_errors: list[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    """Every step shows on the page at once; the API agrees after each."""
    db = live_server.db
    shop = make_tenant(db, "Livraria Norte")
    with db.unit_of_work() as session:
        session.execute(update(Merchant).where(Merchant.id == shop.merchant_id)
                        .values(name="Livraria Norte"))  # fmt: skip
        session.execute(update(Driver).where(Driver.id == shop.driver_id).values(name="Ana"))
    van = http.post("/v1/vehicles", json=vehicle_payload(shop.depot_id),
                    headers=shop.headers("admin"))  # fmt: skip
    assert van.status_code == 201, van.text
    body = order_payload(windows=[window(day(), 10, 12)], merchant_reference="A-1001")
    created = http.post("/v1/orders", json=body, headers=shop.headers("merchant"))
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    link = http.post(f"/v1/orders/{order_id}/tracking-links", headers=shop.headers("merchant"))
    token = link.json()["token"]

    def order() -> dict[str, Any]:
        response = http.get(f"/v1/orders/{order_id}", headers=shop.headers("dispatcher"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    page.goto(f"{live_server.url}/t/{token}#reschedule")
    expect(page.locator("#live")).to_have_attribute("data-live", "open")
    expect(page.locator("#manage")).to_be_visible()
    # The notification's deep link opened the day picker.
    expect(page.locator("#reschedule")).to_have_attribute("open", "")
    page.evaluate("() => { window.__sameDocument = true; }")

    # Another day's window: the headline moves to it.
    later = day(4)
    page.click(f"#reschedule-days button[data-date='{later.isoformat()}']")
    page.click(f"#reschedule-slots button[data-slot='{slot(shop, later, 14)}']")
    expect(page.locator("#manage-status")).to_contain_text("between 14:00\u201316:00")
    expect(page.locator("#headline")).to_contain_text("between 14:00 and 16:00")
    assert order()["service_date"] == later.isoformat()

    # A locker near the address: the preferences and the choice follow.
    page.click("#locker summary")
    locker = page.locator(f"#locker-list button[data-point='{shop.locker_id}']")
    expect(locker).to_contain_text("40 free")
    locker.click()
    expect(page.locator("#manage-status")).to_contain_text("goes to Locker 1")
    expect(locker).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#prefs")).to_contain_text("Parcel locker")
    expect(page.locator("#locker [data-now]")).to_have_text("Locker 1")
    assert (order()["delivery_method"], order()["pickup_point_id"]) == ("locker", shop.locker_id)
    shot = SCREENSHOT if UPDATE_SCREENSHOTS else tmp_path / SCREENSHOT.name
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => scrollTo(0, 0)")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # A message to the driver; the driver's reply arrives live.
    set_order(db, order_id, driver_id=shop.driver_id)  # the driver who will deliver it
    page.fill("#chat-input", "The locker code reaches me by SMS?")
    page.click("#chat-send")
    expect(page.locator(".msg--mine .msg-body")).to_have_text("The locker code reaches me by SMS?")
    reply = http.post(f"/v1/orders/{order_id}/messages", json={"body": "Yes, once it is in."},
                      headers=shop.headers("driver"))  # fmt: skip
    assert reply.status_code == 201, reply.text
    expect(page.locator(".msg--theirs .msg-body")).to_have_text("Yes, once it is in.")

    # Out for delivery: the day is fixed now (the reason shows), the locker still open.
    move(http, shop, order_id, *DELIVER[:-1])
    expect(page.locator("#reschedule .manage-reason")).to_contain_text("already out for delivery")
    expect(page.locator("#reschedule-days")).to_be_hidden()
    expect(page.locator("#locker-list")).to_be_attached()
    expect(page.locator("#locker .manage-reason")).to_be_hidden()

    # Delivered: nothing can change any more, and the customer rates it.
    move(http, shop, order_id, DELIVER[-1])
    expect(page.locator("#headline")).to_have_text("Delivered")
    expect(page.locator("#manage")).to_be_hidden()
    expect(page.locator("#rate")).to_be_visible()
    page.click("label[for=rate-5]")
    page.click("label[for=tag-on_time]")
    page.fill("#rate-comment", "Easy pick-up")
    page.click("#rate-send")
    expect(page.locator("#rate-done")).to_be_visible()
    rating = http.get(f"/v1/orders/{order_id}/feedback", headers=shop.headers("admin"))
    assert (rating.json()["rating"], rating.json()["tags"]) == (5, ["on_time"])
    assert page.evaluate("() => window.__sameDocument") is True
    with db.unit_of_work(readonly=True) as session:
        row = session.get(Order, order_id)
        assert row is not None
        assert row.status.value == "delivered"
    assert page_errors == []


def test_safe_place_and_instructions_from_the_deep_link(
    live_server: LiveServer, http: httpx.Client, page: Page, page_errors: list[str]
) -> None:
    """The #safe-place link opens its form; both notes for the driver save in place and show
    in the preferences."""
    shop = make_tenant(live_server.db, "Livraria Norte")
    body = order_payload(windows=[window(day(), 10, 12)])
    created = http.post("/v1/orders", json=body, headers=shop.headers("merchant"))
    order_id = created.json()["id"]
    link = http.post(f"/v1/orders/{order_id}/tracking-links", headers=shop.headers("merchant"))
    page.goto(f"{live_server.url}/t/{link.json()['token']}#safe-place")
    expect(page.locator("#safe-place")).to_have_attribute("open", "")
    expect(page.locator("#safe-place-select")).to_have_value("")
    page.select_option("#safe-place-select", "porch")
    page.fill("#safe-place-note", "Behind the blue planter")
    page.click("#safe-place-form button[type=submit]")
    expect(page.locator("#manage-status")).to_have_text("Saved: in the porch.")
    expect(page.locator("#prefs")).to_contain_text("Porch · Behind the blue planter")
    page.click("#instructions summary")
    page.fill("#instructions-text", "Ring twice")
    page.click("#instructions-form button[type=submit]")
    expect(page.locator("#prefs")).to_contain_text("Ring twice")
    expect(page.locator("#instructions [data-now]")).to_have_text("Added")
    view = http.get(f"/v1/orders/{order_id}", headers=shop.headers("dispatcher")).json()
    assert (view["delivery_method"], view["safe_place"], view["instructions"]) == (
        "safe_place", "porch", "Ring twice",
    )  # fmt: skip
    assert page_errors == []
