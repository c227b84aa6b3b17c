"""The tracking page's chat and rating form end to end: real API, live stream, Chromium.

The customer writes on /t/<token>; the driver's read receipt and reply, sent through the API,
show up live; once the order is delivered the customer rates it on the same page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.chat.conftest import DELIVER, move, open_thread
from tests.factories import Tenant, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


@pytest.fixture
def shop(live_server: LiveServer) -> Tenant:
    return make_tenant(live_server.db, "Livraria Norte")


def staff_view(http: httpx.Client, tenant: Tenant, order_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/orders/{order_id}/messages", headers=tenant.headers("driver"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_customer_chats_live_then_rates(
    live_server: LiveServer, http: httpx.Client, shop: Tenant, page: Page, page_errors: list[str]
) -> None:
    """A sent message gets its read tick live, the driver's reply appears live, then a rating."""
    thread = open_thread(http, live_server.db, shop)
    driver = shop.headers("driver")
    page.goto(f"{live_server.url}/t/{thread.token}")
    expect(page.locator("#live")).to_have_attribute("data-live", "open")
    expect(page.locator("#chat")).to_be_visible()
    expect(page.locator("#chat-empty")).to_be_visible()
    expect(page.locator("#rate")).to_be_hidden()  # not delivered yet

    page.fill("#chat-input", "Please ring the bell twice, 912 345 678")
    page.click("#chat-send")
    mine = page.locator(".msg--mine")
    expect(mine).to_have_count(1)
    expect(mine.locator(".msg-body")).to_have_text("Please ring the bell twice, [phone hidden]")
    expect(mine).to_have_attribute("data-read", "false")
    expect(mine.locator(".msg-tick")).to_have_text("✓")
    assert staff_view(http, shop, thread.order_id)["messages"][0]["body"].endswith("[phone hidden]")

    read = http.post(f"{thread.staff}/read", headers=driver)
    assert read.status_code == 200, read.text
    expect(mine).to_have_attribute("data-read", "true")
    expect(mine.locator(".msg-tick")).to_have_text("✓✓")

    reply = http.post(thread.staff, json={"quick_reply": "im_outside"}, headers=driver)
    assert reply.status_code == 201, reply.text
    theirs = page.locator(".msg--theirs")
    expect(theirs).to_have_count(1)
    expect(theirs.locator(".msg-who")).to_have_text("Dee · Driver")
    expect(theirs.locator(".msg-body")).to_have_text("Estou lá fora.")  # the customer's language
    # The page is on screen, so the customer's read receipt goes back to the driver.
    page.wait_for_function("() => document.querySelector('#chat-unread').hidden === true")
    for _ in range(50):
        if staff_view(http, shop, thread.order_id)["messages"][-1]["read"]:
            break
        page.wait_for_timeout(100)
    assert staff_view(http, shop, thread.order_id)["messages"][-1]["read"] is True

    move(http, shop, thread.order_id, *DELIVER)
    expect(page.locator("#headline")).to_have_text("Delivered")
    expect(page.locator("#rate")).to_be_visible()
    page.click("label[for=rate-4]")
    expect(page.locator("label.star.on")).to_have_count(4)
    page.click("label[for=tag-friendly]")
    page.click("label[for=tag-on_time]")
    page.fill("#rate-comment", "Lovely driver")
    page.click("#rate-send")
    expect(page.locator("#rate-done")).to_be_visible()
    expect(page.locator("#rate-given")).to_contain_text("4 out of 5")
    expect(page.locator("#rate-form")).to_be_hidden()
    rating = http.get(f"/v1/orders/{thread.order_id}/feedback", headers=shop.headers("admin"))
    assert rating.status_code == 200, rating.text
    assert (rating.json()["rating"], rating.json()["tags"], rating.json()["comment"]) == (
        4, ["friendly", "on_time"], "Lovely driver")  # fmt: skip
    assert page_errors == []


def test_rate_link_opens_the_form(
    live_server: LiveServer, http: httpx.Client, shop: Tenant, page: Page, page_errors: list[str]
) -> None:
    """The feedback request's /t/<token>#rate link shows the form with the first star focused."""
    thread = open_thread(http, live_server.db, shop)
    move(http, shop, thread.order_id, *DELIVER)
    page.goto(f"{live_server.url}/t/{thread.token}#rate")
    expect(page.locator("#rate")).to_be_visible()
    expect(page.locator("#rate-1")).to_be_focused()
    expect(page.locator("#rate")).to_be_in_viewport()
    page.click("#rate-send")  # no stars chosen: told so, nothing sent
    expect(page.locator("#rate-status")).to_have_text("Choose from 1 to 5 stars.")
    unrated = http.get(f"/v1/orders/{thread.order_id}/feedback", headers=shop.headers("admin"))
    assert unrated.status_code == 404
    assert page_errors == []
