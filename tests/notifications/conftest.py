from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.notifications.worker import NotificationWorker
from tests.notifications.receivers import HttpReceiver, SmtpServer, start_http, start_smtp


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""
    server = start_smtp()
    yield server
    server.sink.release.set()
    server.controller.stop()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """A merchant's webhook endpoint (or an SMS gateway) on 127.0.0.1."""
    server = start_http()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, smtp: SmtpServer) -> Settings:
    """Mail through the test SMTP server; local receivers allowed; quiet hours off; tracking
    inline so driven routes raise their events at once."""
    return Settings(
        environment="test",
        data_dir=tmp_path,
        auto_migrate=False,
        tracking_inline=True,
        smtp_url=smtp.url,
        smtp_from="Acme Deliveries <notify@acme.example>",
        webhook_allow_private_urls=True,
        notification_quiet_start="00:00",
        notification_quiet_end="00:00",
        notification_retry_base_s=0.001,
    )


@pytest.fixture
def worker(database: Database, settings: Settings) -> NotificationWorker:
    return NotificationWorker.from_settings(database, settings)
