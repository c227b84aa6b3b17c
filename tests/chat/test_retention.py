"""Chat messages are deleted after the retention period by a scheduled job."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from lastmile.app import create_app
from lastmile.chat.models import ChatMessage, Conversation
from lastmile.chat.repository import purge_messages
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from tests.chat.conftest import Thread, open_thread
from tests.factories import Tenant


def age_messages(db: Database, body: str, age: timedelta) -> None:
    with db.unit_of_work() as session:
        session.execute(
            update(ChatMessage).where(ChatMessage.body == body).values(created_at=utcnow() - age)
        )
        session.execute(update(Conversation).values(created_at=utcnow() - timedelta(days=400)))


def count(db: Database, model: type[ChatMessage] | type[Conversation]) -> int:
    with db.unit_of_work(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_purge_deletes_only_old_messages(
    client: TestClient, database: Database, tenant: Tenant, thread: Thread
) -> None:
    """Messages older than the period go; newer ones and their conversation stay."""
    other = open_thread(client, database, tenant)
    for url, body in ((thread.customer, "old"), (thread.customer, "new"), (other.customer, "x")):
        assert client.post(url, json={"body": body}).status_code == 201
    age_messages(database, "old", timedelta(days=91))
    age_messages(database, "x", timedelta(days=100))
    with database.unit_of_work() as session:
        assert purge_messages(session, utcnow() - timedelta(days=90)) == 2
    bodies = [m["body"] for m in client.get(thread.customer).json()["messages"]]
    assert bodies == ["new"]
    assert count(database, Conversation) == 1  # the emptied one went too
    assert client.post(other.customer, json={"body": "again"}).status_code == 201


def test_the_app_purges_on_a_schedule(
    tmp_path: Path, database: Database, tenant: Tenant, client: TestClient, thread: Thread
) -> None:
    """Starting the app starts the chat retention job, which honours chat_retention_days."""
    for body in ("old", "new"):
        client.post(thread.customer, json={"body": body})
    age_messages(database, "old", timedelta(days=3))
    settings = Settings(
        environment="test", data_dir=tmp_path, auto_migrate=False, chat_retention_days=2
    )
    with TestClient(create_app(settings, database=database)):
        deadline = time.monotonic() + 10
        while count(database, ChatMessage) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert count(database, ChatMessage) == 1
