"""Quick replies: one-tap messages for drivers, in the customer's language (pure data)."""

from __future__ import annotations

import enum


class QuickReply(enum.StrEnum):
    im_outside = "im_outside"
    cant_find_entrance = "cant_find_entrance"
    running_late = "running_late"
    at_the_door = "at_the_door"
    leaving_at_safe_place = "leaving_at_safe_place"


DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[QuickReply, str]] = {
    "en": {
        QuickReply.im_outside: "I'm outside.",
        QuickReply.cant_find_entrance: "I can't find the entrance.",
        QuickReply.running_late: "I'm running a little late.",
        QuickReply.at_the_door: "I'm at your door.",
        QuickReply.leaving_at_safe_place: "I'm leaving your parcel at your safe place.",
    },
    "pt": {
        QuickReply.im_outside: "Estou lá fora.",
        QuickReply.cant_find_entrance: "Não encontro a entrada.",
        QuickReply.running_late: "Vou chegar um pouco atrasado.",
        QuickReply.at_the_door: "Estou à sua porta.",
        QuickReply.leaving_at_safe_place: "Vou deixar a sua encomenda no local seguro.",
    },
}


def language_of(tag: str | None) -> str:
    """The catalogue language for a language tag (``pt-BR`` -> ``pt``); English if unknown."""
    base = (tag or "").split("-", 1)[0].lower()
    return base if base in TEXTS else DEFAULT_LANGUAGE


def quick_reply_text(code: QuickReply, language: str | None) -> str:
    return TEXTS[language_of(language)][code]
