"""Builders for test data, going through the same services the API uses."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.auth import service as auth
from lastmile.auth.models import ApiKey, Role, User
from lastmile.db.engine import Database
from lastmile.fleet.models import Depot, DepotKind, Driver, PickupPoint, PickupPointKind
from lastmile.kit.crypto import hash_password
from lastmile.kit.ids import new_id
from lastmile.orders.models import Order
from lastmile.organizations.models import Merchant
from lastmile.organizations.service import create_organization

PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    """One organization and a credential for each kind of caller."""

    organization_id: str
    tokens: dict[str, str]  # admin, dispatcher, driver, merchant, merchant2
    merchant_id: str
    merchant2_id: str
    driver_id: str
    depot_id: str
    locker_id: str

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@functools.cache
def _password_hash(password: str) -> str:
    """scrypt is slow on purpose; every test user has the same password, so hash it once."""
    return hash_password(password)


def make_tenant(db: Database, name: str) -> Tenant:
    slug = new_id("t")[-8:]
    with db.unit_of_work() as s, patch.object(auth, "hash_password", _password_hash):
        org = create_organization(s, name, "Europe/Lisbon")
        tokens: dict[str, str] = {}
        users = {}
        for role in Role:
            user = auth.create_user(
                s,
                org.id,
                email=f"{role.value}-{slug}@example.org",
                name=role.value.title(),
                role=role,
                password=PASSWORD,
            )
            users[role] = user
            tokens[role.value] = auth.issue_access_token(s, user, timedelta(hours=1)).token
        merchants = []
        for label in ("merchant", "merchant2"):
            merchant = Merchant(id=new_id("mer"), organization_id=org.id, name=f"{name} {label}")
            s.add(merchant)
            s.flush()
            merchants.append(merchant.id)
            tokens[label] = auth.create_api_key(s, org.id, merchant.id, "test").secret
        depot = Depot(
            id=new_id("dep"),
            organization_id=org.id,
            name="Main depot",
            kind=DepotKind.depot,
            lat=41.15,
            lon=-8.61,
            opening_hours=[],
        )
        locker = PickupPoint(
            id=new_id("pup"),
            organization_id=org.id,
            name="Locker 1",
            kind=PickupPointKind.locker,
            lat=41.16,
            lon=-8.62,
            opening_hours=[],
            compartments=40,
        )
        s.add_all([depot, locker])
        driver = Driver(
            id=new_id("drv"),
            organization_id=org.id,
            name="Dee River",
            skills=["in_home"],
            user_id=users[Role.driver].id,
        )
        s.add(driver)
        s.flush()
        return Tenant(org.id, tokens, merchants[0], merchants[1], driver.id, depot.id, locker.id)


def tomorrow_window(hours: tuple[int, int] = (9, 11)) -> dict[str, str]:
    day = datetime.now(UTC).date() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, hours[0], tzinfo=UTC)
    return {
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours[1] - hours[0])).isoformat(),
    }


def order_payload(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /v1/orders`` body with unique barcode and reference."""
    tag = new_id("x")[-10:]
    body: dict[str, Any] = {
        "merchant_reference": f"REF-{tag}",
        "customer": {
            "name": "Ana Silva",
            "phone": "+351912345678",
            "email": "ana@example.org",
            "language": "pt",
            "channels": ["sms", "email"],
        },
        "address": {
            "line1": "Rua de Santa Catarina 100",
            "postcode": "4000-447",
            "city": "Porto",
            "country": "PT",
            "lat": 41.1496,
            "lon": -8.6067,
        },
        "service_level": "scheduled",
        "delivery_method": "doorstep",
        "windows": [tomorrow_window()],
        "parcels": [{"barcode": f"BC{tag}", "weight_kg": 1.2, "volume_litres": 5.7}],
    }
    body.update(overrides)
    return body


def tomorrow_at(hour: int, minute: int = 0) -> str:
    """An ISO 8601 UTC timestamp tomorrow at ``hour``:``minute``."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).isoformat()


def depot_payload(**overrides: Any) -> dict[str, Any]:
    return {"name": "North hub", "kind": "hub", "lat": 41.17, "lon": -8.6} | overrides


def vehicle_payload(home_depot_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Van 7",
        "type": "van",
        "home_depot_id": home_depot_id,
        "capacity_parcels": 120,
        "capacity_kg": 800.0,
        "capacity_litres": 5000.0,
    }
    return body | overrides


def driver_payload(**overrides: Any) -> dict[str, Any]:
    return {"name": "Rui Costa", "phone": "+351912000000", "skills": ["in_home"]} | overrides


def shift_payload(driver_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"driver_id": driver_id, "starts_at": tomorrow_at(8), "ends_at": tomorrow_at(16)}
    return body | overrides


def pickup_point_payload(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Locker Bolhao",
        "kind": "locker",
        "lat": 41.15,
        "lon": -8.6,
        "compartments": 30,
    }
    return body | overrides


def customer_payload(**overrides: Any) -> dict[str, Any]:
    return {"name": "Ana Silva", "phone": "+351912345678", "language": "pt"} | overrides


def address_payload(**overrides: Any) -> dict[str, Any]:
    body = {"line1": "Rua Formosa 10", "city": "Porto", "country": "PT", "lat": 41.15, "lon": -8.6}
    return body | overrides


def make_resources(client: TestClient, tenant: Tenant, db: Database) -> dict[str, str]:
    """One of every tenant resource, by name; the order is assigned to the tenant's driver."""

    def created(path: str, body: dict[str, Any], who: str = "dispatcher") -> str:
        response = client.post(path, json=body, headers=tenant.headers(who))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    customer = created("/v1/customers", customer_payload(), "merchant")
    order = created("/v1/orders", order_payload(), "merchant")
    with db.unit_of_work() as session:
        session.execute(update(Order).where(Order.id == order).values(driver_id=tenant.driver_id))
        user = session.scalars(
            select(User.id).where(
                User.organization_id == tenant.organization_id, User.role == Role.dispatcher
            )
        ).one()
        api_key = session.scalars(
            select(ApiKey.id).where(ApiKey.merchant_id == tenant.merchant_id)
        ).one()
    return {
        "depot": tenant.depot_id,
        "vehicle": created("/v1/vehicles", vehicle_payload(tenant.depot_id)),
        "driver": tenant.driver_id,
        "shift": created("/v1/shifts", shift_payload(tenant.driver_id)),
        "pickup_point": tenant.locker_id,
        "customer": customer,
        "address": created("/v1/addresses", address_payload(customer_id=customer), "merchant"),
        "merchant": tenant.merchant_id,
        "user": user,
        "api_key": api_key,
        "order": order,
        # A name that never resolves (RFC 2606): no request leaves the machine.
        "webhook_endpoint": created(
            "/v1/webhook-endpoints", {"url": "https://hooks.merchant.invalid/lastmile"}, "merchant"
        ),
    }
