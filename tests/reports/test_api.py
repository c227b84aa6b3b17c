"""The report API on seeded days, on SQLite and PostgreSQL: the SQL aggregates agree with the
reference computed order by order, the CSV and SVGs carry the same figures, only staff may
read reports, and bad periods are refused."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import asdict
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.db.engine import Database
from lastmile.fleet.models import Driver
from lastmile.reports.export import COLUMNS
from lastmile.reports.metrics import GroupMetrics, ReportData, overall, summarize
from lastmile.reports.schemas import GroupBy, PlotName
from tests.factories import Tenant
from tests.helpers import assert_problem
from tests.reports.builders import FIRST, LAST, reference, seed_days

GRID_G = 229.0  # the default grid factor, in g per kWh
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def seeded(client: TestClient, database: Database, tenant: Tenant) -> Tenant:
    seed_days(client, database, tenant)
    return tenant


def _canonical(data: ReportData) -> ReportData:
    """The same rows in one order, so float sums add up in the same order on both sides."""
    return ReportData(
        sorted(data.orders, key=repr), sorted(data.routes, key=repr),
        sorted(data.reasons, key=repr), sorted(data.ratings, key=repr),
        sorted(data.delays, key=repr),
    )  # fmt: skip


def _fields(metrics: GroupMetrics) -> dict[str, object]:
    return {k: v for k, v in asdict(metrics).items() if k not in ("key", "failure_reasons")}


@pytest.mark.parametrize("group_by", list(GroupBy))
def test_sql_aggregates_match_the_reference(
    client: TestClient, database: Database, seeded: Tenant, group_by: GroupBy
) -> None:
    """Every figure of every group and of the totals equals the core's report over rows built
    one order at a time from the ORM (the twists included: re-attempt, reschedule, open)."""
    data = _canonical(reference(database, seeded.organization_id, group_by, FIRST, LAST))
    expected = {g.key: g for g in summarize(data, GRID_G)}
    response = client.get("/v1/reports/summary", params=PERIOD | {"group_by": group_by.value},
                          headers=seeded.headers("dispatcher"))  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["group_by"]) == (*PERIOD.values(), group_by.value)
    assert {row["key"] for row in body["rows"]} == set(expected)
    for row in body["rows"] + [body["totals"] | {"key": "totals"}]:
        want = overall(data, GRID_G) if row["key"] == "totals" else expected[row["key"]]
        for name, value in _fields(want).items():
            assert row[name] == value, (group_by, row["key"], name)
        assert {k: v for k, v in row["failure_reasons"].items() if v} == want.failure_reasons
    totals = body["totals"]
    assert totals["orders"] > 80
    assert totals["failed"] > 0
    assert totals["ratings"] > 0
    assert 0 < totals["first_attempt_rate"] < 1
    assert totals["on_time_basis"] > 0
    assert totals["routes"] >= 9


def test_groups_are_labelled(client: TestClient, seeded: Tenant) -> None:
    """Vehicle types, drivers and hubs read as names, not ids; days as the ISO day."""
    labels = {}
    for group_by in GroupBy:
        body = client.get("/v1/reports/summary", params=PERIOD | {"group_by": group_by.value},
                          headers=seeded.headers("admin")).json()  # fmt: skip
        labels[group_by] = {row["label"] for row in body["rows"]}
    assert labels[GroupBy.vehicle_type] == {"Diesel van", "Electric van", "Cargo bike"}
    assert labels[GroupBy.day] == {(FIRST + timedelta(days=i)).isoformat() for i in range(3)}
    assert {"Ana Lopes", "Rui Sousa", "Dee River"} == labels[GroupBy.driver]
    assert labels[GroupBy.hub] == {"Main depot", "North hub"}


def test_csv_parses_back_to_the_summary(client: TestClient, seeded: Tenant) -> None:
    """The CSV is an attachment whose rows parse back (csv module) to the JSON's figures."""
    params = PERIOD | {"group_by": "driver"}
    headers = seeded.headers("dispatcher")
    body = client.get("/v1/reports/summary", params=params, headers=headers).json()
    response = client.get("/v1/reports/summary.csv", params=params, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="lastmile-report-driver-{FIRST}-{LAST}.csv"'
    )
    assert response.text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == len(body["rows"]) + 1
    for row, want in zip(rows, [*body["rows"], body["totals"]], strict=True):
        assert row["label"] == want["label"]
        assert row["key"] == (want["key"] or "")
        for name in ("orders", "delivered", "parcels_delivered", "km", "cost", "co2_kg",
                     "first_attempt_rate", "on_time_rate", "rating_mean"):  # fmt: skip
            assert (float(row[name]) if row[name] else None) == want[name], name
        assert int(row["failed_not_home"]) == want["failure_reasons"]["not_home"]


def test_csv_quotes_and_defuses_names(
    client: TestClient, seeded: Tenant, database: Database
) -> None:
    """A name with a comma and quotes survives the round trip; one starting like a formula is
    written as text (a leading apostrophe), so a spreadsheet does not run it."""
    with database.unit_of_work() as s:
        s.execute(update(Driver).where(Driver.name == "Ana Lopes").values(name='Lopes, "Ana"'))
        s.execute(update(Driver).where(Driver.name == "Rui Sousa").values(name="=HYPERLINK(1)"))
    response = client.get("/v1/reports/summary.csv", params=PERIOD | {"group_by": "driver"},
                          headers=seeded.headers("dispatcher"))  # fmt: skip
    labels = [row["label"] for row in csv.DictReader(io.StringIO(response.text))]
    assert 'Lopes, "Ana"' in labels
    assert "'=HYPERLINK(1)" in labels


@pytest.mark.parametrize("name", list(PlotName))
def test_plots_are_svg_with_their_data(client: TestClient, seeded: Tenant, name: PlotName) -> None:
    """Each plot is well-formed SVG with a title and description and the period's figures."""
    headers = seeded.headers("dispatcher")
    response = client.get(f"/v1/reports/plots/{name.value}.svg", params=PERIOD, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "private, no-store"
    root = ET.fromstring(response.text)
    assert root.find(f"{NS}title") is not None
    assert root.find(f"{NS}desc") is not None
    text = " ".join("".join(el.itertext()) for el in root.iter())
    summary = client.get("/v1/reports/summary", params=PERIOD | {"group_by": "vehicle_type"},
                         headers=headers).json()  # fmt: skip
    totals = summary["totals"]
    if name is PlotName.on_time:
        assert f"{FIRST.day} {FIRST:%b}" in text
        assert f"{LAST.day} {LAST:%b}" in text
        assert f"{totals['on_time_rate'] * 100:.1f} %" in text
    elif name is PlotName.failure_reasons:
        assert f"Not at home {totals['failure_reasons']['not_home']}" in text
    elif name is PlotName.co2_by_vehicle_type:
        for row in summary["rows"]:
            assert f"{row['label']}: {row['co2_kg']:,.1f} kg" in text
    else:
        assert f"median {totals['arrival_delay_median_min']:+.0f} min" in text


@pytest.mark.parametrize("who", ["driver", "merchant"])
@pytest.mark.parametrize(
    "path", ["/v1/reports/summary", "/v1/reports/summary.csv", "/v1/reports/plots/on_time.svg"]
)
def test_drivers_and_merchants_are_refused(
    client: TestClient, seeded: Tenant, who: str, path: str
) -> None:
    """Reports are for staff: a driver or a merchant gets 403, without a credential 401."""
    assert_problem(client.get(path, params=PERIOD, headers=seeded.headers(who)), 403)
    assert_problem(client.get(path, params=PERIOD), 401)


def test_other_tenants_see_nothing_of_ours(
    client: TestClient, seeded: Tenant, other_tenant: Tenant
) -> None:
    """Another organization's report of the same days is empty."""
    body = client.get("/v1/reports/summary", params=PERIOD,
                      headers=other_tenant.headers("admin")).json()  # fmt: skip
    assert body["rows"] == []
    assert body["totals"]["orders"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "2024-05-10", "to": "2024-05-09"}, "query.to"),
     ({"from": "2023-05-09", "to": "2024-05-09"}, "query.from"),
     ({"from": "2024-05-32"}, "query.from"),
     ({"to": "yesterday"}, "query.to"),
     ({"group_by": "merchant"}, "query.group_by")],
)  # fmt: skip
def test_bad_periods_are_refused(
    client: TestClient, tenant: Tenant, params: dict[str, str], field: str
) -> None:
    """to before from, more than 366 days, a bad date or grouping: 422 naming the field."""
    for path in (
        "/v1/reports/summary",
        "/v1/reports/summary.csv",
        "/v1/reports/plots/eta_error.svg",
    ):
        if field == "query.group_by" and "plots" in path:
            continue
        assert_problem(client.get(path, params=params, headers=tenant.headers("admin")), 422, field)


def test_unknown_plot_is_refused(client: TestClient, tenant: Tenant) -> None:
    """A plot that does not exist is a 422 naming it."""
    response = client.get("/v1/reports/plots/pie.svg", headers=tenant.headers("admin"))
    assert_problem(response, 422, "path.name")


def test_a_full_year_is_allowed_and_the_default_is_two_weeks(
    client: TestClient, tenant: Tenant
) -> None:
    """366 days is the most; without dates the report covers the 14 days up to today."""
    year = {"from": "2023-05-10", "to": "2024-05-09"}
    response = client.get("/v1/reports/summary", params=year, headers=tenant.headers("admin"))
    assert response.status_code == 200, response.text
    body = client.get("/v1/reports/summary", headers=tenant.headers("admin")).json()
    first, last = date.fromisoformat(body["from"]), date.fromisoformat(body["to"])
    assert (last - first).days == 13


def test_report_page_is_a_console_page(client: TestClient) -> None:
    """/dashboard/reports serves the shell under the console's strict policy, no data."""
    response = client.get("/dashboard/reports")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert 'id="download-csv"' in response.text
    assert "reports/reports.js" in response.text
