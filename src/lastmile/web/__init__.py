"""The server-rendered web layer: Jinja2 templates, our static files and vendored Leaflet.

Pages render a shell from ``templates/``; their data comes from the JSON API. Asset URLs carry
a version (``static_url``), so a versioned request may be cached for a year while an
unversioned one is revalidated each time.
"""

from __future__ import annotations

import hashlib
import os
from os import PathLike
from pathlib import Path
from urllib.parse import parse_qsl

import xstatic.pkg.leaflet as leaflet
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "install_web", "static_url", "templates"]

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
LEAFLET_DIR = Path(leaflet.BASE_DIR)
LEAFLET_VERSION: str = leaflet.VERSION

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"  # cache, but ask first (cheap: ETag/Last-Modified → 304)


class CachedStaticFiles(StaticFiles):
    """Static files with Cache-Control: long-lived when the URL names a version (``?v=``)."""

    def file_response(
        self,
        full_path: str | PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = any(k == b"v" for k, _ in parse_qsl(scope.get("query_string", b"")))
        response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_url(path: str) -> str:
    """URL of one of our static files, versioned by its size and modification time."""
    stat = (STATIC_DIR / path).stat()
    version = hashlib.sha256(f"{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:10]
    return f"/static/{path}?v={version}"


def vendor_url(path: str) -> str:
    """URL of a vendored Leaflet file, versioned by the Leaflet release."""
    return f"/static/vendor/leaflet/{path}?v={LEAFLET_VERSION}"


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals.update(static_url=static_url, vendor_url=vendor_url)


def install_web(app: FastAPI) -> None:
    """Mount ``/static`` (ours) and ``/static/vendor/leaflet`` (from the xstatic wheel)."""
    # The more specific mount first: Starlette matches mounts in order.
    app.mount(
        "/static/vendor/leaflet",
        CachedStaticFiles(directory=LEAFLET_DIR),
        name="leaflet",
    )
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")
