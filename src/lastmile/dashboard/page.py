"""Page routes of the dispatcher console: live operations and planning.

Other console pages (reports) extend ``templates/dashboard/layout.html`` and answer with
:func:`console_headers`, so every page of the console shares one look and one policy.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lastmile.config import Settings
from lastmile.deps import SettingsDep
from lastmile.tracking.page import tile_source
from lastmile.web import templates

router = APIRouter(include_in_schema=False)

# The console's navigation: (key, label, path); a page names its key as ``active``.
NAV = (
    ("live", "Live operations", "/dashboard"),
    ("planning", "Planning", "/dashboard/planning"),
    ("reports", "Reports", "/dashboard/reports"),
)


def console_headers(tile_url: str | None) -> dict[str, str]:
    """Headers for a console page: scripts, styles and requests stay on our origin (map tiles
    may come from the configured tile server); downloads are blob: URLs; no framing."""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src 'self' data: blob: {tile_source(tile_url)}".rstrip()
        + "; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
    }


def render_console(
    request: Request, template: str, active: str, settings: Settings
) -> HTMLResponse:
    """A console page with its navigation marked and the map's tile server named."""
    context = {
        "nav": NAV,
        "active": active,
        "tile_url": settings.tile_url or "",
        "tile_attribution": settings.tile_attribution,
    }
    return templates.TemplateResponse(
        request, template, context, headers=console_headers(settings.tile_url)
    )


@router.get("/dashboard", response_class=HTMLResponse)
def live_operations(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Live map, route board, exceptions inbox and the day's orders."""
    return render_console(request, "dashboard/live.html", "live", settings)


@router.get("/dashboard/planning", response_class=HTMLResponse)
def planning(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Plan a day: choose orders, run the optimiser, compare with the current plan, commit."""
    return render_console(request, "dashboard/planning.html", "planning", settings)
