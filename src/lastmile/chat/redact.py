"""Keep contact details out of chat messages (pure: text in, text out).

The rule, documented in docs/chat-feedback.md:

* an e-mail address (``name@domain.tld``) becomes ``[email hidden]``;
* a phone number, i.e. any run of 8 or more digits that may be spaced or split by ``+``,
  ``-``, ``.``, ``/`` or brackets (at most two such characters between digits), becomes
  ``[phone hidden]``, unless the whole run is a date (``2031-05-04``, ``4/5/2031``).

Postcodes (``4000-447``), house numbers and times stay readable. Numbers written out in words
are not caught: redaction is a guard against the obvious slip, not against a determined sender.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email hidden]"
PHONE_MASK = "[phone hidden]"

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\(?\+?\(?\d(?:[ \t().\-/+]{0,2}\d){7,}")
_DATE = re.compile(r"\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{4}")


def _phone(match: re.Match[str]) -> str:
    return match.group() if _DATE.fullmatch(match.group()) else PHONE_MASK


def redact(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by a visible mask."""
    return _PHONE.sub(_phone, _EMAIL.sub(EMAIL_MASK, text))
