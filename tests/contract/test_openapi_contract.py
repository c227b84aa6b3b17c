"""Schemathesis against the app's own OpenAPI, in process: no input makes the server fail.

Every operation is fuzzed as an admin with a bounded number of valid and invalid requests
(property-based, reproducible) and must never answer 5xx. Path ids are real ids of the
tenant's resources, so request bodies get past the lookup into the services.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from tests.factories import Tenant, make_resources, make_tenant

# Operations are fuzzed in groups by their first OpenAPI tag, so the groups run in parallel.
TAGS = ["auth", "organization", "fleet", "customers", "orders", "planning", "tracking", "driver",
        "meta", "slots", "chat", "feedback", "ledger", "self-service", "webhooks",
        "notifications", "dispatch", "reports"]  # fmt: skip
EXAMPLES = 6  # per operation and generation mode: ~600 requests per backend
SKIP = {
    ("POST", "/v1/auth/logout"),  # would revoke the token the fuzzing runs with
    # Event streams never end by themselves (tests/tracking and tests/live cover them).
    ("GET", "/v1/live/fleet"),
    ("GET", "/v1/live/orders/{order_id}"),
    ("GET", "/v1/live/driver"),
}
# Which resource a path's id parameter names, by the path's start.
ID_OWNERS = {
    "/v1/depots/": "depot",
    "/v1/vehicles/": "vehicle",
    "/v1/drivers/": "driver",
    "/v1/shifts/": "shift",
    "/v1/pickup-points/": "pickup_point",
    "/v1/customers/": "customer",
    "/v1/addresses/": "address",
    "/v1/merchants/": "merchant",
    "/v1/users/": "user",
    "/v1/api-keys/": "api_key",
    "/v1/orders/": "order",
    "/v1/driver/orders/": "order",
    "/v1/webhook-endpoints/": "webhook_endpoint",
}


def first_tag(operation: Any) -> str:
    return str((operation.definition.raw.get("tags") or ["untagged"])[0])


def real_ids(path: str, ids: dict[str, str]) -> dict[str, str]:
    """Path parameters naming a real resource of the tenant, where the path has one."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    owner = next((r for prefix, r in ID_OWNERS.items() if path.startswith(prefix)), None)
    return {names[0]: ids[owner]} if names and owner else {}


@pytest.fixture
def api(settings: Settings, database: Database) -> Iterator[tuple[FastAPI, Tenant]]:
    """The app (started, searches in a thread) and a tenant whose admin does the fuzzing."""
    fast = settings.model_copy(update={"planning_in_process": True, "planning_workers": 1})
    app = create_app(fast, database=database)
    with TestClient(app):
        yield app, make_tenant(database, "Contract")


@pytest.mark.parametrize("tag", TAGS)
def test_no_input_causes_a_server_error(
    api: tuple[FastAPI, Tenant], database: Database, tag: str
) -> None:
    """For every operation of the tag, generated valid and invalid requests never get a 5xx."""
    app, tenant = api
    logging.getLogger("lastmile").setLevel(logging.CRITICAL)  # expected errors are logged
    ids: dict[str, str] = {}
    if tag != "planning":  # planning gets an empty fleet: no fuzzed plan can start a long search
        with TestClient(app) as client:
            ids = make_resources(client, tenant, database)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = tenant.headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {first_tag(op) for op in operations} <= set(TAGS), "a new tag: add it to TAGS"
    ran = 0
    for operation in operations:
        if first_tag(operation) != tag or (operation.method.upper(), operation.path) in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=real_ids(operation.path, ids) or None
            )

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                fuzz()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid, e.g. /healthz
            ran += 1
    assert ran > 0
