"""ASGI middleware that makes every authenticated POST with an ``Idempotency-Key`` safe to retry.

The key is claimed in its own transaction before the request runs, so two concurrent retries
cannot both execute; the response is stored once the request succeeded (any status below 500)
and replayed byte for byte afterwards. A key sent again with a different body is refused.
Responses marked ``Cache-Control: no-store`` (new API keys) are not stored: a replay of one
answers 409 rather than keep a secret in the database.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lastmile.db.engine import Database
from lastmile.idempotency.models import IdempotencyRecord
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import PROBLEM_MEDIA_TYPE, problem_type

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
# Responses sent with "Cache-Control: no-store" (they carry a secret) are never kept; this
# marker in place of the content type says so, and a replay is refused instead of re-shown.
NOT_STORED = "lastmile/not-stored"
# A customer's routes carry their credential, the tracking token, in the path.
TOKEN_PATH = re.compile(r"/v1/self-service/([^/]+)(?:/|$)")


def _path_token(path: str) -> bytes | None:
    """The tracking token of a customer's self-service route, which keys their retries."""
    match = TOKEN_PATH.match(path)
    return match.group(1).encode() if match else None


def _problem(status: int, slug: str, title: str, detail: str, path: str) -> tuple[int, bytes]:
    body = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
        "errors": [],
    }
    return status, json.dumps(body).encode()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, database: Callable[[], Database], ttl: timedelta) -> None:
        self.app = app
        self.database = database
        self.ttl = ttl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key_bytes = headers.get(HEADER)
        credential = (
            headers.get(b"authorization") or headers.get(b"x-api-key") or _path_token(scope["path"])
        )
        if key_bytes is None or credential is None:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        key = key_bytes.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            await self._send(
                send,
                *_problem(
                    422,
                    "validation-error",
                    "Invalid request",
                    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                    path,
                ),
            )
            return

        body = await _read_body(receive)
        caller = hashlib.sha256(credential).hexdigest()
        compared = _comparable(headers, body)
        fingerprint = hashlib.sha256(
            b"\0".join([path.encode(), scope.get("query_string", b""), compared])
        ).hexdigest()
        db = self.database()
        outcome = await run_in_threadpool(self._claim, db, caller, key, fingerprint, path)
        if outcome is not None:
            status, content_type, payload, replayed = outcome
            await self._send(send, status, payload, content_type, replayed=replayed)
            return

        captured: dict[str, Any] = {"body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                captured["status"] = message["status"]
                captured["content_type"] = headers.get(
                    b"content-type", b"application/json"
                ).decode()
                if b"no-store" in headers.get(b"cache-control", b""):
                    captured["content_type"] = NOT_STORED
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, _replay_body(body), capture)
        finally:
            status = captured.get("status", 500)
            await run_in_threadpool(
                self._finish,
                db,
                caller,
                key,
                status,
                captured.get("content_type"),
                captured["body"],
            )

    def _claim(
        self, db: Database, caller: str, key: str, fingerprint: str, path: str
    ) -> tuple[int, str, bytes, bool] | None:
        """Claim the key; return a response to send instead when the key was seen before."""
        now = utcnow()
        for _attempt in range(2):
            try:
                with db.unit_of_work() as session:
                    session.add(
                        IdempotencyRecord(
                            caller=caller, key=key, fingerprint=fingerprint, created_at=now
                        )
                    )
                return None
            except IntegrityError:
                pass
            with db.unit_of_work() as session:
                record = session.scalars(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
                    )
                ).first()
                if record is None:
                    continue  # released meanwhile: claim again
                if record.created_at < now - self.ttl:
                    session.delete(record)
                    continue
                if record.fingerprint != fingerprint:
                    status, payload = _problem(
                        422,
                        "idempotency-key-reused",
                        "Idempotency-Key reused",
                        "This Idempotency-Key was used with a different request.",
                        path,
                    )
                    return status, PROBLEM_MEDIA_TYPE, payload, False
                if record.status_code is None:
                    status, payload = _problem(
                        409,
                        "request-in-progress",
                        "Request in progress",
                        "A request with this Idempotency-Key is still being processed; retry "
                        "shortly.",
                        path,
                    )
                    return status, PROBLEM_MEDIA_TYPE, payload, False
                if record.content_type == NOT_STORED:
                    status, payload = _problem(
                        409,
                        "already-processed",
                        "Already processed",
                        "A request with this Idempotency-Key succeeded before; its response held "
                        "a secret, which is shown only once and was not kept.",
                        path,
                    )
                    return status, PROBLEM_MEDIA_TYPE, payload, False
                return (
                    record.status_code,
                    record.content_type or "application/json",
                    record.body or b"",
                    True,
                )
        status, payload = _problem(
            409,
            "request-in-progress",
            "Request in progress",
            "The Idempotency-Key is contended; retry shortly.",
            path,
        )
        return status, PROBLEM_MEDIA_TYPE, payload, False

    def _finish(
        self,
        db: Database,
        caller: str,
        key: str,
        status: int,
        content_type: str | None,
        body: bytes,
    ) -> None:
        with db.unit_of_work() as session:
            where = (IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
            if status >= 500:
                # Nothing was changed (the request's transaction rolled back): let a retry run.
                session.execute(delete(IdempotencyRecord).where(*where))
                return
            record = session.scalars(select(IdempotencyRecord).where(*where)).first()
            if record is not None:
                stored = None if content_type == NOT_STORED else body
                record.status_code, record.content_type, record.body = status, content_type, stored

    async def _send(
        self,
        send: Send,
        status: int,
        body: bytes,
        content_type: str = PROBLEM_MEDIA_TYPE,
        *,
        replayed: bool = False,
    ) -> None:
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if replayed:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _comparable(headers: dict[bytes, bytes], body: bytes) -> bytes:
    """The body as a retry is compared by: a multipart body without its boundary, which a
    client draws afresh each time it rebuilds the form (an offline app replaying a queued
    proof of delivery); the fields and files must still be the same."""
    kind, _, params = headers.get(b"content-type", b"").partition(b";")
    if kind.strip().lower() != b"multipart/form-data":
        return body
    for param in params.split(b";"):
        name, _, value = param.strip().partition(b"=")
        boundary = value.strip().strip(b'"')
        if name.strip().lower() == b"boundary" and boundary:
            return body.replace(b"--" + boundary, b"--")
    return body


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay_body(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
