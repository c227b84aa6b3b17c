"""Email through a real SMTP server (stdlib smtplib)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from lastmile.notifications.channels.base import SendFailed

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SmtpEmailSender:
    """Sends plain-text mail; ``url`` is ``smtp://``, ``smtp+starttls://`` or ``smtps://``,
    with optional ``user:password@``."""

    url: str
    sender: str

    def __post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"LASTMILE_SMTP_URL must start with one of {sorted(DEFAULT_PORTS)}")

    def _connect(self) -> smtplib.SMTP:
        parts = urlsplit(self.url)
        host, port = parts.hostname or "localhost", parts.port or DEFAULT_PORTS[parts.scheme]
        smtp: smtplib.SMTP
        if parts.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
            if parts.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        return smtp

    def send(
        self, *, to: str, subject: str, text: str, message_id: str, idempotency_key: str
    ) -> None:
        # Headers up to RFC 5322's hard limit: folding would split the long keys.
        message = EmailMessage(policy=SMTP.clone(max_line_length=998))
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # The same Message-ID on every attempt: mail systems drop a repeat of a message
        # already delivered, so a resend after a crash is not a second email.
        message["Message-ID"] = message_id
        message["X-Lastmile-Idempotency-Key"] = idempotency_key
        message.set_content(text)
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"SMTP: {exc}") from exc
