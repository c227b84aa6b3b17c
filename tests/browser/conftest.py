"""Browser tests: the real app in uvicorn on a free port, driven by headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``), not Playwright's download, so the tests run
offline. Without it they skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.db.models import Base
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
]
# A phone (iPhone 12-14 size). The browser's own time zone differs from the organisation's
# (Europe/Lisbon) on purpose: the page must show times in the organisation's zone.
PHONE: ViewportSize = {"width": 390, "height": 844}
BROWSER_TIMEZONE = "America/New_York"


def pytest_configure(config: pytest.Config) -> None:
    # xdist registers this marker, but runs with -p no:xdist must accept it too.
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker (loadgroup)")
    # Shared CI machines are slow; a live update that takes 5 s is late, not broken.
    expect.set_options(timeout=10_000)


@dataclass
class LiveServer:
    """The app served over real HTTP, and its database for seeding."""

    url: str
    app: FastAPI
    db: Database

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def _free_socket() -> socket.socket:
    # Binding port 0 and handing uvicorn the socket leaves no window for another process to
    # take the port between choosing and binding it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The real app (SQLite file under tmp_path, offline map) in uvicorn on a background thread."""
    db = Database(f"sqlite:///{tmp_path / 'live.sqlite'}")
    Base.metadata.create_all(db.engine)
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        auto_migrate=False,
        planning_in_process=True,
        planning_workers=1,
        tracking_inline=True,
        tile_url=None,
    )
    app = create_app(settings, database=db)
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2, ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app, db)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        db.dispose()
        assert not thread.is_alive(), "the live server did not stop"


# Package scope: Playwright's sync API keeps an event loop running in the test thread while it
# is open, which would stop other packages' tests (on the same xdist worker) using asyncio.run.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{reason}, but CI=true requires the browser tests")
        pytest.skip(reason)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser profile (no cookies or cache shared between tests)."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id=BROWSER_TIMEZONE,
        reduced_motion="no-preference",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def console_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of ``page`` from now on (CSP violations show up
    here), collected into the returned list."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    return console_errors(page)
