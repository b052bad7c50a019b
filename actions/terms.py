"""A plan asked for by its length: "über 6 Monate", "in 10 Raten", "spread over a year".

The NLU extracts amounts and dates; the number of monthly instalments a debtor asks
for is read here from the text, in German and English, digits or words. Only a count
of two or more is a term: "1 Monat" is a deferral, "50 im Monat" an amount.
"""

from __future__ import annotations

import re

from nlu.numbers import fold_umlauts, parse_english_words, parse_german_word

_NUMBER = r"(\d{1,2}|[a-zäöüß]+)"
# A count followed by months or instalments (plural: "6 Monate", "zehn Raten", "12 months").
_COUNT_UNIT = re.compile(
    _NUMBER
    + r"\s*(?:-\s*)?(?:monate[n]?|monatsraten|monatliche[n]? raten|raten|teilzahlungen"
    r"|months|monthly (?:payments|instal?lments)|instal?lments|payments|rates)\b"
)
_YEARS = (
    (re.compile(r"\b(?:ein(?:em|es)?|1) (?:ganzen )?jahr(?:es)?\b"), 12),
    (re.compile(r"\b(?:a|one|1) (?:whole )?year\b"), 12),
    (re.compile(r"\bhalbe[ns]? jahr\b|\bhalf a year\b|\bsix months\b"), 6),
    (re.compile(r"\b(?:zwei|2) jahre[n]?\b|\b(?:two|2) years\b"), 24),
    (re.compile(r"\banderthalb jahre[n]?\b|\b(?:a year and a half|18 months)\b"), 18),
)


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return parse_german_word(fold_umlauts(word)) or parse_english_words([word])


def plan_months(text: str) -> int | None:
    """Return the number of monthly instalments the debtor asks for, or None."""
    folded = " ".join(text.casefold().split())
    for match in _COUNT_UNIT.finditer(folded):
        count = _count(match.group(1))
        if count is not None and 2 <= count <= 120:
            return count
    for pattern, months in _YEARS:
        if pattern.search(folded):
            return months
    return None
