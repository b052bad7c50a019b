"""A plan asked for by its length: "über 6 Monate", "in 10 Raten", "spread over a year".

The NLU extracts amounts and dates; the number of monthly instalments a debtor asks
for is read here from the text, in German and English, digits or words. Only a count
of two or more is a term: "1 Monat" is a deferral, "50 im Monat" an amount.
"""

from __future__ import annotations

import re
from decimal import Decimal
from difflib import get_close_matches

from nlu.numbers import fold_umlauts, parse_decimal, parse_english_words, parse_german_word

_NUMBER = r"(\d{1,2}|[a-zäöüß]+)"
# A number and the word after it ("6 Monate", "zehn Raten", "2 instalmnts"): the word is
# a unit when it is one of these or a misspelling of one (difflib, ratio >= 0.8), as
# debtors type them; plurals only, so "1 Monat" stays a deferral.
_NUMBER_WORD = re.compile(
    r"\b" + _NUMBER + r"\s*(?:-\s*)?(?=(?:monatliche[n]? |monthly )?([a-zäöüß]+))"
)
_MONTH_UNITS = ("monate", "monaten", "months", "mths", "mnths")
_INSTALMENT_UNITS = (
    "raten",
    "monatsraten",
    "teilzahlungen",
    "teilbeträge",
    "instalments",
    "installments",
    "payments",
    "rates",
    "parts",
    "teile",
)


def _is_unit(word: str, units: tuple[str, ...]) -> bool:
    """Tell whether `word` is one of `units`, or a misspelling of one."""
    if word in units:
        return True
    return len(word) >= 4 and bool(get_close_matches(word, units, n=1, cutoff=0.8))


def _counts(folded: str, units: tuple[str, ...]) -> list[int]:
    """Return the counts of two or more that stand before one of `units`, in order."""
    found = []
    for match in _NUMBER_WORD.finditer(folded):
        if not _is_unit(match.group(2), units):
            continue
        count = _count(match.group(1))
        if count is not None and 2 <= count <= 120:
            found.append(count)
    return found


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


def asks_for_plan(text: str) -> bool:
    """Tell whether the words ask for instalments: a monthly amount or a number of them.

    A number of instalments in so many words ("2 raten", "in drei Teilzahlungen", "split
    it into 3 payments"); "in 2 Monaten" is left out: it may as well be a deferral.
    """
    if monthly_amount(text) is not None:
        return True
    return bool(_counts(" ".join(text.casefold().split()), _INSTALMENT_UNITS))


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return parse_german_word(fold_umlauts(word)) or parse_english_words([word])


def plan_months(text: str) -> int | None:
    """Return the number of monthly instalments the debtor asks for, or None."""
    folded = " ".join(text.casefold().split())
    counts = _counts(folded, _MONTH_UNITS + _INSTALMENT_UNITS)
    if counts:
        return counts[0]
    for pattern, months in _YEARS:
        if pattern.search(folded):
            return months
    return None
