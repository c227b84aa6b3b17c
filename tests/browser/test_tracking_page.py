"""The customer tracking page end to end: real API, real fixes, real live stream, Chromium.

A driver reports fixes past the earlier stops of a committed route; the customer's page must
keep the driver hidden until the driver heads to their stop, then show the marker, move it
with each fix and update the ETA text, all without reloading.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from lastmile.fleet.models import Driver
from lastmile.orders.models import Order
from lastmile.organizations.models import Merchant
from tests.browser.conftest import LiveServer
from tests.factories import make_tenant, order_payload
from tests.tracking.builders import committed_route

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The documentation's screenshot is rewritten only on request (it differs on every run):
# LASTMILE_UPDATE_SCREENSHOTS=1 pytest -p no:xdist tests/browser -k driver_appears
SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "tracking.png"
UPDATE_SCREENSHOTS = os.environ.get("LASTMILE_UPDATE_SCREENSHOTS") == "1"
LISBON = ZoneInfo("Europe/Lisbon")  # make_tenant's organisation time zone
# Three doorstep stops north-east through Porto's Baixa; the customer's is the last.
STOPS = [(41.1440, -8.6150), (41.1468, -8.6108), (41.1496, -8.6067)]
STEP = timedelta(seconds=15)

DRIVER_MARKER = """() => {
  const el = document.querySelector('.pin--driver');
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return {lat: Number(el.dataset.lat), lon: Number(el.dataset.lon), x: r.x, y: r.y};
}"""


def towards(a: tuple[float, float], b: tuple[float, float], k: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k)


def visit(stop: tuple[float, float], after: tuple[float, float]) -> list[tuple[float, float]]:
    """Fixes that arrive at ``stop`` (45 s inside its geofence) and leave towards ``after``."""
    return [stop] * 4 + [towards(stop, after, 0.35), towards(stop, after, 0.45)]


def fixes(points: list[tuple[float, float]], first: datetime) -> dict[str, Any]:
    body = [
        {"t": (first + STEP * i).isoformat(), "lat": lat, "lon": lon, "accuracy": 5.0,
         "speed": 6.0, "heading": 35.0, "battery": 0.8}
        for i, (lat, lon) in enumerate(points)
    ]  # fmt: skip
    return {"fixes": body}


def window_text(view: dict[str, Any]) -> str:
    """The headline the page must show for the API's ETA window (today, Lisbon time)."""
    eta = view["eta"]
    start, end = (
        datetime.fromisoformat(eta[k]).astimezone(LISBON).strftime("%H:%M")
        for k in ("earliest", "latest")
    )
    return f"Arriving between {start} and {end}"


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


def test_driver_appears_moves_and_eta_updates_live(
    live_server: LiveServer, http: httpx.Client, page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    """Hidden until heading here, then the marker follows fixes and the ETA text updates."""
    db = live_server.db
    tenant = make_tenant(db, "Livraria Norte")
    route = committed_route(http, db, tenant, STOPS)
    mine = route.order_ids[2]
    with db.unit_of_work() as session:  # names a customer would see on a real page
        session.execute(update(Merchant).where(Merchant.id == tenant.merchant_id)
                        .values(name="Livraria Norte"))  # fmt: skip
        session.execute(update(Order).where(Order.id == mine).values(merchant_reference="A-1001"))
        session.execute(update(Driver).where(Driver.id == tenant.driver_id).values(name="Ana"))
    patched = http.patch(
        f"/v1/orders/{mine}",
        json={"instructions": "2nd floor, ring Silva. The lift is on the left."},
        headers=tenant.headers("merchant"),
    )
    assert patched.status_code == 200, patched.text
    link = http.post(f"/v1/orders/{mine}/tracking-links", headers=tenant.headers("merchant"))
    assert link.status_code == 201, link.text
    token = link.json()["token"]

    def view() -> dict[str, Any]:
        response = http.get(f"/v1/tracking/{token}")
        assert response.status_code == 200, response.text
        return cast(dict[str, Any], response.json())

    def drive(points: list[tuple[float, float]], first: datetime) -> None:
        r = http.post("/v1/positions", json=fixes(points, first), headers=tenant.headers("driver"))
        assert r.status_code == 200, r.text
        assert r.json()["refused"] == [], r.text

    response = page.goto(f"{live_server.url}/t/{token}")
    assert response is not None
    assert response.status == 200
    expect(page.locator("#stops-chip")).to_have_text("2 stops before yours")
    planned = window_text(view())  # the plan's time, half an hour either side
    expect(page.locator("#headline")).to_have_text(planned)
    expect(page.locator("#prefs")).to_contain_text("ring Silva")
    expect(page.locator("#live")).to_have_attribute("data-live", "open")
    expect(page.locator(".pin--driver")).to_have_count(0)
    page.evaluate("() => { window.__sameDocument = true; }")

    # Past the first stop: one stop still before this one, so the driver stays hidden.
    start = datetime.now(UTC) - STEP * 16
    first_leg = [towards((41.15, -8.61), STOPS[0], 0.6), *visit(STOPS[0], STOPS[1])]
    drive(first_leg, start)
    expect(page.locator("#stops-chip")).to_have_text("1 stop before yours")
    assert view()["driver"] is None
    expect(page.locator(".pin--driver")).to_have_count(0)

    # Past the second stop: the driver heads here, the marker appears where they are.
    second_leg = visit(STOPS[1], STOPS[2])
    drive(second_leg, start + STEP * len(first_leg))
    expect(page.locator("#stops-chip")).to_have_text("You are the next stop")
    expect(page.locator(".pin--driver")).to_have_count(1)
    expect(page.locator("path.route-line")).to_have_count(1)
    current = view()
    assert current["driver"] is not None
    expect(page.locator("#headline")).to_have_text(window_text(current))
    assert window_text(current) != planned  # the tracked ETA replaced the planned one
    last = second_leg[-1]
    page.wait_for_function(f"([lat]) => ({DRIVER_MARKER})()?.lat === lat", arg=[last[0]])
    page.wait_for_timeout(1000)  # let the marker finish gliding
    before = page.evaluate(DRIVER_MARKER)

    # One more fix, closer: the marker moves north-east on screen.
    closer = towards(STOPS[1], STOPS[2], 0.75)
    drive([closer], datetime.now(UTC) - timedelta(seconds=1))
    page.wait_for_function(
        f"([x, y]) => {{ const p = ({DRIVER_MARKER})(); return p && p.y < y - 10 && p.x > x; }}",
        arg=[before["x"], before["y"]],
    )
    after = page.evaluate(DRIVER_MARKER)
    assert (after["lat"], after["lon"]) == pytest.approx(closer)
    expect(page.locator("#headline")).to_have_text(window_text(view()))
    assert page.evaluate("() => window.__sameDocument") is True

    page.wait_for_timeout(1000)
    shot = SCREENSHOT if UPDATE_SCREENSHOTS else tmp_path / SCREENSHOT.name
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert page_errors == []


def test_revoked_link_shows_the_friendly_page(live_server: LiveServer, page: Page) -> None:
    """A withdrawn link opens the explanatory HTML page with status 404, not the tracker."""
    tenant = make_tenant(live_server.db, "Livraria Norte")
    with live_server.client(tenant.tokens["merchant"]) as http:
        route_order = http.post("/v1/orders", json=order_payload()).json()["id"]
        link = http.post(f"/v1/orders/{route_order}/tracking-links").json()
        assert http.delete(f"/v1/tracking-links/{link['id']}").status_code == 200
    response = page.goto(f"{live_server.url}/t/{link['token']}")
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("This tracking link has expired")
