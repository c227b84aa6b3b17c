"""SMS providers: a file for development and a generic HTTP gateway adapter."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from lastmile.kit.clock import iso_z, utcnow
from lastmile.notifications.channels.base import SendFailed, SmsProvider

TIMEOUT_S = 10.0


@dataclass
class FileSmsProvider:
    """Appends each message as one JSON line to ``path`` (the default: no gateway needed)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, *, to: str, text: str, idempotency_key: str) -> None:
        line = json.dumps(
            {"at": iso_z(utcnow()), "to": to, "text": text, "idempotency_key": idempotency_key},
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")
        except OSError as exc:
            raise SendFailed(f"SMS log: {exc}") from exc


@dataclass(frozen=True)
class HttpSmsProvider:
    """A gateway taking ``POST {"to", "text", "reference"}`` as JSON with a bearer key and an
    ``Idempotency-Key`` header; any 2xx is accepted (see docs/notifications.md)."""

    url: str
    key: str | None
    timeout_s: float = TIMEOUT_S

    def send(self, *, to: str, text: str, idempotency_key: str) -> None:
        headers = {"Idempotency-Key": idempotency_key}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        body = {"to": to, "text": text, "reference": idempotency_key}
        try:
            response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout_s)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SendFailed(f"SMS gateway: {exc}") from exc
        if response.is_success:
            return
        # A malformed request or a refused number will not succeed on retry.
        permanent = response.status_code in (400, 401, 403, 404, 422)
        raise SendFailed(
            f"SMS gateway answered {response.status_code}: {response.text[:200]}",
            permanent=permanent,
        )


def build_sms_provider(
    kind: str, *, data_dir: Path, url: str | None, key: str | None
) -> SmsProvider:
    if kind == "http":
        if not url:
            raise ValueError("LASTMILE_SMS_HTTP_URL is required with LASTMILE_SMS_PROVIDER=http")
        return HttpSmsProvider(url, key)
    return FileSmsProvider(data_dir / "sms.log")
