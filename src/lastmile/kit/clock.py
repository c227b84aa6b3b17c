"""Time: the one place that reads the wall clock (so tests and simulations can move it), and
the type of timestamps the API accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def utcnow() -> datetime:
    """Current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """An aware time as ISO 8601 in UTC with a ``Z`` (how the API and live events write it)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a ValueError if UTC cannot hold it (the edges of year 1 or 9999)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is out of range") from exc


# A timestamp sent to the API: it must carry a UTC offset and is kept in UTC from then on, so
# answers, JSON columns and comparisons all see one form.
Instant = Annotated[AwareDatetime, AfterValidator(as_utc)]
