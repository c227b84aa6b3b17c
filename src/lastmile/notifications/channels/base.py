"""The channel interfaces and the one error they raise."""

from __future__ import annotations

from typing import Protocol


class SendFailed(Exception):
    """A message did not go out. ``permanent`` failures (a refused address, a malformed
    request) go to the dead-letter list at once; others are retried with backoff."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class EmailSender(Protocol):
    def send(
        self, *, to: str, subject: str, text: str, message_id: str, idempotency_key: str
    ) -> None: ...


class SmsProvider(Protocol):
    def send(self, *, to: str, text: str, idempotency_key: str) -> None: ...


class WebhookSender(Protocol):
    def send(self, *, url: str, secret: str, event: str, body: bytes, idempotency_key: str) -> int:
        """POST ``body``; the response status (2xx) or :class:`SendFailed`."""
        ...
