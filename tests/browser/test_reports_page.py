"""The report page end to end: a dispatcher logs in, reads two weeks of seeded history as KPIs,
four plots and a table, and downloads the CSV, which matches the API's figures."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from lastmile.auth.models import Role, User
from lastmile.demo.history import seed_history
from lastmile.kit.clock import utcnow
from tests.browser.conftest import LiveServer
from tests.factories import PASSWORD, make_tenant
from tests.reports.builders import seed_fleet

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# LASTMILE_UPDATE_SCREENSHOTS=1 pytest -p no:xdist tests/browser/test_reports_page.py
SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "report.png"
UPDATE_SCREENSHOTS = os.environ.get("LASTMILE_UPDATE_SCREENSHOTS") == "1"
PLOTS = ("on_time", "failure_reasons", "co2_by_vehicle_type", "eta_error")


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page: the console is desktop first."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB",
                                  accept_downloads=True)  # fmt: skip
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_dispatcher_reads_and_downloads_the_report(
    live_server: LiveServer, desk: Page, tmp_path: Path
) -> None:
    """KPIs, the four plots (inlined SVG) and a row per day show; the CSV download is the
    API's CSV for the same period and grouping, and parses to the same figures."""
    tenant = make_tenant(live_server.db, "Porto Express")
    with live_server.client(tenant.tokens["admin"]) as api:
        seed_fleet(api, tenant)
    today = utcnow().astimezone(ZoneInfo("Europe/Lisbon")).date()
    seed_history(live_server.db, tenant.organization_id, days=14, orders_per_day=120,
                 today=today)  # fmt: skip
    first, last = today - timedelta(days=14), today - timedelta(days=1)
    with live_server.db.unit_of_work(readonly=True) as s:
        email = s.scalars(select(User.email).where(
            User.organization_id == tenant.organization_id,
            User.role == Role.dispatcher)).one()  # fmt: skip

    page = desk
    page.goto(f"{live_server.url}/dashboard/reports?from={first}&to={last}&group_by=day")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.locator("#report")).to_have_attribute("data-state", "ready")
    params = {"from": first.isoformat(), "to": last.isoformat(), "group_by": "day"}
    with live_server.client(tenant.tokens["dispatcher"]) as api:
        summary = api.get("/v1/reports/summary", params=params).json()
        expected_csv = api.get("/v1/reports/summary.csv", params=params).text
    totals = summary["totals"]
    expect(page.locator("#kpi-delivered")).to_contain_text(f"{totals['parcels_delivered']:,}")
    expect(page.locator("#kpi-first-attempt")).to_have_text(
        f"{totals['first_attempt_rate'] * 100:.1f} %"
    )
    expect(page.locator("#kpi-on-time")).to_contain_text(f"{totals['on_time_rate'] * 100:.1f} %")
    expect(page.locator("#report-rows tr")).to_have_count(14)
    for name in PLOTS:
        plot = page.locator(f"#plot-{name} svg")
        expect(plot).to_be_visible()
        expect(plot.locator("title").first).not_to_be_empty()
    expect(page.locator("#plot-failure_reasons")).to_contain_text("Not at home")
    expect(page.locator("#plot-co2_by_vehicle_type")).to_contain_text("Cargo bike")

    shot = SCREENSHOT if UPDATE_SCREENSHOTS else tmp_path / SCREENSHOT.name
    page.screenshot(path=str(shot), full_page=True)

    with page.expect_download() as info:
        page.locator("#download-csv").click()
    download = info.value
    assert download.suggested_filename == f"lastmile-report-day-{first}-{last}.csv"
    saved = tmp_path / "report.csv"
    download.save_as(saved)
    content = saved.read_bytes().decode("utf-8")  # as sent: CRLF line ends
    assert content == expected_csv
    rows = list(csv.DictReader(io.StringIO(content, newline="")))
    assert [row["key"] for row in rows[:-1]] == [row["key"] for row in summary["rows"]]
    assert int(rows[-1]["parcels_delivered"]) == totals["parcels_delivered"]

    # Another grouping from the form re-reads the report; the URL keeps the choice.
    page.locator("#report-group").select_option("vehicle_type")
    page.locator("#report-apply").click()
    expect(page.locator("#table-group")).to_have_text("vehicle type")
    expect(page.locator("#report-rows tr")).to_have_count(3)
    assert "group_by=vehicle_type" in page.url
