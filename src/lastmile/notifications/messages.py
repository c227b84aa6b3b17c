"""Message texts: one Jinja2 template per event and language, each with three blocks —
``subject`` and ``text`` (email) and ``sms`` (one short line).

Templates live in ``web/templates/notifications/<language>/<event>.txt``; a language without
a template for the event falls back to English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from lastmile.notifications.models import NotificationEvent
from lastmile.web import TEMPLATES_DIR

DEFAULT_LANGUAGE = "en"
TEMPLATE_ROOT = TEMPLATES_DIR / "notifications"

_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "pt": ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"],
}
_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "pt": ["seg", "ter", "qua", "qui", "sex", "sáb", "dom"],
}


@dataclass(frozen=True, slots=True)
class Rendered:
    language: str
    subject: str
    text: str
    sms: str


def primary_language(tag: str | None) -> str:
    """``pt-PT`` -> ``pt``; empty -> English."""
    return (tag or DEFAULT_LANGUAGE).replace("_", "-").split("-")[0].lower() or DEFAULT_LANGUAGE


class MessageTemplates:
    """Renders an event's messages in a customer's language, times in the local zone."""

    def __init__(self, root: Path = TEMPLATE_ROOT) -> None:
        self.env = Environment(
            loader=FileSystemLoader(root),
            autoescape=False,  # noqa: S701 - plain-text email and SMS, never HTML
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(
        self,
        event: NotificationEvent,
        language: str | None,
        tz: ZoneInfo,
        context: Mapping[str, Any],
    ) -> Rendered:
        lang = primary_language(language)
        try:
            template = self.env.get_template(f"{lang}/{event.value}.txt")
        except TemplateNotFound:
            lang = DEFAULT_LANGUAGE
            template = self.env.get_template(f"{lang}/{event.value}.txt")

        def when(moment: datetime) -> str:
            local = moment.astimezone(tz)
            names = _WEEKDAYS.get(lang, _WEEKDAYS[DEFAULT_LANGUAGE])
            months = _MONTHS.get(lang, _MONTHS[DEFAULT_LANGUAGE])
            return f"{names[local.weekday()]} {local.day} {months[local.month - 1]}"

        def clock(moment: datetime) -> str:
            return moment.astimezone(tz).strftime("%H:%M")

        def window(start: datetime, end: datetime) -> str:
            return f"{when(start)}, {clock(start)}\N{EN DASH}{clock(end)}"

        values = dict(context) | {"day": when, "clock": clock, "window": window}
        # Names a template sets at its top level (e.g. a table of labels) for its blocks.
        exported = {
            k: v for k, v in vars(template.make_module(values)).items() if not k.startswith("_")
        }
        values |= exported
        blocks = {}
        for name in ("subject", "text", "sms"):
            block = template.blocks[name]
            blocks[name] = "".join(block(template.new_context(values))).strip()
        return Rendered(lang, " ".join(blocks["subject"].split()), blocks["text"], blocks["sms"])
