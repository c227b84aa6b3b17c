"""The redaction rule: contact details go, ordinary numbers and dates stay."""

from __future__ import annotations

import pytest

from lastmile.chat.redact import EMAIL_MASK, PHONE_MASK, redact

HIDDEN = [
    ("+351 912 345 678", PHONE_MASK),
    ("912345678", PHONE_MASK),
    ("(+44) 20-7946-0958", PHONE_MASK),
    ("call 0044 7700 900123 now", f"call {PHONE_MASK} now"),
    ("9 1 2 3 4 5 6 7 8", PHONE_MASK),
    ("91.234.56.78", PHONE_MASK),
    ("ana.silva+shop@example.co.uk", EMAIL_MASK),
    ("write to A_B@mail-server.pt.", f"write to {EMAIL_MASK}."),
    ("ana12345678@example.org", EMAIL_MASK),
    ("me: joão@correio.pt / 912 345 678", f"me: {EMAIL_MASK} / {PHONE_MASK}"),
]
KEPT = [
    "4000-447 Porto",  # a postcode: 7 digits
    "Rua de Santa Catarina 100, 3º esq",
    "between 10:30 and 11:45",
    "on 2031-05-04 or 4/5/2031",
    "gate code 1234",
    "I'm at the door @ number 12",
]


@pytest.mark.parametrize(("text", "expected"), HIDDEN)
def test_contact_details_are_masked(text: str, expected: str) -> None:
    """Phone numbers (8+ digits, spaced or punctuated) and e-mail addresses are masked."""
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_text_is_left_alone(text: str) -> None:
    """Postcodes, addresses, times, dates and short codes stay as written."""
    assert redact(text) == text
