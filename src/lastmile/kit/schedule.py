"""Weekly opening hours, shared by depots, hubs, lockers and pick-up points."""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, Field, model_validator


class OpeningHours(BaseModel):
    """Open from ``opens`` to ``closes`` (local time) on ``weekday`` (0 = Monday)."""

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time

    @model_validator(mode="after")
    def _closes_after_opens(self) -> OpeningHours:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


def is_open(hours: list[OpeningHours], at_local: datetime) -> bool:
    """Whether a place with these hours is open at a local (naive or aware) time.

    An empty list means open all the time (staffed hubs and 24/7 lockers).
    """
    if not hours:
        return True
    moment = at_local.time().replace(tzinfo=None)
    return any(h.weekday == at_local.weekday() and h.opens <= moment < h.closes for h in hours)
