"""The customer tracking page ``/t/{token}``: an HTML shell whose script reads the JSON API.

The page itself shows nothing about the order, so a leaked copy of the HTML leaks nothing;
the data comes from ``GET /v1/tracking/{token}`` and its live stream.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lastmile.deps import SessionDep, SettingsDep
from lastmile.kit.errors import Gone, NotFound
from lastmile.tracking.links import resolve_link
from lastmile.web import templates

router = APIRouter(include_in_schema=False)

_PLACEHOLDER = re.compile(r"\{[^}]*\}")

# What the 404 page says for an unknown link and for an expired or withdrawn one.
NOT_FOUND = {
    "eyebrow": "Link not found",
    "headline": "We can't find this delivery",
    "message": "The link may be incomplete. Check that you opened all of it.",
}
EXPIRED = {
    "eyebrow": "Link expired",
    "headline": "This tracking link has expired",
    "message": "Tracking links stop working some time after a delivery is complete, "
    "or when they are withdrawn.",
}


def tile_source(tile_url: str | None) -> str:
    """The CSP source that admits a tile URL template (``{s}.tile...`` becomes ``*.tile...``).

    Empty when there is no tile server (the page draws offline) or it is on our own origin.
    """
    if not tile_url:
        return ""
    parts = urlsplit(_PLACEHOLDER.sub("*", tile_url))
    if not parts.scheme or not parts.netloc:
        return ""  # relative: served by us
    host = parts.netloc.removeprefix("*.")
    if "*" in host or "@" in host:
        return f"{parts.scheme}:"  # a placeholder CSP cannot express: allow the scheme
    return f"{parts.scheme}://{parts.netloc}"


def page_headers(tile_url: str | None) -> dict[str, str]:
    """Headers for a page that carries a bearer token in its URL."""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src 'self' data: {tile_source(tile_url)}".rstrip()
        + "; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        # The token is in the URL: never send it on to tile servers or other sites.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
    }


@router.get("/t/{token}", response_class=HTMLResponse)
def tracking_page(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The customer's tracking page; a friendly 404 page for an unknown or expired link."""
    headers = page_headers(settings.tile_url)
    try:
        resolve_link(
            session, token, after_close=timedelta(hours=settings.tracking_link_after_delivery_hours)
        )
    except (NotFound, Gone) as exc:
        context = dict(EXPIRED if isinstance(exc, Gone) else NOT_FOUND)
        return templates.TemplateResponse(
            request, "tracking/not_found.html", context, status_code=404, headers=headers
        )
    api_url = f"/v1/tracking/{quote(token, safe='')}"
    return templates.TemplateResponse(
        request, "tracking/page.html", {"api_url": api_url}, headers=headers
    )
