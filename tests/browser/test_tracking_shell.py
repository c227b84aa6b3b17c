"""The tracking page against a scripted API: the real shell and assets, the data faked.

``GET /v1/tracking/{token}`` is intercepted with snapshots built here and ``EventSource`` is
replaced by a stub the test drives, so each live event's effect is checked on its own.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, Route, expect

from lastmile.auth.principal import Access, Principal
from lastmile.tracking.links import issue_link
from tests.browser.conftest import LiveServer
from tests.factories import make_tenant, order_payload

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LISBON = ZoneInfo("Europe/Lisbon")

# Replaces EventSource before the page's scripts run; the test calls emit() on it.
FAKE_EVENT_SOURCE = """
window.__sources = [];
window.EventSource = class extends EventTarget {
  static CONNECTING = 0; static OPEN = 1; static CLOSED = 2;
  constructor(url) {
    super(); this.url = url; this.readyState = 0; window.__sources.push(this);
    setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event('open')); }, 0);
  }
  close() { this.readyState = 2; }
  emit(type, data) { this.dispatchEvent(new MessageEvent(type, {data: JSON.stringify(data)})); }
};
"""

DRIVER_POSITION = """() => {
  const el = document.querySelector('.pin--driver');
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return {lat: Number(el.dataset.lat), lon: Number(el.dataset.lon), x: r.x, y: r.y};
}"""


def _tomorrow(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _local(at: datetime) -> str:
    return at.astimezone(LISBON).strftime("%H:%M")


DESTINATION = (41.1496, -8.6067)
PATH = [[41.1400, -8.6110], [41.1430, -8.6095], [41.1460, -8.6080], [41.1496, -8.6067]]


def snapshot(*, driver: bool) -> dict[str, Any]:
    """A ``GET /v1/tracking/{token}`` body: out for delivery, three stops before this one."""
    order = {
        "id": "ord_test",
        "reference": "A-1001",
        "status": "out_for_delivery",
        "merchant": "Livraria Norte",
        "delivery_method": "safe_place",
        "safe_place": "porch",
        "safe_place_note": "Behind the blue planter",
        "instructions": "Ring twice",
        "signature_required": False,
        "age_check": True,
        "promised_window": {"starts_at": _iso(_tomorrow(13)), "ends_at": _iso(_tomorrow(15))},
        "destination": {"lat": DESTINATION[0], "lon": DESTINATION[1], "label": "Rua Formosa 10"},
    }
    eta = {
        "expected": _tomorrow(13, 25),
        "earliest": _tomorrow(13, 10),
        "latest": _tomorrow(13, 40),
    }
    ana = {"name": "Ana", "vehicle_type": "cargo_bike", "lat": PATH[0][0], "lon": PATH[0][1],
           "heading": 20.0, "at": _iso(_tomorrow(13))}  # fmt: skip
    return {
        "order": order,
        "timezone": "Europe/Lisbon",
        "eta": {k: _iso(v) for k, v in eta.items()} | {"at_risk": False},
        "stops_before": 0 if driver else 3,
        "driver": ana if driver else None,
        "path": PATH if driver else None,
        "timeline": [
            {"at": _iso(_tomorrow(8)), "status": "dispatched", "label": "Ready for dispatch"},
            {"at": _iso(_tomorrow(9)), "status": "out_for_delivery", "label": "Out for delivery"},
        ],
        "live_url": "/v1/live/orders/ord_test?token=t",
        "tiles": {"url": None, "attribution": None},
    }


@pytest.fixture
def token(live_server: LiveServer) -> str:
    """A real tracking link (the shell checks it); its order's data is faked in the browser."""
    tenant = make_tenant(live_server.db, "Livraria Norte")
    with live_server.client(tenant.tokens["merchant"]) as http:
        order = http.post("/v1/orders", json=order_payload())
        assert order.status_code == 201, order.text
    admin = Principal(tenant.organization_id, Access.admin, system="tests")
    with live_server.db.unit_of_work() as session:
        return issue_link(session, admin, order.json()["id"], timedelta(days=1)).token


def test_live_events_update_the_page_without_reload(
    live_server: LiveServer, page: Page, page_errors: list[str], token: str
) -> None:
    """Live events move the driver marker, change the ETA text and status in place."""
    state = {"driver": False}
    fetches: list[str] = []

    def api(route: Route) -> None:
        fetches.append(route.request.url)
        route.fulfill(json=snapshot(driver=state["driver"]))

    page.route("**/v1/tracking/*", api)
    page.add_init_script(FAKE_EVENT_SOURCE)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(f"{live_server.url}/t/{token}")
    assert response is not None
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"

    # Before the driver heads here: the window and the queue, no driver on the map.
    window = f"between {_local(_tomorrow(13, 10))} and {_local(_tomorrow(13, 40))}"
    expect(page.locator("#headline")).to_have_text(f"Arriving tomorrow {window}")
    expect(page.locator("#stops-chip")).to_have_text("3 stops before yours")
    expect(page.locator("#subline")).to_have_text(f"Expected around {_local(_tomorrow(13, 25))}")
    expect(page.locator("#merchant")).to_have_text("Livraria Norte")
    expect(page.locator("#prefs")).to_contain_text("Behind the blue planter")
    expect(page.locator("#prefs")).to_contain_text("photo ID")
    expect(page.locator("#timeline li")).to_have_count(3)  # two done, "Delivered" to come
    expect(page.locator("#map")).to_have_class(re.compile(r"\bmap--offline\b"))  # no tile URL
    expect(page.locator(".pin--home")).to_have_count(1)
    expect(page.locator(".pin--driver")).to_have_count(0)
    expect(page.locator("#eta")).to_have_attribute("aria-live", "polite")
    page.wait_for_function("() => window.__sources.length === 1 && __sources[0].readyState === 1")
    expect(page.locator("#live")).to_have_attribute("data-live", "open")
    page.evaluate("() => { window.__sameDocument = true; }")

    # The driver turns towards this stop: the page fetches the snapshot with driver and path.
    state["driver"] = True
    page.evaluate("() => __sources[0].emit('visibility', {driver: true})")
    expect(page.locator(".pin--driver")).to_have_count(1)
    expect(page.locator("#driver-name")).to_have_text("Ana")
    expect(page.locator("#stops-chip")).to_have_text("You are the next stop")
    expect(page.locator("path.route-line")).to_have_count(1)
    before = page.evaluate(DRIVER_POSITION)
    assert (before["lat"], before["lon"]) == tuple(PATH[0])

    # A fix further along the path: the marker glides north on screen.
    page.evaluate(
        "(p) => __sources[0].emit('position', p)",
        {"lat": PATH[2][0], "lon": PATH[2][1], "heading": 15.0, "at": _iso(_tomorrow(13, 5))},
    )
    page.wait_for_function(
        f"([y]) => {{ const p = ({DRIVER_POSITION})(); return p && p.y < y - 20; }}",
        arg=[before["y"]],
    )
    after = page.evaluate(DRIVER_POSITION)
    assert (after["lat"], after["lon"]) == tuple(PATH[2])

    # A new ETA replaces the window text in the live region.
    eta = {"expected": _tomorrow(13, 50), "earliest": _tomorrow(13, 40),
           "latest": _tomorrow(14, 5)}  # fmt: skip
    page.evaluate(
        "(e) => __sources[0].emit('eta', e)",
        {k: _iso(v) for k, v in eta.items()} | {"at_risk": True, "stops_before": 0},
    )
    expect(page.locator("#headline")).to_have_text(
        f"Arriving tomorrow between {_local(eta['earliest'])} and {_local(eta['latest'])}"
    )
    expect(page.locator("#risk-chip")).to_be_visible()

    # The driver is no longer headed here: the marker goes; then the order is delivered.
    page.evaluate("() => __sources[0].emit('visibility', {driver: false})")
    expect(page.locator(".pin--driver")).to_have_count(0)
    page.evaluate(
        "(s) => __sources[0].emit('status', s)",
        {"status": "delivered", "at": _iso(_tomorrow(13, 52)), "label": "Delivered"},
    )
    expect(page.locator("#headline")).to_have_text("Delivered")
    expect(page.locator("#stops-chip")).to_be_hidden()
    expect(page.locator("#live")).to_have_attribute("data-live", "closed")

    assert page.evaluate("() => window.__sameDocument") is True
    assert len(fetches) == 2  # the first load and the visibility change, nothing else
    assert page_errors == []
    # Works offline: no CDN, web font or tile server; everything from our own origin.
    assert [u for u in requested if not u.startswith((live_server.url, "data:"))] == []


def test_reconnect_refetches_the_snapshot(live_server: LiveServer, page: Page, token: str) -> None:
    """After the live stream drops and reopens, the page asks for the full state again."""
    fetches: list[str] = []

    def api(route: Route) -> None:
        fetches.append(route.request.url)
        route.fulfill(json=snapshot(driver=False))

    page.route("**/v1/tracking/*", api)
    page.add_init_script(FAKE_EVENT_SOURCE)
    page.goto(f"{live_server.url}/t/{token}")
    page.wait_for_function("() => window.__sources.length === 1 && __sources[0].readyState === 1")
    page.evaluate(
        """() => { const s = __sources[0]; s.readyState = 0; s.dispatchEvent(new Event('error'));
                   s.readyState = 1; s.dispatchEvent(new Event('open')); }"""
    )
    page.wait_for_function("() => document.querySelector('#main').dataset.state === 'ready'")
    expect(page.locator("#live")).to_have_attribute("data-live", "open")
    page.wait_for_timeout(200)
    assert len(fetches) == 2


def test_expired_link_while_open_says_so(live_server: LiveServer, page: Page, token: str) -> None:
    """When the API answers 410 the page says the link expired instead of showing stale data."""
    gone = {"type": "urn:lastmile:problem:gone", "title": "Gone", "status": 410, "detail": "x"}
    page.route(
        "**/v1/tracking/*",
        lambda route: route.fulfill(
            status=410, content_type="application/problem+json", body=json.dumps(gone)
        ),
    )
    page.add_init_script(FAKE_EVENT_SOURCE)
    page.goto(f"{live_server.url}/t/{token}")
    expect(page.locator("#headline")).to_have_text("This tracking link has expired")
    expect(page.locator("#main")).to_have_attribute("data-state", "gone")


def test_unknown_token_shows_friendly_404(live_server: LiveServer, page: Page) -> None:
    """An unknown token gets an HTML page (status 404) that explains, not a JSON error."""
    response = page.goto(f"{live_server.url}/t/not-a-real-token")
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_have_text("We can't find this delivery")
    expect(page).to_have_title("Tracking link not found")


# WCAG 2 contrast of every visible text element against the first opaque background behind it.
LOW_CONTRAST = """() => {
  const rgba = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => c.slice(0, 3).map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const backdrop = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] === 1) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll('header *, main *, footer *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || el.closest('.leaflet-container')) continue;
    const [a, b] = [lum(rgba(getComputedStyle(el).color)), lum(backdrop(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) low.push(`${el.tagName}#${el.id}.${el.className} ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def test_page_is_accessible(live_server: LiveServer, page: Page, token: str) -> None:
    """Text meets WCAG AA contrast; landmarks, one h1, labelled map and alt texts are there."""
    page.route("**/v1/tracking/*", lambda route: route.fulfill(json=snapshot(driver=True)))
    page.add_init_script(FAKE_EVENT_SOURCE)
    page.goto(f"{live_server.url}/t/{token}")
    expect(page.locator(".pin--driver")).to_have_count(1)
    assert page.evaluate(LOW_CONTRAST) == []
    expect(page.locator("h1")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("region", name="Map of your delivery")).to_be_visible()
    expect(page.locator("img:not([alt])")).to_have_count(0)
    expect(page.get_by_role("button", name="Zoom in")).to_be_visible()
    assert page.evaluate("() => document.documentElement.lang") == "en-GB"
