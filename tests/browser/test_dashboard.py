"""The dispatcher console end to end: real API, real event stream, Chromium at desktop size.

A dispatcher logs in, plans tomorrow, reads the comparison, commits; a vehicle reports
positions and its marker moves without a reload; a stop turns at risk, shows up in the
exceptions inbox and is moved to another vehicle from there (the server's routes change); the
reports page downloads a CSV. Drivers and merchants get the "not allowed" screen.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from lastmile.auth.models import Role, User
from lastmile.demo import generate_city, generate_orders
from lastmile.demo.city import live_day
from lastmile.demo.loader import load_city, plan_day
from lastmile.demo.simulate import FleetSimulator, load_route_plans
from lastmile.kit.clock import utcnow
from lastmile.live.channels import fleet_channel
from lastmile.live.events import LiveEvent
from lastmile.orders.models import Order
from lastmile.planning.models import RouteStop
from lastmile.planning.schemas import PlanRequest
from lastmile.planning.solve import SolveSettings
from tests.browser.conftest import LiveServer, console_errors
from tests.factories import PASSWORD, Tenant, make_tenant, order_payload

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# LASTMILE_UPDATE_SCREENSHOTS=1 pytest -p no:xdist tests/browser/test_dashboard.py
SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "dashboard.png"
UPDATE_SCREENSHOTS = os.environ.get("LASTMILE_UPDATE_SCREENSHOTS") == "1"
DESKTOP: ViewportSize = {"width": 1440, "height": 960}
LISBON = ZoneInfo("Europe/Lisbon")  # make_tenant's organisation time zone
DEPOT = (41.15, -8.61)  # make_tenant's depot
VEHICLES = (("Van 1", "van"), ("E-Van 2", "ev_van"), ("Bike 3", "cargo_bike"))
ORDERS = 12


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh desktop-sized browser profile in another time zone than the organisation's."""
    context = browser.new_context(
        viewport=DESKTOP, locale="en-GB", timezone_id="America/New_York", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def tomorrow() -> date:
    """Planning tomorrow keeps every window in the future whatever the clock says."""
    return datetime.now(LISBON).date() + timedelta(days=1)


def at(hour: int, minute: int = 0) -> str:
    day = tomorrow()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LISBON).isoformat()


def seed_city(server: LiveServer, tenant: Tenant) -> list[str]:
    """Three vehicles with drivers on shift tomorrow and twelve orders around the depot.

    Vehicles carry five parcels each, so any plan needs all three (and leaves room to move a
    stop). Returns the order ids."""
    staff = server.client(tenant.tokens["dispatcher"])
    for i, (name, kind) in enumerate(VEHICLES):
        vehicle = staff.post("/v1/vehicles", json={
            "name": name, "type": kind, "home_depot_id": tenant.depot_id,
            "capacity_parcels": 5, "capacity_kg": 150, "capacity_litres": 600})  # fmt: skip
        assert vehicle.status_code == 201, vehicle.text
        if i == 0:
            driver_id = tenant.driver_id  # the one with a login (the role test uses it)
        else:
            driver = staff.post("/v1/drivers", json={"name": f"Driver {i + 1}", "skills": []})
            assert driver.status_code == 201, driver.text
            driver_id = driver.json()["id"]
        shift = staff.post("/v1/shifts", json={
            "driver_id": driver_id, "starts_at": at(7), "ends_at": at(20)})  # fmt: skip
        assert shift.status_code == 201, shift.text
    merchant = server.client(tenant.tokens["merchant"])
    ids = []
    for i in range(ORDERS):
        # Most windows span the day; every third is a two-hour window.
        start, end = (9 + (i % 3) * 2, 11 + (i % 3) * 2) if i % 3 == 0 else (8, 19)
        body = order_payload(
            service_level="scheduled",
            service_date=str(tomorrow()),
            windows=[{"start": at(start), "end": at(end)}],
            merchant_reference=f"PORTO-{100 + i}",
        )
        body["address"] |= {
            "line1": f"Rua de Exemplo {10 + i}",
            "lat": DEPOT[0] + 0.004 * ((i % 4) - 1.5),
            "lon": DEPOT[1] + 0.005 * ((i // 4) - 1),
        }
        created = merchant.post("/v1/orders", json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


def log_in(page: Page, server: LiveServer, path: str, email: str) -> None:
    page.goto(f"{server.url}{path}")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")


def user_email(server: LiveServer, tenant: Tenant, role: Role) -> str:
    with server.db.unit_of_work(readonly=True) as session:
        return session.scalars(
            select(User.email).where(
                User.organization_id == tenant.organization_id, User.role == role
            )
        ).one()


def board(server: LiveServer, tenant: Tenant) -> dict[str, Any]:
    staff = server.client(tenant.tokens["dispatcher"])
    got = staff.get("/v1/dispatch/board", params={"date": str(tomorrow())})
    assert got.status_code == 200, got.text
    result: dict[str, Any] = got.json()
    return result


def report_fix(
    server: LiveServer, tenant: Tenant, vehicle_id: str, lat: float, lon: float, ago_s: int
) -> None:
    """A position from a staff gateway naming the vehicle (as a telematics box would)."""
    t = datetime.now(UTC) - timedelta(seconds=ago_s)
    fix = {"t": t.isoformat(), "lat": lat, "lon": lon, "speed": 9.0, "heading": 10.0}
    sent = server.client(tenant.tokens["dispatcher"]).post(
        "/v1/positions", json={"vehicle_id": vehicle_id, "fixes": [fix]}
    )
    assert sent.status_code == 200, sent.text
    assert not sent.json()["refused"], sent.text


def make_at_risk(server: LiveServer, tenant: Tenant, stop_id: str) -> None:
    """What the tracking processor does when a stop's ETA slides past its promise: write the
    late ETA window and flag the stop, then tell the fleet stream."""
    with server.db.unit_of_work() as session:
        stop = session.get(RouteStop, stop_id)
        assert stop is not None
        order = session.get(Order, stop.order_ids[0])
        assert order is not None
        promised_end = order.windows[0].ends_at
        stop.eta_earliest = promised_end + timedelta(minutes=5)
        stop.eta_expected = promised_end + timedelta(minutes=15)
        stop.eta_latest = promised_end + timedelta(minutes=30)
        stop.at_risk = True
        route_id, order_ids = stop.route_id, list(stop.order_ids)
    event = LiveEvent("at_risk", {"route_id": route_id, "stop_id": stop_id,
                                  "order_ids": order_ids, "at_risk": True})  # fmt: skip
    server.app.state.services.broker.publish(fleet_channel(tenant.organization_id), event)


def test_dispatcher_plans_commits_follows_and_moves_a_stop(
    live_server: LiveServer, desktop: BrowserContext
) -> None:
    """Plan, compare and commit tomorrow; a reported position moves the vehicle's marker live;
    an at-risk stop appears in the inbox and moves to another vehicle after a passing check."""
    tenant = make_tenant(live_server.db, "Porto Express")
    order_ids = seed_city(live_server, tenant)
    staff = live_server.client(tenant.tokens["dispatcher"])
    page = desktop.new_page()
    errors = console_errors(page)

    log_in(page, live_server, f"/dashboard/planning?date={tomorrow()}",
           user_email(live_server, tenant, Role.dispatcher))  # fmt: skip
    expect(page.locator("#plan-orders tr")).to_have_count(ORDERS)
    expect(page.locator("#plan-selected")).to_have_text(f"{ORDERS} of {ORDERS}")
    page.select_option("#plan-budget", "3")
    page.click("#plan-run")
    expect(page.locator("#compare")).to_be_visible(timeout=60_000)
    expect(page.locator("#plan-progress")).to_have_attribute("aria-valuenow", "100")
    orders_row = page.locator('#compare-body tr[data-measure="orders"] td')
    expect(orders_row.nth(0)).to_have_text("0")  # nothing committed yet
    expect(orders_row.nth(1)).to_have_text(str(ORDERS))
    expect(page.locator('#compare-body tr[data-measure="vehicles"] td').nth(1)).to_have_text("3")
    page.click("#plan-commit")
    expect(page.locator("#board .board-row")).to_have_count(3)
    for order_id in order_ids:
        assert staff.get(f"/v1/orders/{order_id}").json()["status"] == "dispatched"

    page.goto(f"{live_server.url}/dashboard?date={tomorrow()}")
    expect(page.locator("#board .board-row")).to_have_count(3)
    expect(page.locator("#live")).to_have_attribute("data-live", "open")
    routes = sorted(board(live_server, tenant)["routes"], key=lambda r: r["stops_total"])

    # A vehicle reports twice: its marker appears, then glides to the new place.
    moving = routes[-1]["vehicle"]["id"]
    report_fix(live_server, tenant, moving, DEPOT[0], DEPOT[1], ago_s=30)
    marker = page.locator(f'.vehicle-marker[data-vehicle="{moving}"]')
    expect(marker).to_have_attribute("data-lat", str(DEPOT[0]))
    report_fix(live_server, tenant, moving, DEPOT[0] + 0.002, DEPOT[1] + 0.001, ago_s=5)
    expect(marker).to_have_attribute("data-lat", str(DEPOT[0] + 0.002))
    expect(marker).to_have_attribute("data-status", "moving")

    # A stop of the busiest other route turns at risk; the inbox shows it without a reload.
    source, target = routes[1], routes[0]
    stop = next(s for s in source["stops"] if s["kind"] == "stop")
    make_at_risk(live_server, tenant, stop["stop_id"])
    item = page.locator(
        f'.inbox-item[data-kind="at_risk"]:has-text("{stop["orders"][0]["reference"]}")'
    )
    expect(item).to_be_visible()
    item.locator('button[data-action="move_stop"]').click()
    expect(page.locator("#move-dialog")).to_be_visible()
    page.select_option("#move-target", target["route_id"])
    expect(page.locator('#move-check [data-feasible="true"]')).to_be_visible()
    page.click("#move-confirm")
    expect(page.locator("#move-dialog")).to_be_hidden()
    moved_order = stop["orders"][0]["order_id"]
    expect(
        page.locator(f'.board-row[data-route="{target["route_id"]}"] .board-stop')
    ).to_have_count(target["stops_total"] + 1)
    order = staff.get(f"/v1/orders/{moved_order}").json()
    assert order["route_id"] == target["route_id"]
    assert order["vehicle_id"] == target["vehicle"]["id"]
    after = {r["route_id"]: r for r in board(live_server, tenant)["routes"]}
    assert after[source["route_id"]]["stops_total"] == source["stops_total"] - 1
    assert after[target["route_id"]]["stops_total"] == target["stops_total"] + 1

    # From the console's navigation to the reports, and a CSV download (H8's page).
    page.click('#console-nav a[data-nav="reports"]')
    expect(page).to_have_url(f"{live_server.url}/dashboard/reports")
    expect(page.locator("#download-csv")).to_be_enabled()
    with page.expect_download() as download_info:
        page.click("#download-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    header = Path(download.path()).read_text(encoding="utf-8").splitlines()[0]
    assert "," in header
    assert not errors, errors


def test_drivers_and_merchants_get_the_not_allowed_screen(
    live_server: LiveServer, desktop: BrowserContext
) -> None:
    """A driver who logs in, and a merchant's API key used as the console token, both see the
    "not allowed" screen and none of the console."""
    tenant = make_tenant(live_server.db, "Porto Express")
    page = desktop.new_page()
    log_in(page, live_server, "/dashboard", user_email(live_server, tenant, Role.driver))
    expect(page.locator("#screen-denied")).to_be_visible()
    expect(page.locator("#denied-text")).to_contain_text("logged in as a driver")
    expect(page.locator("#screen-app")).to_be_hidden()
    expect(page.locator("#console-nav")).to_be_hidden()

    page.evaluate(
        "([token, user]) => { localStorage.setItem('lastmile.console.token', token);"
        " localStorage.setItem('lastmile.console.user', user); }",
        [tenant.tokens["merchant"], '{"access": "merchant"}'],
    )
    page.goto(f"{live_server.url}/dashboard/planning")
    expect(page.locator("#screen-denied")).to_be_visible()
    expect(page.locator("#denied-text")).to_contain_text("logged in as a merchant")
    expect(page.locator("#screen-app")).to_be_hidden()

    page.click("#denied-logout")
    expect(page.locator("#screen-login")).to_be_visible()


def test_demo_day_under_way(live_server: LiveServer, desktop: BrowserContext) -> None:
    """The Porto demo day, planned and under way: every route is on the board, every driving
    vehicle on the map, done stops show as done; the screenshot in docs/ is taken here."""
    services = live_server.app.state.services
    now = utcnow()
    service_date, day_start_h = live_day(now, lead_h=3.5)  # a morning well under way
    city = generate_city(service_date, seed=7, day_start_h=day_start_h, drivers=12, lockers=8)
    city.orders = generate_orders(city, 400, seed=8, now=now)
    logins = load_city(live_server.db, services, city)
    request = PlanRequest(service_date=service_date, time_limit_s=4, seed=7)
    solve = SolveSettings(None, live_server.app.state.settings.data_dir / "cache", 1)
    planned = plan_day(live_server.db, services, solve, logins.organization_id, request)
    assert planned.routes >= 4, planned
    # The simulated fleet catches up with the plan: stops due by now are done, vehicles placed.
    plans = load_route_plans(live_server.db, logins.organization_id)
    started = utcnow()
    simulator = FleetSimulator(
        live_server.db, live_server.app.state.tracking, services, logins.organization_id,
        plans, seed=7, clock=lambda: started,
    )  # fmt: skip
    first = simulator.tick()
    # Exactly the stops the plan has left by now are done (none yet in the small hours, when
    # the demo day can only start at midnight).
    due = sum(1 for p in plans for stop in p.stops if stop.departure <= started.timestamp())
    assert first.stops_done == due, first

    page = desktop.new_page()
    errors = console_errors(page)
    page.goto(f"{live_server.url}/dashboard")
    page.fill("#login-email", logins.users["dispatcher"])
    page.fill("#login-password", logins.password)
    page.click("#login-submit")
    expect(page.locator("#board .board-row")).to_have_count(planned.routes)
    expect(page.locator('#board .board-stop[data-state="departed"]')).to_have_count(
        first.stops_done
    )
    expect(page.locator(".vehicle-marker")).to_have_count(first.accepted)
    expect(page.locator("#live")).to_have_attribute("data-live", "open")
    marker = page.locator(".vehicle-marker").first
    before = marker.get_attribute("data-lat")
    simulator.tick(utcnow() + timedelta(seconds=20))
    expect(marker).not_to_have_attribute("data-lat", before or "")
    page.wait_for_timeout(1_000)  # let the markers finish gliding for the picture
    if UPDATE_SCREENSHOTS:
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert not errors, errors


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/planning"])
def test_console_pages_are_data_free_shells_under_a_strict_policy(
    live_server: LiveServer, path: str
) -> None:
    """A console page needs no login, carries no inline script or style, loads only our own
    assets and forbids framing; everything it shows comes from the API after login."""
    response = live_server.client().get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    html = response.text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " style=" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(a.startswith(("/", "#")) for a in assets), assets
    # The shell comes in through the page module's import only: a tag of its own, under a
    # versioned URL, would be a second module instance (login handled twice).
    assert "dashboard/shell.js" not in html
    for asset in assets:
        if asset.startswith("/static/"):
            assert live_server.client().get(asset).status_code == 200, asset
