"""All SQL of the driver domain, each read starting from the caller's scope."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, false, select
from sqlalchemy.orm import contains_eager

from lastmile.auth.principal import Access
from lastmile.db.repository import TenantRepository
from lastmile.driver.models import DeliveryProof, ParcelScan, RouteLoadout
from lastmile.orders.models import Order, Parcel
from lastmile.planning.models import Route, RouteStop
from lastmile.planning.service import RouteRepository


class CallerRoutes(RouteRepository):
    """Routes the caller may act on: a driver's own, any of the organization's for staff."""

    def scoped(self) -> Select[Route]:
        stmt = super().scoped()
        if self.scope.access is Access.driver and self.scope.driver_id is None:
            # A driver login no driver profile names has no routes (comparing with None would
            # match every route without a driver).
            stmt = stmt.where(false())
        return stmt

    def stop(self, stop_id: str) -> RouteStop | None:
        """A stop of a route the caller may act on."""
        routes = self.scoped().with_only_columns(Route.id).scalar_subquery()
        return self.session.scalars(
            select(RouteStop).where(
                RouteStop.organization_id == self.scope.organization_id,
                RouteStop.id == stop_id,
                RouteStop.route_id.in_(routes),
            )
        ).first()


class DeliveryProofRepository(TenantRepository[DeliveryProof]):
    model = DeliveryProof

    def of_order(self, order_id: str) -> list[DeliveryProof]:
        stmt = self.scoped().where(DeliveryProof.order_id == order_id)
        return list(self.session.scalars(stmt.order_by(DeliveryProof.id)))

    def on_routes(self, route_ids: Collection[str]) -> list[DeliveryProof]:
        """Attempts made on ``route_ids``, oldest first."""
        stmt = self.scoped().where(DeliveryProof.route_id.in_(route_ids))
        return list(self.session.scalars(stmt.order_by(DeliveryProof.id)))

    def using(self, sha256: str) -> list[DeliveryProof]:
        """Proofs whose photo or signature is the file ``sha256``."""
        stmt = self.scoped().where(
            (DeliveryProof.photo_sha256 == sha256) | (DeliveryProof.signature_sha256 == sha256)
        )
        return list(self.session.scalars(stmt))


class ParcelScanRepository(TenantRepository[ParcelScan]):
    model = ParcelScan

    def scanned(self, route_ids: Collection[str]) -> dict[str, set[str]]:
        """Per route, the parcels scanned into it."""
        stmt = self.scoped().where(ParcelScan.route_id.in_(route_ids))
        found: dict[str, set[str]] = {r: set() for r in route_ids}
        for scan in self.session.scalars(stmt):
            found[scan.route_id].add(scan.parcel_id)
        return found


class RouteLoadoutRepository(TenantRepository[RouteLoadout]):
    model = RouteLoadout

    def of_routes(self, route_ids: Collection[str]) -> dict[str, RouteLoadout]:
        stmt = self.scoped().where(RouteLoadout.route_id.in_(route_ids))
        return {row.route_id: row for row in self.session.scalars(stmt)}


class ParcelRepository(TenantRepository[Parcel]):
    model = Parcel

    def on_routes(self, route_ids: Collection[str]) -> list[Parcel]:
        """The parcels of the orders on ``route_ids`` (with their order), in stop order."""
        stmt = (
            self.scoped()
            .join(Order, Order.id == Parcel.order_id)
            .outerjoin(RouteStop, RouteStop.id == Order.stop_id)
            .where(Order.route_id.in_(route_ids))
            .options(contains_eager(Parcel.order))
            .order_by(RouteStop.position, Order.id, Parcel.position)
        )
        return list(self.session.scalars(stmt))

    def by_barcodes(self, barcodes: Collection[str]) -> list[Parcel]:
        """The organization's parcels with these barcodes (with their order)."""
        stmt = (
            self.scoped()
            .join(Order, Order.id == Parcel.order_id)
            .where(Parcel.barcode.in_(barcodes))
            .options(contains_eager(Parcel.order))
        )
        return list(self.session.scalars(stmt))
