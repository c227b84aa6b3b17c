"""Builders for test data, going through the same services the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lastmile.auth import service as auth
from lastmile.auth.models import Role
from lastmile.db.engine import Database
from lastmile.fleet.models import Depot, DepotKind, Driver, PickupPoint, PickupPointKind
from lastmile.kit.ids import new_id
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


def make_tenant(db: Database, name: str) -> Tenant:
    slug = new_id("t")[-8:]
    with db.unit_of_work() as s:
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
