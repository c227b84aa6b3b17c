"""Every event has its texts in English and Portuguese, naming the merchant and the link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lastmile.notifications.messages import MessageTemplates, primary_language
from lastmile.notifications.models import NotificationEvent

LISBON = ZoneInfo("Europe/Lisbon")
LINK = "https://lastmile.example/t/tok"
CONTEXT: dict[str, Any] = {
    "company": "Porto Express",
    "merchant": "Loja Azul",
    "customer_name": "Ana",
    "reference": "A-1001",
    "link": LINK,
    "options": {
        "keep": LINK,
        "reschedule": f"{LINK}#reschedule",
        "locker": f"{LINK}#locker",
        "safe_place": f"{LINK}#safe-place",
    },
    "rate_link": f"{LINK}#rate",
    "promised_start": datetime(2025, 5, 14, 8, tzinfo=UTC),
    "promised_end": datetime(2025, 5, 14, 10, tzinfo=UTC),
    "eta_earliest": datetime(2025, 5, 14, 10, 15, tzinfo=UTC),
    "eta_latest": datetime(2025, 5, 14, 10, 45, tzinfo=UTC),
    "stops": 2,
    "minutes": 9,
    "reason": None,
    "reason_code": "not_home",
    "change": None,
    "proof_url": None,
}


@pytest.mark.parametrize("language", ["en", "pt"])
@pytest.mark.parametrize("event", list(NotificationEvent))
def test_each_event_reads_in_each_language(event: NotificationEvent, language: str) -> None:
    """Subject, email text and SMS all render; they name the merchant and carry a link."""
    rendered = MessageTemplates().render(event, language, LISBON, CONTEXT)
    assert rendered.language == language
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "Loja Azul" in rendered.text
    assert "Loja Azul" in rendered.sms
    assert LINK in rendered.text
    assert LINK in rendered.sms
    assert len(rendered.sms) < 320  # two SMS segments at most


def test_times_are_local_and_days_translated() -> None:
    """Windows are written in the organization's zone (Lisbon is UTC+1 in May), in Portuguese."""
    pt = MessageTemplates().render(NotificationEvent.slot_booked, "pt", LISBON, CONTEXT)
    assert pt.subject == "Entrega marcada: qua 14 mai, 09:00\N{EN DASH}11:00"
    en = MessageTemplates().render(NotificationEvent.delayed, "en", LISBON, CONTEXT)
    assert "New expected window: Wed 14 May, 11:15\N{EN DASH}11:45." in en.text


def test_a_change_that_is_not_a_new_time_says_what_was_saved() -> None:
    """slot_changed after a safe-place choice confirms it instead of announcing a new time."""
    saved = MessageTemplates().render(
        NotificationEvent.slot_changed, "en", LISBON, CONTEXT | {"change": "safe-place"}
    )
    assert saved.subject == "Your delivery choices are saved"
    assert "your safe place is saved" in saved.text
    moved = MessageTemplates().render(
        NotificationEvent.slot_changed, "en", LISBON, CONTEXT | {"change": "window"}
    )
    assert moved.subject.startswith("New delivery time: Wed 14 May, 09:00")


@pytest.mark.parametrize(
    ("tag", "expected"), [("pt-PT", "pt"), ("pt_BR", "pt"), ("EN", "en"), ("", "en"), (None, "en")]
)
def test_language_tags_reduce_to_their_primary_subtag(tag: str | None, expected: str) -> None:
    """Regional tags use their language's templates."""
    assert primary_language(tag) == expected
