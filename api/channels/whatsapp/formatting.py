"""WhatsApp has no buttons and a length limit: numbered options, split messages, keywords.

Pure functions: no I/O beyond reading the channel's own texts once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

from domain import catalogue

# Twilio refuses WhatsApp bodies over 1600 characters.
MAX_BODY_CHARS: Final = 1600
TEXTS_FILE = Path(__file__).with_name("texts.yml")
LANGUAGES: Final = ("de", "en")
OPT_OUT_WORDS: Final = frozenset({"stop", "stopp", "abmelden", "unsubscribe", "abbestellen"})
OPT_IN_WORDS: Final = frozenset({"start"})
# "stop" could be either language; only these clearly say which one the debtor speaks.
_ENGLISH_OPT_OUT: Final = frozenset({"unsubscribe"})
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# Titles such as "1. 260000117 (475,68 €)" carry their own number; ours replaces it.
_LEADING_NUMBER = re.compile(r"^\s*\d+[.)]\s*")
# From the coarsest boundary to the finest, each with what rejoins its parts.
_BOUNDARIES: Final = (
    (re.compile(r"\n\s*\n"), "\n\n"),
    (re.compile(r"\n"), "\n"),
    (re.compile(r"(?<=[.!?…:;])\s+"), " "),
    (re.compile(r"\s+"), " "),
)


def _texts() -> catalogue.Texts:
    """Load the channel's texts once, checking both languages have every key."""
    return catalogue.load(TEXTS_FILE)


def text(key: str, language: str | None, **values: str) -> str:
    """Return one of the channel's texts in the language (German when unknown)."""
    return catalogue.text(_texts(), key, language, **values)


def keyword(body: str) -> str | None:
    """Return "opt_out" or "opt_in" when the message is only such a keyword."""
    word = body.strip().strip(".!").strip().casefold()
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in OPT_IN_WORDS:
        return "opt_in"
    return None


def keyword_language(body: str, conversation_language: str | None) -> str:
    """Return the language to confirm an opt-out in: the conversation's, else the word's."""
    if conversation_language in LANGUAGES:
        return str(conversation_language)
    return "en" if body.strip().strip(".!").casefold() in _ENGLISH_OPT_OUT else "de"


def resolve_choice(body: str, options: list[dict[str, Any]] | None) -> str | None:
    """Return the payload of the numbered option the debtor answered with, if any."""
    match = _CHOICE.match(body)
    if not match or not options:
        return None
    index = int(match.group(1)) - 1
    if 0 <= index < len(options):
        return str(options[index]["payload"])
    return None


def _option_title(title: str) -> str:
    """Return a button title without a number of its own."""
    return _LEADING_NUMBER.sub("", title).strip() or title.strip()


def render(
    replies: list[dict[str, Any]], language: str | None
) -> tuple[list[str], list[dict[str, Any]] | None]:
    """Turn bot turns into WhatsApp bodies and the options a number answer may pick.

    The buttons of the last turn that has some become numbered lines; payloads
    are never shown. Each body fits WhatsApp's limit.
    """
    last_with_buttons = max(
        (i for i, reply in enumerate(replies) if reply.get("buttons")), default=None
    )
    bodies: list[str] = []
    options: list[dict[str, Any]] | None = None
    for i, reply in enumerate(replies):
        body = str(reply.get("text") or "").strip()
        if i == last_with_buttons:
            options = [
                {"title": _option_title(str(b.get("title") or "")), "payload": str(b["payload"])}
                for b in reply["buttons"]
                if b.get("payload")
            ]
            lines = "\n".join(f"{n} – {o['title']}" for n, o in enumerate(options, start=1))
            body = "\n\n".join(
                part for part in (body, lines, text("reply_with_number", language)) if part
            )
        bodies.extend(split_text(body))
    return bodies, options or None


def media_urls(replies: list[dict[str, Any]]) -> list[str]:
    """Return the images of bot turns (a confirmation's EPC QR code) to send as media."""
    return [
        reply["image"]
        for reply in replies
        if isinstance(reply.get("image"), str)
        and reply["image"].startswith(("https://", "http://"))
    ]


def _split_once(body: str) -> tuple[list[str], str] | None:
    """Split on the coarsest boundary the text has; return the parts and their joiner."""
    for pattern, joiner in _BOUNDARIES:
        parts = [p for p in pattern.split(body) if p.strip()]
        if len(parts) > 1:
            return parts, joiner
    return None


def split_text(body: str, limit: int = MAX_BODY_CHARS) -> list[str]:
    """Split a text into parts of at most `limit` characters, on the coarsest boundary."""
    body = body.strip()
    if len(body) <= limit:
        return [body] if body else []
    split = _split_once(body)
    if split is None:
        # One unbroken word longer than the limit: cut it.
        return [body[:limit], *split_text(body[limit:], limit)]
    parts, joiner = split
    chunks: list[str] = []
    current = ""
    for part in parts:
        for piece in split_text(part, limit):
            candidate = f"{current}{joiner}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks
