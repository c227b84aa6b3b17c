"""The web layer without a browser: static files, their caching, and the page's headers.

These need no Chromium, so they run (and guard the page's plumbing) everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from lastmile.app import create_app
from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.tracking.links import issue_link
from lastmile.tracking.page import page_headers, tile_source
from tests.factories import make_tenant, order_payload


@pytest.fixture
def web(settings: Settings, sqlite_database: Database) -> Iterator[TestClient]:
    tiles = settings.model_copy(update={"tile_url": "https://{s}.tile.example.org/{z}/{x}/{y}.png"})
    with TestClient(create_app(tiles, database=sqlite_database)) as client:
        yield client


@pytest.fixture
def token(web: TestClient, sqlite_database: Database) -> str:
    tenant = make_tenant(sqlite_database, "Livraria Norte")
    order = web.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    assert order.status_code == 201, order.text
    admin = Principal(tenant.organization_id, Access.admin, system="tests")
    with sqlite_database.unit_of_work() as session:
        return issue_link(session, admin, order.json()["id"], timedelta(days=1)).token


def test_page_assets_are_local_versioned_and_cached_for_good(web: TestClient, token: str) -> None:
    """Every script, style and icon of the page is ours, carries ?v= and may be cached a year."""
    page = web.get(f"/t/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert f'data-api="/v1/tracking/{token}"' in page.text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert {a.split("?")[0].rsplit("/", 1)[-1] for a in assets} >= {
        "leaflet.js", "leaflet.css", "tracking.js", "tracking.css", "icon.svg"}  # fmt: skip
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)  # no CDN
    for asset in assets:
        response = web.get(asset)
        assert response.status_code == 200, asset
        assert "?v=" in asset
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_unversioned_assets_are_revalidated(web: TestClient) -> None:
    """Without ?v= an asset must be revalidated; its ETag then answers 304."""
    first = web.get("/static/tracking.js")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert first.headers["cache-control"] == "public, no-cache"
    again = web.get("/static/tracking.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_leaflet_comes_from_the_wheel(web: TestClient) -> None:
    """Leaflet's script, styles and marker images are served from xstatic-leaflet."""
    for path in ("leaflet.js", "leaflet.css", "images/layers.png"):
        assert web.get(f"/static/vendor/leaflet/{path}").status_code == 200, path
    assert web.get("/static/vendor/leaflet/../../../config.py").status_code == 404
    assert web.get("/static/%2e%2e/tracking/page.py").status_code == 404


def test_unknown_link_gets_the_html_404(web: TestClient) -> None:
    """Unknown tokens get a human page with status 404, never the API's problem+json."""
    response = web.get("/t/not-a-token")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "We can&#39;t find this delivery" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"


def test_csp_admits_only_our_origin_and_the_tile_server(web: TestClient, token: str) -> None:
    """Scripts, styles and requests stay on our origin; images may also come from the tiles."""
    policy = web.get(f"/t/{token}").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data: https://*.tile.example.org"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (None, ""),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://tiles.local:8080/{z}/{x}/{y}.png", "http://tiles.local:8080"),
        ("https://maps-{s}.example.org/{z}/{x}/{y}.png", "https:"),
        ("/tiles/{z}/{x}/{y}.png", ""),
    ],
)
def test_tile_source(url: str | None, source: str) -> None:
    """A tile URL template becomes the narrowest CSP source that still admits it."""
    assert tile_source(url) == source
    assert "img-src 'self' data:" in page_headers(url)["Content-Security-Policy"]
