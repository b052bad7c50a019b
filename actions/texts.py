"""Render domain responses in the debtor's language.

Rasa picks a conditional response variation from the tracker state *before* an
action's events apply, so a language that changes within a step would be missed.
Actions therefore render the domain's responses themselves, with the language
they know to be current. The texts stay in bot/domain (German default, English
variation conditioned on the `language` slot).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _variation(domain: Mapping[str, Any], key: str, language: str) -> Mapping[str, Any]:
    variations = domain.get("responses", {}).get(key)
    if not variations:
        raise KeyError(f"response {key!r} is not in the domain")
    default = None
    for variation in variations:
        conditions = variation.get("condition") or []
        if not conditions:
            default = default or variation
            continue
        if all(
            c.get("type") == "slot" and c.get("name") == "language" and c.get("value") == language
            for c in conditions
        ):
            return variation
    if default is None:
        raise KeyError(f"response {key!r} has no default variation")
    return default


def text(domain: Mapping[str, Any], key: str, language: str, **values: Any) -> str:
    """Return the response text for `key` in `language`, with `{placeholders}` filled."""
    template = str(_variation(domain, key, language).get("text", ""))
    return string.Formatter().vformat(template, (), _Blank(values))


def say(
    dispatcher: CollectingDispatcher,
    domain: Mapping[str, Any],
    key: str,
    language: str,
    *,
    buttons: list[dict[str, str]] | None = None,
    **values: Any,
) -> None:
    """Send the response `key` in `language` (its own buttons unless others are given)."""
    variation = _variation(domain, key, language)
    body = text(domain, key, language, **values)
    chosen = buttons if buttons is not None else list(variation.get("buttons") or [])
    if chosen:
        dispatcher.utter_message(text=body, buttons=chosen)
    else:
        dispatcher.utter_message(text=body)
