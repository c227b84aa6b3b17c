"""The driver app end to end: real API, real service worker, real IndexedDB queue, Chromium.

A driver logs in, starts the shift, loads the van, delivers the first stop with a photo and a
signature, then loses the network, delivers two stops and records a failure offline; when the
network returns the queue drains and the server holds each outcome exactly once, with its
proof files and custody ledger entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import func, select, update

from lastmile.auth.models import Role, User
from lastmile.driver.models import DeliveryProof
from lastmile.ledger.models import CustodyEntry
from lastmile.orders.models import Order, OrderEvent
from lastmile.planning.models import Route as RouteRow
from lastmile.tracking.models import PositionFix
from tests.browser.conftest import PHONE, LiveServer, console_errors
from tests.factories import PASSWORD, Tenant, make_tenant, order_payload
from tests.tracking.builders import BuiltRoute, committed_route

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# LASTMILE_UPDATE_SCREENSHOTS=1 pytest tests/browser/test_driver_app.py -k whole_route
SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "driver.png"
UPDATE_SCREENSHOTS = os.environ.get("LASTMILE_UPDATE_SCREENSHOTS") == "1"
LISBON = ZoneInfo("Europe/Lisbon")  # make_tenant's organisation time zone
DEPOT = (41.15, -8.61)
# What Chromium logs for each request made while the network is cut (expected, not a fault).
OFFLINE_FETCH = "Failed to load resource: net::ERR_INTERNET_DISCONNECTED"
# What arrives through the live stream arrives within this (the fallback poll is 30 s).
LIVE_MS = 5_000
# Four doorstep stops north-east through Porto's Baixa.
STOPS = [(41.1440, -8.6150), (41.1468, -8.6108), (41.1496, -8.6067), (41.1521, -8.6031)]


def png(width: int, height: int) -> bytes:
    """A camera-sized test picture (a colour gradient), written with zlib and struct only."""
    red = bytes(x * 255 // width for x in range(width))
    raw = bytearray()
    for y in range(height):
        row = bytearray(3 * width)
        row[0::3], row[1::3], row[2::3] = red, bytes([y * 255 // height]) * width, b"Z" * width
        raw += b"\x00" + row  # filter type 0 (none) before each row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + chunk(b"IEND", b"")
    )


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no frame header")


@dataclass
class Day:
    """A committed route of four stops for the tenant's driver, and a parcel of another route."""

    tenant: Tenant
    route: BuiltRoute
    email: str
    barcodes: list[str]  # one parcel per stop, in stop order
    stray: str  # a parcel of the organisation that is not on this route


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


@pytest.fixture
def day(live_server: LiveServer, http: httpx.Client) -> Day:
    db = live_server.db
    tenant = make_tenant(db, "Porto Express")
    route = committed_route(http, db, tenant, STOPS)
    stray = http.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    assert stray.status_code == 201, stray.text
    first, second, third, _ = route.order_ids
    with db.unit_of_work() as session:
        # The route belongs to today in the organisation's time zone, whatever the UTC date.
        session.execute(
            update(RouteRow)
            .where(RouteRow.id == route.route_id)
            .values(service_date=datetime.now(LISBON).date())
        )
        session.execute(update(Order).where(Order.id == first).values(signature_required=True))
        session.execute(update(Order).where(Order.id == second).values(age_check=True))
        session.execute(
            update(Order)
            .where(Order.id == third)
            .values(delivery_method="safe_place", safe_place="porch", safe_place_note="Blue door")
        )
        email = session.scalars(
            select(User.email).where(
                User.organization_id == tenant.organization_id, User.role == Role.driver
            )
        ).one()
        barcodes = [
            session.get_one(Order, order_id).parcels[0].barcode for order_id in route.order_ids
        ]
        stray_barcode = session.get_one(Order, stray.json()["id"]).parcels[0].barcode
    return Day(tenant, route, email, barcodes, stray_barcode)


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A phone in Lisbon with location permission, standing at the depot."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/Lisbon",
        geolocation={"latitude": DEPOT[0], "longitude": DEPOT[1], "accuracy": 8},
        permissions=["geolocation"],
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def app(phone: BrowserContext) -> Page:
    return phone.new_page()


@pytest.fixture
def errors(app: Page) -> list[str]:
    return console_errors(app)


def log_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/driver")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#main")).to_have_attribute("data-screen", "today")


def wait_for_worker(page: Page) -> None:
    """The service worker controls the page (so an offline reload is served from its cache)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def open_stop(page: Page, position: int) -> None:
    page.locator(f".stop:nth-child({position}) .stop__link").click()
    expect(page.locator("#main")).to_have_attribute("data-screen", "stop")
    expect(page.locator("#stop-eyebrow")).to_have_text(f"Stop {position} of 4")


def sign(page: Page) -> None:
    pad = page.locator(".proof--deliver .signature")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * i), y + h * (0.6 - 0.3 * ((i % 4) / 3)))
    page.mouse.up()


def deliver(page: Page, *, name: str | None = None, photo: bytes | None = None,
            signature: bool = False, age_check: bool = False) -> None:  # fmt: skip
    page.get_by_role("button", name="Deliver", exact=True).click()
    form = page.locator(".proof--deliver")
    if photo is not None:
        form.locator(".photo-input").set_input_files(
            {"name": "photo.png", "mimeType": "image/png", "buffer": photo}
        )
        expect(form.locator(".photo-preview")).to_be_visible()
        form.locator(".photo-preview").evaluate("(img) => img.decode()")
    if signature:
        sign(page)
    if name is not None:
        form.get_by_label("Recipient name").fill(name)
    if age_check:
        form.get_by_label(re.compile("I checked photo ID")).check()
    form.get_by_role("button", name="Confirm delivery").click()
    expect(page.locator("#main")).to_have_attribute("data-screen", "today")


def api(server: LiveServer, tenant: Tenant, who: str = "admin") -> httpx.Client:
    return server.client(tenant.tokens[who])


def test_whole_route_with_an_offline_stretch(
    live_server: LiveServer, day: Day, app: Page, phone: BrowserContext, errors: list[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    """Load-out, deliveries with proof, a failure and an offline stretch: each order ends
    delivered or failed exactly once, proofs are stored with their hashes, the ledger verifies."""
    page = app
    log_in(page, live_server, day.email)
    wait_for_worker(page)
    stops = page.locator(".stop")
    expect(stops).to_have_count(4)
    expect(stops.nth(0)).to_contain_text("Signature")
    expect(stops.nth(1)).to_contain_text("18+ ID check")
    expect(stops.nth(2)).to_contain_text("Leave in a safe place")

    # Start the shift: the route is under way, and positions flow while on shift.
    page.get_by_role("button", name="Start shift").click()
    expect(page.locator("#shift-state")).to_have_text("On shift · sharing your location")

    # Load-out: three of four parcels and a stray; the fourth is flagged missing.
    page.locator("#loadout-link").click()
    expect(page.locator("#main")).to_have_attribute("data-screen", "loadout")
    scan = page.get_by_label("Scan or type a parcel barcode")
    for code in [*day.barcodes[:3], day.stray]:
        scan.fill(code)
        scan.press("Enter")
    expect(page.locator("#missing-list li")).to_have_text([day.barcodes[3]])
    expect(page.locator("#extra-list li")).to_have_count(1)
    expect(page.locator("#extra-list li")).to_contain_text(day.stray)
    expect(page.locator("#extra-list li")).to_contain_text("another route")
    expect(page.locator("#loadout-finish")).to_have_text("Finish with 1 parcel missing")
    scan.fill(day.barcodes[3])
    scan.press("Enter")
    expect(page.locator("#missing-list li")).to_have_count(0)
    expect(page.locator("#loaded-list li")).to_have_count(4)
    page.get_by_role("button", name="Finish load-out").click()
    expect(page.locator("#loadout-state")).to_have_text("Finished · 4 of 4 loaded")

    # Stop 1 online: arrive, then deliver with a photo and a drawn signature.
    open_stop(page, 1)
    lat, lon = STOPS[0]
    geo = re.compile(rf"^geo:{lat:.6f},{lon:.6f}\?q=")  # the API's link, as it sent it
    expect(page.locator("#navigate-geo")).to_have_attribute("href", geo)
    expect(page.locator("#navigate-maps")).to_have_attribute("href", re.compile(r"^https://"))
    page.get_by_role("button", name="I have arrived").click()
    expect(page.locator("#stop-state")).to_contain_text("Arrived at")
    deliver(page, name="Ana Silva", photo=png(2000, 1500), signature=True)
    expect(stops.nth(0)).to_have_attribute("data-state", "delivered")
    expect(page.locator("#queue-banner")).to_be_hidden()

    # Offline: two deliveries and a failure wait in the queue, shown as done on the phone.
    phone.set_offline(True)
    expect(page.locator("#offline-banner")).to_be_visible()
    open_stop(page, 2)
    deliver(page, name="Rui", age_check=True)
    open_stop(page, 3)
    deliver(page, photo=png(900, 1600))
    open_stop(page, 4)
    page.get_by_role("button", name="Could not deliver").click()
    page.get_by_label("Reason").select_option("not_home")
    page.get_by_role("button", name="Record failed attempt").click()
    expect(page.locator("#queue-banner")).to_be_visible()
    page.wait_for_function("() => Number(document.querySelector('#queue-count').textContent) >= 3")
    expect(stops.nth(1)).to_have_attribute("data-state", "delivered")
    expect(stops.nth(3)).to_have_attribute("data-state", "failed")
    expect(stops.nth(1)).to_contain_text("Not sent yet")
    expect(page.locator("#toast")).to_be_hidden()
    shot = SCREENSHOT if UPDATE_SCREENSHOTS else tmp_path / SCREENSHOT.name
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    with live_server.db.unit_of_work() as session:
        offline = select(Order.status).where(Order.id.in_(day.route.order_ids[1:]))
        assert set(session.scalars(offline)) <= {"out_for_delivery", "arriving"}

    # Back online: the queue drains in order and the page shows the server's state.
    phone.set_offline(False)
    expect(page.locator("#queue-banner")).to_be_hidden(timeout=20_000)
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#problems")).to_be_hidden()
    expect(stops.nth(1)).not_to_contain_text("Not sent yet")
    expect(page.locator("#saved-at")).to_be_hidden()

    check_server_state(live_server, day)
    assert [e for e in errors if e != OFFLINE_FETCH] == []


def check_server_state(server: LiveServer, day: Day) -> None:
    """Every order moved once to its outcome, with one proof, its files and ledger entries."""
    expected = ["delivered", "delivered", "delivered", "failed"]
    orders = day.route.order_ids
    with server.db.unit_of_work() as session:
        for order_id, outcome in zip(orders, expected, strict=True):
            assert session.get_one(Order, order_id).status == outcome
            moves = session.scalar(
                select(func.count())
                .select_from(OrderEvent)
                .where(OrderEvent.order_id == order_id, OrderEvent.to_status == outcome)
            )
            assert moves == 1, order_id
            proofs = session.scalar(
                select(func.count())
                .select_from(DeliveryProof)
                .where(DeliveryProof.order_id == order_id)
            )
            assert proofs == 1, order_id
        # The phone's fixes while on shift reached the vehicle's trace (queued with the actions).
        fixes = select(func.count()).select_from(PositionFix)
        assert session.scalars(fixes.where(PositionFix.vehicle_id == day.route.vehicle_id)).one()
        entries = session.scalars(
            select(CustodyEntry).where(CustodyEntry.organization_id == day.tenant.organization_id)
        ).all()
    events = sorted((entry.order_id, entry.event) for entry in entries)
    assert events == sorted(
        [(o, "loaded") for o in orders]
        + [(o, outcome) for o, outcome in zip(orders, expected, strict=True)]
    )

    with api(server, day.tenant) as admin:
        proof = admin.get(f"/v1/orders/{orders[0]}/proof").json()["proofs"][0]
        assert proof["recipient_name"] == "Ana Silva"
        photo = admin.get(proof["photo"]["url"])
        assert photo.headers["content-type"] == "image/jpeg"
        assert hashlib.sha256(photo.content).hexdigest() == proof["photo"]["sha256"]
        assert max(jpeg_size(photo.content)) == 1280  # resized on the phone from 2000 px
        signature = admin.get(proof["signature"]["url"])
        assert signature.content.startswith(b"\x89PNG")
        assert hashlib.sha256(signature.content).hexdigest() == proof["signature"]["sha256"]
        delivered = next(e for e in entries if e.order_id == orders[0] and e.event == "delivered")
        assert delivered.details["photo_sha256"] == proof["photo"]["sha256"]
        assert delivered.details["signature_sha256"] == proof["signature"]["sha256"]

        safe_place = admin.get(f"/v1/orders/{orders[2]}/proof").json()["proofs"][0]
        assert jpeg_size(admin.get(safe_place["photo"]["url"]).content)[1] == 1280
        failed = admin.get(f"/v1/orders/{orders[3]}/proof").json()["proofs"][0]
        assert failed["outcome"] == "failed"
        assert failed["reason"] == "not_home"
        second = admin.get(f"/v1/orders/{orders[1]}/proof").json()["proofs"][0]
        assert second["age_checked"] is True

        report = admin.get("/v1/ledger/verify").json()
        assert report["ok"] is True, report
        assert report["entries"] == 8


def test_reload_while_offline_shows_the_saved_route(
    live_server: LiveServer, day: Day, app: Page, phone: BrowserContext, errors: list[str]
) -> None:
    """With the network cut, a reload is served by the service worker: shell and last route."""
    page = app
    page.goto(f"{live_server.url}/driver")
    wait_for_worker(page)
    log_in(page, live_server, day.email)
    expect(page.locator(".stop")).to_have_count(4)
    expect(page.locator("#saved-at")).to_be_hidden()

    phone.set_offline(True)
    page.reload()
    expect(page.locator("#main")).to_have_attribute("data-screen", "today")
    expect(page.locator(".stop")).to_have_count(4)
    expect(page.locator("#saved-at")).to_contain_text("Offline copy saved at")
    expect(page.locator("#offline-banner")).to_be_visible()
    expect(page.locator(".stop").first).to_contain_text("Signature")
    assert [e for e in errors if e != OFFLINE_FETCH] == []


def test_a_lost_answer_is_replayed_not_applied_again(
    live_server: LiveServer, day: Day, app: Page, errors: list[str]
) -> None:
    """When a delivery's answer is lost, the retry carries the same Idempotency-Key and the
    server replays its first answer: one proof, one status move."""
    page = app
    keys: list[str] = []
    replayed: list[str | None] = []

    def lose_first_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            assert route.fetch().status == 201  # the server did the work...
            route.abort("internetdisconnected")  # ...but the phone never hears of it
        else:
            route.continue_()

    page.route("**/v1/driver/orders/*/deliver", lose_first_answer)
    page.on(
        "response",
        lambda r: (
            replayed.append(r.headers.get("idempotent-replayed"))
            if r.url.endswith("/deliver")
            else None
        ),
    )
    log_in(page, live_server, day.email)
    open_stop(page, 4)
    deliver(page, name="Ana Silva")
    expect(page.locator("#queue-count")).to_have_text("1")
    expect(page.locator("#offline-banner")).to_be_visible()

    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#queue-banner")).to_be_hidden()
    expect(page.locator(".stop").nth(3)).to_have_attribute("data-state", "delivered")
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert replayed == ["true"]
    order_id = day.route.order_ids[3]
    with live_server.db.unit_of_work() as session:
        assert session.get_one(Order, order_id).status == "delivered"
        proofs = select(func.count()).select_from(DeliveryProof)
        assert session.scalar(proofs.where(DeliveryProof.order_id == order_id)) == 1
        moves = select(func.count()).select_from(OrderEvent)
        delivered = moves.where(
            OrderEvent.order_id == order_id, OrderEvent.to_status == "delivered"
        )
        assert session.scalar(delivered) == 1
    assert [e for e in errors if e != OFFLINE_FETCH] == []


def test_conflicts_settle_or_wait_for_the_driver(
    live_server: LiveServer, day: Day, app: Page, phone: BrowserContext, http: httpx.Client
) -> None:
    """A delivery someone else already recorded counts as done; one the server refuses for
    good stays on screen as a problem until the driver dismisses it."""
    page = app
    log_in(page, live_server, day.email)
    expect(page.locator(".stop")).to_have_count(4)
    first, _, _, fourth = day.route.order_ids
    staff = day.tenant.headers("dispatcher")
    now = datetime.now(LISBON).isoformat()
    # Offline, the phone cannot hear of either (nor read the route again, live stream or not);
    # it delivers both and sends them when online.
    phone.set_offline(True)
    done = http.post(
        f"/v1/driver/orders/{first}/deliver",
        data={"captured_at": now, "recipient_name": "Neighbour"},
        files={"signature": ("s.png", png(40, 20), "image/png")},
        headers=staff,
    )
    assert done.status_code == 201, done.text
    failed = http.post(
        f"/v1/driver/orders/{fourth}/fail",
        data={"captured_at": now, "reason": "not_home"},
        headers=staff,
    )
    assert failed.status_code == 201, failed.text

    open_stop(page, 1)
    deliver(page, name="Ana Silva", signature=True)
    open_stop(page, 4)
    deliver(page, name="Ana Silva")
    phone.set_offline(False)

    problems = page.locator("#problem-list li")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text("Delivery")
    expect(problems).to_contain_text("failed cannot be delivered")
    expect(page.locator("#queue-banner")).to_be_hidden()
    expect(page.locator(".stop").nth(0)).to_have_attribute("data-state", "delivered")
    expect(page.locator(".stop").nth(3)).to_have_attribute("data-state", "failed")
    with live_server.db.unit_of_work() as session:
        for order_id in (first, fourth):
            proofs = select(func.count()).select_from(DeliveryProof)
            assert session.scalar(proofs.where(DeliveryProof.order_id == order_id)) == 1
    problems.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#problems")).to_be_hidden()


def test_customer_changes_reach_the_stop(
    live_server: LiveServer, day: Day, app: Page, http: httpx.Client
) -> None:
    """A change made after the route was loaded comes through the live stream, without a
    reload or a poll, and is flagged on the stop until the driver has opened it."""
    page = app
    log_in(page, live_server, day.email)
    expect(page.locator("#main")).to_have_attribute("data-live", "open")
    third = page.locator(".stop").nth(2)
    expect(third).not_to_contain_text("Updated")
    patched = http.patch(
        f"/v1/orders/{day.route.order_ids[2]}",
        json={"instructions": "Leave it with the café next door"},
        headers=day.tenant.headers("merchant"),
    )
    assert patched.status_code == 200, patched.text
    # Far below the 30-s poll (which waits for the stream to close): the stream brought it.
    expect(third).to_contain_text("Updated", timeout=LIVE_MS)
    open_stop(page, 3)
    card = page.locator(".order")
    expect(card.locator(".changed")).to_have_text("Changed by the customer: instructions")
    expect(card.locator(".facts")).to_contain_text("Leave it with the café next door")
    page.locator("#screen-stop .back").click()
    expect(third).not_to_contain_text("Updated")


def customer_view(http: httpx.Client, token: str) -> dict[str, Any]:
    response = http.get(f"/v1/self-service/{token}/messages")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_chat_with_the_customer(
    live_server: LiveServer, day: Day, app: Page, phone: BrowserContext, http: httpx.Client,
    errors: list[str],
) -> None:  # fmt: skip
    """The customer's message reaches the stop live, marked unread until the driver opens the
    chat; a quick reply (in the customer's language) and a message typed offline reach the
    customer, and the customer's read receipt comes back live; no contact details are shown."""
    page = app
    order_id = day.route.order_ids[1]
    link = http.post(
        f"/v1/orders/{order_id}/tracking-links", headers=day.tenant.headers("merchant")
    )
    assert link.status_code == 201, link.text
    token = link.json()["token"]
    log_in(page, live_server, day.email)
    expect(page.locator("#main")).to_have_attribute("data-live", "open")
    second = page.locator(".stop").nth(1)
    expect(second).to_contain_text("Ana")
    expect(second.locator(".flag--chat")).to_have_count(0)

    wrote = http.post(
        f"/v1/self-service/{token}/messages",
        json={"body": "The bell is broken: call 912 345 678 or ana@example.org"},
    )
    assert wrote.status_code == 201, wrote.text
    expect(second.locator(".flag--chat")).to_have_text("1 new message", timeout=LIVE_MS)
    expect(page.locator(".stop .flag--chat")).to_have_count(1)  # only the stop written about

    open_stop(page, 2)
    chat = page.locator(".order .chat")
    expect(chat.locator(".chat__unread")).to_have_text("1 new")
    assert customer_view(http, token)["messages"][0]["read"] is False
    chat.get_by_text("Chat with Ana").click()
    theirs = chat.locator(".msg--theirs")
    expect(theirs).to_have_count(1)
    expect(theirs.locator(".msg__who")).to_have_text("Ana")
    expect(theirs.locator(".msg__body")).to_have_text(
        "The bell is broken: call [phone hidden] or [email hidden]"
    )
    expect(chat.locator(".chat__unread")).to_be_hidden()
    for contact in ("345 678", "345678", "@example.org"):  # the phone and e-mail, anywhere
        expect(page.locator("#screen-stop")).not_to_contain_text(contact)
    for _ in range(50):  # opening the chat told the customer it was read
        if customer_view(http, token)["messages"][0]["read"]:
            break
        page.wait_for_timeout(100)
    assert customer_view(http, token)["messages"][0]["read"] is True

    # A quick reply: shown in the driver's words, sent in the customer's (Portuguese).
    chat.get_by_role("button", name="I'm outside.").click()
    mine = chat.locator(".msg--mine")
    expect(mine.locator(".msg__body")).to_have_text(["Estou lá fora."])
    expect(mine).to_have_attribute("data-read", "false")
    reply = customer_view(http, token)["messages"][-1]
    assert (reply["side"], reply["quick_reply"], reply["body"]) == (
        "staff",
        "im_outside",
        "Estou lá fora.",
    )
    assert reply["sender"]["role"] == "driver"
    assert "sender_id" not in reply
    read = http.post(f"/v1/self-service/{token}/messages/read")
    assert read.status_code == 200, read.text
    expect(mine).to_have_attribute("data-read", "true", timeout=LIVE_MS)
    expect(mine.locator(".msg__tick")).to_have_text("✓✓")

    # Offline the message waits in the outbox, marked, and goes once the network is back.
    phone.set_offline(True)
    chat.get_by_role("textbox", name="Message").fill("Leaving it with the neighbour at 2B")
    chat.get_by_role("button", name="Send").click()
    pending = chat.locator(".msg--pending")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("Not sent yet")
    expect(page.locator("#queue-count")).to_have_text("1")
    phone.set_offline(False)
    expect(page.locator("#queue-banner")).to_be_hidden(timeout=20_000)
    expect(pending).to_have_count(0)
    expect(mine.locator(".msg__body")).to_have_text(
        ["Estou lá fora.", "Leaving it with the neighbour at 2B"]
    )
    bodies = [m["body"] for m in customer_view(http, token)["messages"]]
    assert bodies[1:] == ["Estou lá fora.", "Leaving it with the neighbour at 2B"]

    page.locator("#screen-stop .back").click()
    expect(second.locator(".flag--chat")).to_have_count(0)
    assert [e for e in errors if e != OFFLINE_FETCH] == []


def test_the_app_is_installable_and_locked_down(
    live_server: LiveServer, app: Page, phone: BrowserContext
) -> None:
    """Chromium finds nothing missing to install the app; its page, worker and manifest carry
    the headers that keep it on our origin and let the worker control /driver."""
    page = app
    response = page.goto(f"{live_server.url}/driver")
    assert response is not None
    policy = dict(
        d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    wait_for_worker(page)
    cdp = phone.new_cdp_session(page)
    found = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Test profiles are incognito, which alone stops installing; nothing else may be missing.
    assert [e["errorId"] for e in found if e["errorId"] != "in-incognito"] == []

    with live_server.client() as http:
        worker = http.get("/driver/sw.js")
        assert worker.headers["service-worker-allowed"] == "/driver"
        assert worker.headers["content-type"].startswith("text/javascript")
        manifest = http.get("/driver/manifest.webmanifest").json()
        assert (manifest["start_url"], manifest["display"]) == ("/driver", "standalone")
        sizes: dict[str, set[tuple[int, int]]] = {}
        for icon in manifest["icons"]:
            body = http.get(icon["src"])
            assert body.status_code == 200
            assert body.headers["content-type"] == icon["type"]
            if icon["type"] == "image/png":  # width and height from the PNG's IHDR chunk
                size = struct.unpack(">II", body.content[16:24])
                sizes.setdefault(icon.get("purpose", "any"), set()).add(size)
        assert sizes == {"any": {(192, 192), (512, 512)}, "maskable": {(512, 512)}}
        shell = re.search(r"const SHELL = (\[.*?\]);", worker.text)
        assert shell is not None
        for url in json.loads(shell.group(1)):
            assert http.get(url).status_code == 200, url


def test_an_expired_session_keeps_the_queue_until_the_driver_logs_in(
    live_server: LiveServer, day: Day, app: Page, phone: BrowserContext, http: httpx.Client
) -> None:
    """A 401 while replaying stops the queue, asks for the password, then sends what waited."""
    page = app
    log_in(page, live_server, day.email)
    phone.set_offline(True)
    open_stop(page, 2)
    deliver(page, name="Rui", age_check=True)
    expect(page.locator("#queue-count")).to_have_text("1")
    token = page.evaluate("() => localStorage.getItem('lastmile.driver.token')")
    revoked = http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 204

    phone.set_offline(False)
    expect(page.locator("#main")).to_have_attribute("data-screen", "login")
    expect(page.locator("#login-error")).to_have_text(
        "Your session has ended: please log in again. 1 action will be sent afterwards."
    )
    order_id = day.route.order_ids[1]
    with live_server.db.unit_of_work() as session:
        assert session.get_one(Order, order_id).status != "delivered"
    page.get_by_label("E-mail").fill(day.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#queue-banner")).to_be_hidden()
    expect(page.locator(".stop").nth(1)).to_have_attribute("data-state", "delivered")
    with live_server.db.unit_of_work() as session:
        assert session.get_one(Order, order_id).status == "delivered"
