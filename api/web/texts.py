"""The website chat's texts in German and English, read once from `messages.yml`."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from domain.catalogue import DEFAULT_LANGUAGE, LANGUAGES, Texts, load

MESSAGES_FILE: Final = Path(__file__).with_name("messages.yml")
__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "MESSAGES_FILE", "catalogue", "text"]


def catalogue() -> Texts:
    """Return every text by language and key; both languages must have the same keys."""
    return load(MESSAGES_FILE)


def language_or_default(language: object) -> str:
    """Return the language if the chat speaks it, else German."""
    return language if isinstance(language, str) and language in LANGUAGES else DEFAULT_LANGUAGE


def text(language: object, key: str) -> str:
    """Return one text in the language (German if the language is unknown)."""
    return catalogue()[language_or_default(language)][key]
