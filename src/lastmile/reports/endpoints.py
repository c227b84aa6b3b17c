"""HTTP routes for the operations reports (staff only): summary as JSON or CSV, and plots."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from lastmile.auth.principal import STAFF, Principal
from lastmile.deps import SessionDep, SettingsDep, require
from lastmile.reports.export import csv_filename, summary_csv
from lastmile.reports.schemas import GroupBy, PlotName, ReportSummary
from lastmile.reports.service import Period, ReportService

router = APIRouter(tags=["reports"])
Staff = Annotated[Principal, Depends(require(*STAFF))]

# Figures about the business: never kept by shared caches or the browser's disk cache.
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _reports(session: SessionDep, settings: SettingsDep, principal: Staff) -> ReportService:
    return ReportService(session, principal, settings)


Reports = Annotated[ReportService, Depends(_reports)]


def _period(
    svc: Reports,
    first: Annotated[
        date | None,
        Query(alias="from", description="First day, inclusive (default: 13 days before 'to')."),
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="Last day, inclusive (default: today).")
    ] = None,
) -> Period:
    return svc.period(first, last)


Days = Annotated[Period, Depends(_period)]


@router.get("/v1/reports/summary", response_model=ReportSummary)
def report_summary(svc: Reports, period: Days, group_by: GroupBy = GroupBy.day) -> ReportSummary:
    """Parcels delivered, first-attempt and on-time rates, failure reasons, km, driving hours,
    cost and CO2e per parcel, EV and bike share, rating and arrival against plan, per day,
    hub, vehicle type or driver, with totals. At most 366 days; see docs/reports.md."""
    return svc.summary(period, group_by)


@router.get(
    "/v1/reports/summary.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The summary as CSV."}},
)
def report_csv(svc: Reports, period: Days, group_by: GroupBy = GroupBy.day) -> Response:
    """The summary as an RFC 4180 CSV download: one row per group, then the totals."""
    summary = svc.summary(period, group_by)
    disposition = f'attachment; filename="{csv_filename(summary)}"'
    return Response(
        summary_csv(summary),
        media_type="text/csv; charset=utf-8",
        headers=PRIVATE | {"Content-Disposition": disposition},
    )


@router.get(
    "/v1/reports/plots/{name}.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "An SVG chart."}},
)
def report_plot(name: PlotName, svc: Reports, period: Days) -> Response:
    """A chart of the period: `on_time` (on-time and first-attempt rate per day),
    `failure_reasons`, `co2_by_vehicle_type`, `eta_error` (arrival minus planned arrival)."""
    return Response(
        svc.plot(name, period),
        media_type="image/svg+xml",
        headers=PRIVATE | {"Content-Security-Policy": "default-src 'none'"},
    )
