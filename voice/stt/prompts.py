"""Domain words Whisper is primed with, per language (its `initial_prompt`).

Debtors talk about instalments, amounts and references; with these words in the prompt
Whisper base writes "Monat" and "Raten" where robotic or noisy speech made it guess
"Moment" and "Atem".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

DOMAIN_PROMPTS: Final[Mapping[str, str]] = {
    "de": "Inkasso-Gespräch: Zahlung, Raten, Euro im Monat, Aktenzeichen.",
    "en": "Debt collection call: payment, instalments, euros a month, reference number.",
}


def prompt_for(language: str | None, prompt: str | None, prompts: Mapping[str, str]) -> str | None:
    """Return the caller's prompt, else the language's domain prompt ("" means none)."""
    if prompt is not None:
        return prompt or None
    return prompts.get(language or "")
