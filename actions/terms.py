"""A plan asked for by its length: "über 6 Monate", "in 10 Raten", "spread over a year".

The NLU extracts amounts and dates; the number of monthly instalments a debtor asks
for is read here from the text, in German and English, digits or words. Only a count
of two or more is a term: "1 Monat" is a deferral, "50 im Monat" an amount.
"""

from __future__ import annotations

import re
from decimal import Decimal

from nlu.numbers import fold_umlauts, parse_decimal, parse_english_words, parse_german_word

_NUMBER = r"(\d{1,2}|[a-zäöüß]+)"
# A count followed by months or instalments (plural: "6 Monate", "zehn Raten", "12 months").
_COUNT_UNIT = re.compile(
    _NUMBER + r"\s*(?:-\s*)?(?:monate[n]?|monatsraten|monatliche[n]? raten|raten|teilzahlungen"
    r"|months|monthly (?:payments|instal?lments)|instal?lments|payments|rates)\b"
)
_YEARS = (
    (re.compile(r"\b(?:ein(?:em|es)?|1) (?:ganzen )?jahr(?:es)?\b"), 12),
    (re.compile(r"\b(?:a|one|1) (?:whole )?year\b"), 12),
    (re.compile(r"\bhalbe[ns]? jahr\b|\bhalf a year\b|\bsix months\b"), 6),
    (re.compile(r"\b(?:zwei|2) jahre[n]?\b|\b(?:two|2) years\b"), 24),
    (re.compile(r"\banderthalb jahre[n]?\b|\b(?:a year and a half|18 months)\b"), 18),
)


# An amount per month: "40 euro im monat", "30€ monatlich", "25 a month", "£30 per month".
_PER_MONTH = re.compile(
    r"(?<![\d.,])(\d{1,5}(?:[.,]\d{1,2})?)\s*(?:€|eur|euro|euros|£|\$|,-)?\s*"
    r"(?:im monat|pro monat|monatlich|mtl\.?|/\s*monat|den monat|jeden monat|per month|a month"
    r"|each month|every month|monthly|/\s*month|pm|p\.m\.|in the month)(?!\w)"
)


# Banknote slang for amounts ("a tenner a month", "nen zwanni im monat").
_SLANG = {
    "fiver": "5",
    "tenner": "10",
    "zehner": "10",
    "zwanni": "20",
    "zwanziger": "20",
    "fuffi": "50",
    "fuffziger": "50",
    "fuffi's": "50",
    "hunni": "100",
    "hunderter": "100",
}
_SLANG_WORD = re.compile(r"\b(?:an? |nen |einen |'?n )?(" + "|".join(_SLANG) + r")\b")


# The same in words: "thirty a month", "fifty quid a month", "fünfzig Euro im Monat".
_WORDS_PER_MONTH = re.compile(
    r"((?:[a-zäöüß]+[- ]){0,2}[a-zäöüß]+)\s+(?:€|eur|euro|euros|quid|bucks|mäuse|maeuse)?\s*"
    r"(?:im monat|pro monat|monatlich|mtl\.?|den monat|jeden monat|per month|a month"
    r"|each month|every month|monthly|in the month)(?!\w)"
)


def _words_value(words: str) -> Decimal | None:
    """Read the number at the end of a few words ("could manage fifty" → 50)."""
    parts = words.split()
    for size in (3, 2, 1):
        tail = parts[-size:] if len(parts) >= size else None
        if not tail:
            continue
        value = parse_english_words(tail) if size > 1 else None
        if value is None and size == 1:
            value = parse_german_word(fold_umlauts(tail[0])) or parse_english_words(tail)
        if value is not None and value >= 2:
            return Decimal(value)
    return None


def monthly_amount(text: str) -> Decimal | None:
    """Return the amount the debtor names per month ("40 euro im monat"), or None."""
    folded = " ".join(text.casefold().split())
    folded = _SLANG_WORD.sub(lambda m: _SLANG[m.group(1)], folded)
    for match in _PER_MONTH.finditer(folded):
        value = parse_decimal(match.group(1))
        if value is not None and value > 0:
            return value
    for match in _WORDS_PER_MONTH.finditer(folded):
        value = _words_value(match.group(1))
        if value is not None:
            return value
    return None


# A number of instalments in so many words ("2 raten", "in drei Teilzahlungen", "split it
# into 3 payments"); "in 2 Monaten" is left out: it may as well be a deferral.
_INSTALMENT_COUNT = re.compile(
    _NUMBER + r"\s*(?:-\s*)?(?:monatsraten|monatliche[n]? raten|raten|teilzahlungen"
    r"|monthly (?:payments|instal?lments)|instal?lments|payments|rates)\b"
)


def asks_for_plan(text: str) -> bool:
    """Tell whether the words ask for instalments: a monthly amount or a number of them."""
    if monthly_amount(text) is not None:
        return True
    folded = " ".join(text.casefold().split())
    return any(
        (count := _count(m.group(1))) is not None and 2 <= count <= 120
        for m in _INSTALMENT_COUNT.finditer(folded)
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
