"""One loader for the text catalogues: a YAML file of German and English texts by key.

Every channel's own wording (WhatsApp, the phone line, reminders, the payment
agreement, the web chat) lives in such a file beside its code and is read the same
way: once, and only when German and English have the same keys, so a text added in
one language only fails at start instead of in a debtor's conversation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

import yaml

LANGUAGES: Final = ("de", "en")
DEFAULT_LANGUAGE: Final = "de"

Texts = dict[str, dict[str, str]]


@cache
def load(path: Path, *, fold_spaces: bool = False) -> Texts:
    """Read a catalogue once: every text by language and key.

    `fold_spaces` folds each text's runs of white space (YAML line breaks) into one
    space, for texts that go out as one line (an SMS, an e-mail paragraph).
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    texts = {
        language: {
            str(key): " ".join(str(value).split()) if fold_spaces else str(value)
            for key, value in (data.get(language) or {}).items()
        }
        for language in LANGUAGES
    }
    only = texts["de"].keys() ^ texts["en"].keys()
    if only:
        raise ValueError(f"{path.name}: keys only in one language: {sorted(only)}")
    return texts


def text(texts: Texts, key: str, language: str | None, **values: str) -> str:
    """Return one text in the language (German when unknown), its placeholders filled."""
    template = texts.get(language or DEFAULT_LANGUAGE, texts[DEFAULT_LANGUAGE])[key]
    return template.format(**values) if values else template
