"""The website chat's texts in German and English, read once from `messages.yml`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Final

import yaml

MESSAGES_FILE: Final = Path(__file__).with_name("messages.yml")
LANGUAGES: Final = ("de", "en")
DEFAULT_LANGUAGE: Final = "de"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Return every text by language and key; both languages must have the same keys."""
    raw = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    texts = {lang: {str(k): str(v) for k, v in raw[lang].items()} for lang in LANGUAGES}
    if texts["de"].keys() != texts["en"].keys():
        missing = texts["de"].keys() ^ texts["en"].keys()
        raise ValueError(f"{MESSAGES_FILE.name}: keys only in one language: {sorted(missing)}")
    return texts


def language_or_default(language: object) -> str:
    """Return the language if the chat speaks it, else German."""
    return language if isinstance(language, str) and language in LANGUAGES else DEFAULT_LANGUAGE


def text(language: object, key: str) -> str:
    """Return one text in the language (German if the language is unknown)."""
    return catalogue()[language_or_default(language)][key]
