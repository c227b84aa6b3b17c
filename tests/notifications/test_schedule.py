"""Pure scheduling rules: quiet hours in the organization's time zone, backoff with jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from lastmile.notifications.models import NotificationEvent
from lastmile.notifications.quiet import after_quiet_hours, send_at
from lastmile.notifications.retry import MAX_DELAY, backoff, next_try

LISBON = ZoneInfo("Europe/Lisbon")
NIGHT = (time(21), time(8))


def lisbon(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=LISBON)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (lisbon(14, 20, 59), lisbon(14, 20, 59)),  # before the quiet hours
        (lisbon(14, 21), lisbon(15, 8)),  # they start: next morning
        (lisbon(14, 23, 30), lisbon(15, 8)),
        (lisbon(15, 3), lisbon(15, 8)),  # after midnight: the same morning
        (lisbon(15, 8), lisbon(15, 8)),  # they have ended
    ],
)
def test_quiet_hours_over_midnight_end_in_the_morning(moment: datetime, expected: datetime) -> None:
    """A moment inside 21:00-08:00 local time moves to the next 08:00; others stay."""
    assert after_quiet_hours(moment.astimezone(UTC), LISBON, *NIGHT) == expected


def test_quiet_hours_follow_the_local_clock_across_a_dst_change() -> None:
    """On the night clocks go forward (30 March 2025 in Lisbon), 08:00 is 07:00 UTC."""
    before = datetime(2025, 3, 29, 22, 0, tzinfo=UTC)  # 22:00 local (winter time)
    assert after_quiet_hours(before, LISBON, *NIGHT) == datetime(2025, 3, 30, 7, 0, tzinfo=UTC)


def test_daytime_quiet_hours_and_none() -> None:
    """A window within one day works too; equal start and end means no quiet hours."""
    assert after_quiet_hours(lisbon(14, 13), LISBON, time(12), time(14)) == lisbon(14, 14)
    assert after_quiet_hours(lisbon(14, 23), LISBON, time(0), time(0)) == lisbon(14, 23)


def test_only_messages_that_can_wait_wait() -> None:
    """Confirmations and feedback requests wait for morning; arriving and delayed go now."""
    late = lisbon(14, 22)
    for event in (NotificationEvent.order_confirmed, NotificationEvent.feedback_request):
        assert send_at(event, late, LISBON, *NIGHT) == lisbon(15, 8)
    for event in (NotificationEvent.arriving, NotificationEvent.delayed):
        assert send_at(event, late, LISBON, *NIGHT) == late


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    """Attempt n waits between half and all of base * 2^(n-1), never over six hours."""
    rng = random.Random(7)
    for attempt in range(1, 8):
        full = 30 * 2 ** (attempt - 1)
        waits = [backoff(attempt, 30, rng).total_seconds() for _ in range(50)]
        assert all(full / 2 <= w <= full for w in waits)
        assert max(waits) - min(waits) > full / 10  # jittered, not fixed
    assert backoff(40, 30, rng) <= MAX_DELAY


def test_the_last_attempt_gives_up() -> None:
    """After max attempts there is no next try (the message is dead)."""
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert next_try(2, 3, 30, now) is not None
    assert next_try(2, 3, 30, now) - now >= timedelta(seconds=30)  # type: ignore[operator]
    assert next_try(3, 3, 30, now) is None
