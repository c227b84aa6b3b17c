"""The driver app ``/driver``: an installable web app over the driver API that works offline.

The HTML is a shell without data; its scripts read ``GET /v1/driver/today`` and queue every
action in IndexedDB, replaying it with its Idempotency-Key once the phone is online (see
docs/driver.md, "The app"). The service worker is served from ``/driver/sw.js``, under the
path it controls, and keeps the shell and the last route for offline use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lastmile.web import STATIC_DIR, TEMPLATES_DIR, static_url, templates

router = APIRouter(include_in_schema=False)

APP_DIR = STATIC_DIR / "driver"
SCOPE = "/driver"
MANIFEST = f"{SCOPE}/manifest.webmanifest"
# Outside static/driver but on the page (base.html's favicon): the worker caches it too.
SHARED_ASSETS = ("icon.svg",)
THEME = "#ffffff"
BACKGROUND = "#eef1f5"  # app.css --bg: the splash screen matches the page

# Scripts, styles and requests stay on our origin; photo previews are blob: URLs; no framing.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: blob:; worker-src 'self'; manifest-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    # Always asked for again online; the service worker answers offline.
    "Cache-Control": "no-cache",
}


def app_files() -> list[Path]:
    """Every file of the app under ``static/driver``, in a stable order."""
    return sorted(p for p in APP_DIR.rglob("*") if p.is_file())


def shell_version() -> str:
    """Changes whenever a file of the shell changes (assets, templates, this module, which
    writes the manifest), so the service worker's bytes change and phones install it anew.
    Contents, not times: every server of a deployment must serve the same worker."""
    digest = hashlib.sha256()
    shared = [STATIC_DIR / name for name in SHARED_ASSETS]
    pages = sorted((TEMPLATES_DIR / "driver").glob("*"))
    for path in [*app_files(), *shared, *pages, Path(__file__)]:
        digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def shell_urls() -> list[str]:
    """What the service worker stores on install: the page, its manifest and every asset.

    Asset URLs are unversioned; the worker matches them ignoring ``?v=``, which is safe because
    a new version of any file installs a new cache.
    """
    assets = [f"/static/driver/{p.relative_to(APP_DIR).as_posix()}" for p in app_files()]
    return [SCOPE, MANIFEST, *(f"/static/{name}" for name in SHARED_ASSETS), *assets]


def manifest_body() -> dict[str, Any]:
    icon = "driver/icons/icon"
    return {
        "id": SCOPE,
        "name": "Lastmile Driver",
        "short_name": "Driver",
        "description": "Today's route, load-out, proof of delivery; works offline.",
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "icons": [
            {"src": static_url(f"{icon}.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static_url(f"{icon}-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static_url(f"{icon}-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static_url(f"{icon}-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


@router.get(SCOPE, response_class=HTMLResponse)
def driver_app(request: Request) -> HTMLResponse:
    """The app shell; everything it shows comes from the API (or the phone's queue)."""
    context = {"manifest_url": MANIFEST, "worker_url": f"{SCOPE}/sw.js", "scope": SCOPE}
    return templates.TemplateResponse(request, "driver/app.html", context, headers=HEADERS)


@router.get(f"{SCOPE}/sw.js")
def service_worker() -> Response:
    """The service worker, rendered with the shell's file list and version."""
    source = templates.get_template("driver/sw.js").render(
        version=shell_version(), shell=shell_urls(), scope=SCOPE
    )
    return Response(
        source,
        media_type="text/javascript",
        headers={
            "Cache-Control": "no-cache",
            # The script lives at /driver/sw.js; this lets it control /driver itself too.
            "Service-Worker-Allowed": SCOPE,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(MANIFEST)
def web_manifest() -> JSONResponse:
    """The web app manifest that makes /driver installable."""
    return JSONResponse(
        manifest_body(),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )
