"""``lastmile notifications ...``: the notification worker outside the server processes."""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import asdict
from typing import Annotated

import typer

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.db.migrate import upgrade
from lastmile.notifications.worker import NotificationWorker

notifications_app = typer.Typer(help="Customer notifications and merchant webhooks.")


@notifications_app.command("worker")
def worker(
    once: Annotated[bool, typer.Option(help="Run one pass, print what it did, exit.")] = False,
) -> None:
    """Send queued notifications until stopped (SIGTERM or Ctrl-C finish the current pass).

    Run one or more beside servers started with LASTMILE_NOTIFICATIONS_INLINE=false; several
    workers share the queue safely.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings()
    if settings.auto_migrate:
        upgrade(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    try:
        runner = NotificationWorker.from_settings(db, settings)
        if once:
            typer.echo(json.dumps(asdict(runner.run_once())))
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        typer.echo(f"notification worker {runner.name} started", err=True)
        runner.run_forever(stop)
    finally:
        db.dispose()
