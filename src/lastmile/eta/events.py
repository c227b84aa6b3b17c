"""What a route tracker reports: the events that drive notifications and the tracking page."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Arriving:
    """The stop is next (or within the look-ahead): time to tell the customer."""

    kind: ClassVar[str] = "arriving"
    stop_id: str
    t: float
    expected: float
    stops_before: int


@dataclass(frozen=True, slots=True)
class Arrived:
    """The vehicle reached the stop; ``t`` is when that was decided, ``arrived_at`` when."""

    kind: ClassVar[str] = "arrived"
    stop_id: str
    t: float
    arrived_at: float
    manual: bool = False


@dataclass(frozen=True, slots=True)
class Departed:
    """The vehicle left the stop; ``t`` is when that was decided, ``departed_at`` when."""

    kind: ClassVar[str] = "departed"
    stop_id: str
    t: float
    departed_at: float
    dwell_s: float
    manual: bool = False


@dataclass(frozen=True, slots=True)
class EtaChanged:
    """The stop's window moved by more than the threshold since it was last reported."""

    kind: ClassVar[str] = "eta_changed"
    stop_id: str
    t: float
    expected: float
    earliest: float
    latest: float


@dataclass(frozen=True, slots=True)
class AtRisk:
    """The window stopped fitting the promise (``at_risk``) or fits again (not ``at_risk``)."""

    kind: ClassVar[str] = "at_risk"
    stop_id: str
    t: float
    at_risk: bool
    latest: float
    promised_end: float


TrackingEvent = Arriving | Arrived | Departed | EtaChanged | AtRisk


def event_to_dict(event: TrackingEvent) -> dict[str, Any]:
    """A JSON-able dict of the event with its ``kind``, for an outbox or a live channel."""
    return {"kind": event.kind, **asdict(event)}
