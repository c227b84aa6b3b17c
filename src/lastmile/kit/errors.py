"""Errors as RFC 9457 problem details (``application/problem+json``).

Services raise :class:`Problem` subclasses; the app turns them, request validation errors and
unexpected failures into one uniform JSON shape with the field at fault.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input: ``field`` in dotted form, ``pointer`` as a JSON Pointer."""

    field: str
    pointer: str
    message: str
    row: int | None = None


class ProblemBody(BaseModel):
    """The problem+json document every error response carries."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = []


class Problem(Exception):
    """Base of every error a service may raise on purpose."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Gone(Problem):
    status, slug, title = 410, "gone", "No longer available"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "Invalid status transition"


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", "Invalid request"


def field_error(loc: Sequence[str | int], message: str, row: int | None = None) -> FieldError:
    """Build a :class:`FieldError` from a location such as ``("windows", 0, "end")``."""
    dotted = ""
    for part in loc:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    pointer = "/" + "/".join(str(p) for p in loc) if loc else ""
    return FieldError(field=dotted or "(body)", pointer=pointer, message=message, row=row)


def problem_type(slug: str) -> str:
    return f"urn:lastmile:problem:{slug}"


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ProblemBody(
        type=problem_type(slug),
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=list(errors),
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc: list[Any] = list(err.get("loc", ()))
        # FastAPI prefixes where the value came from ("body", "query", ...); keep it only
        # for non-body inputs, where it tells the caller which part of the request to fix.
        if loc and loc[0] == "body":
            loc = loc[1:]
        out.append(field_error([p for p in loc if isinstance(p, str | int)], err.get("msg", "")))
    return out


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    429: ("rate-limited", "Too many requests"),
}


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            status=exc.status,
            slug=exc.slug,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return problem_response(
            request,
            status=422,
            slug="validation-error",
            title="Invalid request",
            detail=detail or "The request is invalid.",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_SLUGS.get(exc.status_code, ("error", "Error"))
        return problem_response(
            request,
            status=exc.status_code,
            slug=slug,
            title=title,
            detail=str(exc.detail),
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # A value the schemas let through but the database refuses (a NUL character in text
        # on PostgreSQL, a number out of a column's range): the request's fault, not ours.
        log.info("database refused a value on %s: %s", request.url.path, exc.orig)
        return problem_response(
            request,
            status=422,
            slug="validation-error",
            title="Invalid request",
            detail="A value cannot be stored (e.g. text with a NUL character); nothing changed.",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            status=500,
            slug="internal-error",
            title="Internal error",
            detail="Something went wrong on our side; nothing was changed.",
        )
