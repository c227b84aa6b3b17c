"""Exceptions raised by the routing core."""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of every error the routing core raises on purpose."""


class InvalidProblem(RoutingError, ValueError):
    """
    The planning problem cannot be solved as stated (a client error, not a solver failure).

    Parameters
    ----------
    reason
        Human-readable explanation, suitable for an API error message.
    field
        Dotted path of the offending input, e.g. ``"jobs[3].windows[0]"``.
    """

    def __init__(self, reason: str, field: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.reason = reason
        self.field = field


class UnsupportedProfile(RoutingError, ValueError):
    """A travel model was asked for a routing profile it has no data for."""


class TravelModelError(RoutingError):
    """An external or file-based travel model failed to produce matrices."""
