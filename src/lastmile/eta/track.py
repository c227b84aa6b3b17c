"""A tracker's bookkeeping of one stop, and its JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from lastmile.eta.model import StopState, StopStatus

NOT_REACHED = (StopStatus.PENDING, StopStatus.ARRIVING)


class Prediction(NamedTuple):
    """A raw prediction, kept until the stop is reached to learn from."""

    made_at: float
    raw: float
    pace: float


@dataclass(slots=True)
class StopTrack:
    """Mutable bookkeeping of one stop (the public view is :class:`StopState`)."""

    status: StopStatus = StopStatus.PENDING
    arriving_at: float | None = None
    arrived_at: float | None = None
    departed_at: float | None = None
    manual_arrival: bool = False
    manual_departure: bool = False
    # Another stop was open at the same time (neighbours served from one parking spot): the
    # duration is theirs together, so it teaches nothing about one stop's dwell.
    shared: bool = False
    inside_since: float | None = None  # first fix of the current stay inside the arrival zone
    misses: int = 0  # fixes outside the arrival zone since then
    outside_since: float | None = None  # first fix of the current run outside the departure zone
    outside_fixes: int = 0
    at_risk: bool = False
    reported: tuple[float, float] | None = None  # window (earliest, latest) last reported
    # Predictions sampled every record_every_s, learnt from on arrival.
    predictions: list[Prediction] = field(default_factory=list)

    def view(self) -> StopState:
        """The public, frozen state."""
        return StopState(
            self.status,
            self.arriving_at,
            self.arrived_at,
            self.departed_at,
            self.manual_arrival,
            self.manual_departure,
        )


def track_state(track: StopTrack) -> dict[str, Any]:
    """JSON-able form of one stop's bookkeeping."""
    state = asdict(track)
    state["status"] = track.status.value
    state["reported"] = None if track.reported is None else list(track.reported)
    state["predictions"] = [list(p) for p in track.predictions]
    return state


def track_from_state(state: Mapping[str, Any]) -> StopTrack:
    """The bookkeeping :func:`track_state` describes."""
    reported = state["reported"]
    return StopTrack(
        **{
            **state,
            "status": StopStatus(state["status"]),
            "reported": None if reported is None else (float(reported[0]), float(reported[1])),
            "predictions": [Prediction(*map(float, p)) for p in state["predictions"]],
        }
    )
