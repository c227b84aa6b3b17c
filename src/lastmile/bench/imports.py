"""``lastmile bench import``: how fast a CSV of orders is checked and stored on SQLite."""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lastmile.app import create_app
from lastmile.auth import service as auth
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.db.migrate import upgrade
from lastmile.demo import generate_city, generate_orders
from lastmile.orders.importer import import_orders, orders_to_csv
from lastmile.orders.service import OrderService
from lastmile.organizations.models import Merchant
from lastmile.organizations.service import create_organization
from lastmile.services import Services


def _fresh_database(folder: Path, name: str) -> tuple[Database, str, str]:
    """A migrated SQLite file with one organization and merchant; returns db, org, API key."""
    db = Database(f"sqlite:///{folder / name}")
    upgrade(db.url)
    with db.unit_of_work() as session:
        org = create_organization(session, "Bench", "Europe/Lisbon")
        session.add(Merchant(id="mer_bench", organization_id=org.id, name="Bench merchant"))
        session.flush()
        key = auth.create_api_key(session, org.id, "mer_bench", "bench").secret
    return db, org.id, key


def run(orders: int = 10_000, seed: int = 3, http: bool = True) -> dict[str, Any]:
    """Import ``orders`` generated demo orders from CSV into a fresh SQLite database.

    ``seconds`` times the service path behind ``lastmile import`` (parse, check every row,
    insert, commit); ``http_seconds`` the same file through ``POST /v1/orders:import``.
    """
    city = generate_city(date.today() + timedelta(days=1))
    bodies = generate_orders(city, orders, seed=seed)
    for body in bodies:  # lockers are not part of this benchmark's database
        body.pop("merchant")
        if body.pop("pickup_point_id", None) is not None:
            body["delivery_method"] = "doorstep"
    csv_text = orders_to_csv(bodies)
    result: dict[str, Any] = {"orders": orders, "csv_bytes": len(csv_text.encode())}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, _org, key = _fresh_database(folder, "service.sqlite")
        settings = Settings(environment="test", data_dir=folder, auto_migrate=False)
        services = Services.from_settings(settings)
        start = time.perf_counter()
        with db.unit_of_work() as session:
            principal = auth.authenticate(session, key)
            ctx = OrderService(session, principal, services).intake_context()
            report = import_orders(ctx, csv_text, "csv")
        result["seconds"] = round(time.perf_counter() - start, 3)
        result["imported"] = report.imported
        result["orders_per_s"] = round(report.imported / result["seconds"])
        db.dispose()
        if http:
            db, _org, key = _fresh_database(folder, "http.sqlite")
            with TestClient(create_app(settings, database=db)) as client:
                start = time.perf_counter()
                response = client.post(
                    "/v1/orders:import",
                    content=csv_text.encode(),
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
                )
                result["http_seconds"] = round(time.perf_counter() - start, 3)
                result["http_status"] = response.status_code
            db.dispose()
    return result
