"""Load a :class:`DemoCity` into a database through the same services the API uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from lastmile.auth import service as auth
from lastmile.auth.models import Role
from lastmile.auth.principal import Access, Principal
from lastmile.auth.repository import find_user_by_email
from lastmile.crud import Resource, ResourceService
from lastmile.db.engine import Database
from lastmile.demo.city import TIMEZONE, DemoCity
from lastmile.fleet.endpoints import DEPOTS, DRIVERS, PICKUP_POINTS, SHIFTS, VEHICLES
from lastmile.orders.intake import check_orders, insert_rows
from lastmile.orders.schemas import OrderCreate
from lastmile.orders.service import OrderService
from lastmile.organizations.endpoints import MERCHANTS
from lastmile.organizations.service import create_organization
from lastmile.services import Services

DEMO_PASSWORD = "lastmile-demo"  # noqa: S105 - printed for the demo on purpose


@dataclass
class DemoLogins:
    organization_id: str
    users: dict[str, str] = field(default_factory=dict)  # role -> email
    password: str = DEMO_PASSWORD
    merchant_keys: dict[str, str] = field(default_factory=dict)  # merchant name -> API key
    order_ids: list[str] = field(default_factory=list)


def _create(resource: Resource[Any], svc_args: tuple[Any, ...], body: dict[str, Any]) -> str:
    service = ResourceService(resource, *svc_args)
    payload: BaseModel = resource.create_schema.model_validate(body)
    return str(service.create(payload).id)


def load_city(
    db: Database,
    services: Services,
    city: DemoCity,
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 500,
) -> DemoLogins:
    """Create the organization and everything in ``city``; returns the logins to print."""
    with db.unit_of_work() as session:
        org = create_organization(session, "Lastmile Demo Porto", TIMEZONE.key)
        logins = DemoLogins(organization_id=org.id)
        for role in Role:
            email = f"{role.value}@demo.lastmile.dev"
            auth.create_user(
                session,
                org.id,
                email=email,
                name=f"Demo {role.value}",
                role=role,
                password=DEMO_PASSWORD,
            )
            logins.users[role.value] = email
        admin = Principal(organization_id=org.id, access=Access.admin, user_id="demo-loader")
        args = (session, admin, services)
        merchant_ids = []
        for name in city.merchants:
            merchant_id = _create(MERCHANTS, args, {"name": name})
            merchant_ids.append(merchant_id)
            logins.merchant_keys[name] = auth.create_api_key(
                session, org.id, merchant_id, "demo"
            ).secret
        depot_ids = [_create(DEPOTS, args, depot) for depot in city.depots]
        for vehicle in city.vehicles:
            body = {k: v for k, v in vehicle.items() if k != "home_depot"}
            _create(VEHICLES, args, body | {"home_depot_id": depot_ids[vehicle["home_depot"]]})
        driver_user = find_user_by_email(session, logins.users["driver"])
        for i, driver in enumerate(city.drivers):
            body = {k: v for k, v in driver.items() if k not in ("home_depot", "shift")}
            body["home_depot_id"] = depot_ids[driver["home_depot"]]
            if i == 0 and driver_user is not None:
                body["user_id"] = driver_user.id  # the demo driver login drives route 1
            driver_id = _create(DRIVERS, args, body)
            _create(SHIFTS, args, driver["shift"] | {"driver_id": driver_id})
        point_ids = [_create(PICKUP_POINTS, args, point) for point in city.pickup_points]
        intake_ctx = OrderService(session, admin, services).intake_context()

    for start in range(0, len(city.orders), batch_size):
        chunk = city.orders[start : start + batch_size]
        items: list[tuple[int | None, OrderCreate]] = []
        for n, raw in enumerate(chunk, start=start + 1):
            body = {k: v for k, v in raw.items() if k != "merchant"}
            body["merchant_id"] = merchant_ids[raw["merchant"]]
            if "pickup_point_id" in raw:
                body["pickup_point_id"] = point_ids[raw["pickup_point_id"]]
            items.append((n, OrderCreate.model_validate(body)))
        with db.unit_of_work() as session:
            ctx = replace(intake_ctx, session=session)
            intake = check_orders(ctx, items)
            if intake.errors:
                raise ValueError(f"demo orders invalid: {intake.errors[:3]}")
            insert_rows(session, intake)
            logins.order_ids += intake.order_ids
        if progress:
            progress(len(chunk))
    return logins
