"""Merchant webhooks: signed JSON POSTs (httpx)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from lastmile.notifications.channels.base import SendFailed
from lastmile.notifications.signing import SIGNATURE_HEADER, signature
from lastmile.notifications.urls import private_target


@dataclass(frozen=True)
class HttpWebhookSender:
    timeout_s: float = 10.0
    # Off by default: a merchant's URL must not reach the server's own network (checked at
    # each send too, since a name can resolve elsewhere after the endpoint was saved).
    allow_private: bool = False

    def send(self, *, url: str, secret: str, event: str, body: bytes, idempotency_key: str) -> int:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Lastmile-Webhooks/1",
            "Lastmile-Event": event,
            "Idempotency-Key": idempotency_key,
            # Signed at each attempt: a retry carries a fresh timestamp, the same body and key.
            SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        }
        if not self.allow_private and private_target(url):
            raise SendFailed("the URL points at a loopback or private address", permanent=True)
        try:
            response = httpx.post(
                url, content=body, headers=headers, timeout=self.timeout_s, follow_redirects=False
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise SendFailed(f"the endpoint answered {response.status_code}")
        return response.status_code
