"""Default handling times by delivery method."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class DeliveryMethod(StrEnum):
    """How an order is handed over."""

    DOORSTEP = "doorstep"
    IN_HOME = "in_home"
    LOCKER = "locker"
    PARCEL_SHOP = "parcel_shop"


@dataclass(frozen=True, slots=True)
class ServiceTimeRule:
    """
    Handling time of one order: a per-stop setup, a first parcel and each further parcel.

    Parameters
    ----------
    setup_s
        Once per stop, shared by orders merged into it (parking, walking, opening a locker).
    first_parcel_s
        Handling the order's first parcel.
    extra_parcel_s
        Each further parcel of the same order.
    age_check_s
        Added when the recipient's age must be verified.
    """

    setup_s: int
    first_parcel_s: int
    extra_parcel_s: int
    age_check_s: int = 60


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """Setup and service seconds, ready for :class:`~lastmile.routing.problem.Job`."""

    setup_s: int
    service_s: int


DEFAULT_SERVICE_TIME_RULES: Mapping[DeliveryMethod, ServiceTimeRule] = {
    DeliveryMethod.DOORSTEP: ServiceTimeRule(setup_s=30, first_parcel_s=22, extra_parcel_s=15),
    DeliveryMethod.IN_HOME: ServiceTimeRule(setup_s=60, first_parcel_s=240, extra_parcel_s=60),
    DeliveryMethod.LOCKER: ServiceTimeRule(setup_s=60, first_parcel_s=15, extra_parcel_s=10),
    DeliveryMethod.PARCEL_SHOP: ServiceTimeRule(setup_s=90, first_parcel_s=20, extra_parcel_s=10),
}
"""A one-parcel doorstep delivery takes 52 s, the median planned service time of urban
parcel delivery (Amazon Last Mile Routing Research Challenge data)."""


def service_time(
    method: DeliveryMethod,
    parcels: int,
    *,
    age_check: bool = False,
    rules: Mapping[DeliveryMethod, ServiceTimeRule] = DEFAULT_SERVICE_TIME_RULES,
) -> ServiceTime:
    """
    Setup and service time of an order from its delivery method and size.

    Parameters
    ----------
    method
        How the order is handed over.
    parcels
        Number of parcels in the order (at least one is assumed).
    age_check
        Whether the recipient's age must be checked on delivery.
    rules
        Time rules per method; override with measured values.

    Returns
    -------
    ServiceTime
        ``setup_s`` (shared per stop) and ``service_s`` (this order's own handling).
    """
    rule = rules[method]
    service = rule.first_parcel_s + rule.extra_parcel_s * max(0, parcels - 1)
    if age_check:
        service += rule.age_check_s
    return ServiceTime(setup_s=rule.setup_s, service_s=service)
