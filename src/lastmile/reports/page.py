"""The report page ``/dashboard/reports``: a console page whose script reads the report API.

The HTML holds no figures; after the dispatcher logs in (the console's shell) the script
fetches the summary, the SVG plots (inlined, so they can be fetched with the bearer token)
and the CSV download.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lastmile.dashboard.page import render_console
from lastmile.deps import SettingsDep

router = APIRouter(include_in_schema=False)


@router.get("/dashboard/reports", response_class=HTMLResponse)
def reports_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """KPIs, plots and the table of a period, grouped by day, hub, vehicle type or driver."""
    return render_console(request, "reports/page.html", "reports", settings)
