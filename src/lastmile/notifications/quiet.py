"""Quiet hours (pure): when a message that can wait may go out."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lastmile.notifications.models import NotificationEvent

# Delivery-day messages lose their point if held until morning (an evening delivery is still
# coming); everything else can wait for the quiet hours to end.
URGENT = frozenset(
    {
        NotificationEvent.out_for_delivery,
        NotificationEvent.stops_away,
        NotificationEvent.arriving,
        NotificationEvent.delayed,
        NotificationEvent.delivered,
        NotificationEvent.failed,
    }
)


def _quiet_at(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def after_quiet_hours(moment: datetime, tz: ZoneInfo, start: time, end: time) -> datetime:
    """``moment`` itself, or, if it falls in the quiet hours ``start``-``end`` (local time in
    ``tz``, possibly over midnight), the instant they end."""
    local = moment.astimezone(tz)
    if not _quiet_at(local.time(), start, end):
        return moment
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=tz)
    return ends.astimezone(UTC)


def send_at(
    event: NotificationEvent, moment: datetime, tz: ZoneInfo, start: time, end: time
) -> datetime:
    """When a customer message about ``event`` due at ``moment`` may be sent."""
    return moment if event in URGENT else after_quiet_hours(moment, tz, start, end)
