"""The answers of the income and outgoings check, read as amounts and a head count.

Debtors write amounts as they are used to: "1.800", "1800,50", "1,800.50", "ca. 1.800 €",
"2k", "zwölfhundert", "twelve hundred", "650 + 120" (summed); "0", "keine", "nichts",
"none" are zero. A bare "nein"/"no" is zero for an outgoing ("Zahlen Sie andere Raten
ab?" – "nein") but no answer to the income question. "Weiß nicht" / "no idea" is no
answer: the question is asked again. Dependants: a number, a number word, "keine",
"nur ich", or the people named ("meine Frau und zwei Kinder" is 3).
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise
from typing import Final

from nlu.numbers import (
    EN_NUMBER_WORDS,
    fold_umlauts,
    parse_decimal,
    parse_english_words,
    parse_german_word,
)

_DONT_KNOW = re.compile(
    r"\b(wei(ß|ss) (ich )?(es )?nicht|wei(ß|ss) nich|keine ahnung|k\.? ?a\.?|unsicher"
    r"|no idea|not sure|don'?t know|dont know|dunno|no clue)\b"
)
_ZERO_WORDS: Final = frozenset(
    {
        "0",
        "null",
        "nichts",
        "nix",
        "keine",
        "keinen",
        "kein",
        "keins",
        "entfällt",
        "none",
        "nothing",
        "zero",
        "nil",
        "nada",
        "-",
        "–",
    }
)
_NO_WORDS: Final = frozenset({"nein", "nee", "nö", "no", "nope"})
# A digit string with optional separators and an optional "k" (thousands) after it.
_NUMBER = re.compile(r"(?<![\w])(\d[\d.,]*)\s*(k|tsd\.?|tausend)?(?![\w])", re.IGNORECASE)
_PLUS = re.compile(r"^\s*(\+|plus|und|and|&)\s*$")
_WORD = re.compile(r"[a-zäöüß]+")

# People a debtor supports, named instead of counted ("meine Frau", "my son").
_PARTNER = re.compile(
    r"\b(frau|ehefrau|mann|ehemann|partner(in)?|lebensgefährt(e|in)|wife|husband|spouse)\b"
)
_ONE_CHILD = re.compile(
    r"\b(kind|sohn|tochter|enkel(in)?|mutter|vater|mama|papa|child|kid|son|daughter|mother|father|mum|mom|dad)\b"
)
_CHILDREN = re.compile(r"\b(kinder|söhne|töchter|children|kids|sons|daughters)\b")
_NOBODY = re.compile(
    r"\b(niemand(em)?|keine[nm]?|nur (ich|mich)|ich allein|allein|alleine|nobody|no ?one"
    r"|none|just me|only me|myself)\b"
)


def _german_number(word: str) -> int | None:
    """Parse a German number word, "zwölfhundert" (12 x 100) included."""
    value = parse_german_word(word)
    if value is not None:
        return value
    folded = fold_umlauts(word)
    head, found, tail = folded.partition("hundert")
    if not found or not head:
        return None
    hundreds = parse_german_word(head)
    rest = parse_german_word(tail) if tail else 0
    if hundreds is None or rest is None or not 10 <= hundreds <= 99 or rest >= 100:
        return None
    return hundreds * 100 + rest


def _digit_amounts(text: str) -> list[tuple[int, int, Decimal]]:
    """Return (start, end, amount) of every digit amount in the text."""
    found = []
    for match in _NUMBER.finditer(text):
        raw = match.group(1).rstrip(".,")
        value = parse_decimal(raw)
        if value is None:
            continue
        if match.group(2):
            value *= 1000
        found.append((match.start(), match.end(), value))
    return found


def _word_amount(text: str) -> Decimal | None:
    """Return an amount written in words ("zwölfhundert", "one thousand two hundred")."""
    words = _WORD.findall(text)
    for word in words:
        value = _german_number(word)
        if value is not None and value > 0:
            return Decimal(value)
    english = [w for w in words if w in EN_NUMBER_WORDS]
    if english:
        value = parse_english_words(english)
        if value is not None and value > 0:
            return Decimal(value)
    return None


def unsure(text: str) -> bool:
    """Tell whether the answer says the debtor does not know ("weiß nicht", "no idea")."""
    return _DONT_KNOW.search(" ".join(str(text or "").casefold().split())) is not None


def parse_amount(text: str, *, no_means_zero: bool) -> Decimal | None:
    """Return the monthly amount an answer names, or None when it names none."""
    folded = " ".join(str(text or "").casefold().split())
    if not folded or _DONT_KNOW.search(folded):
        return None
    amounts = _digit_amounts(folded)
    if amounts:
        total = amounts[0][2]
        for (_, end, _), (start, _, value) in pairwise(amounts):
            if not _PLUS.match(folded[end:start]):
                break  # "1800, manchmal 2000": the first amount is the answer
            total += value
        return total.quantize(Decimal("0.01"))
    words = set(re.findall(r"[\w–-]+", folded))
    if words & _ZERO_WORDS or folded.strip(" .!") in _ZERO_WORDS:
        return Decimal("0.00")
    if no_means_zero and words & _NO_WORDS:
        return Decimal("0.00")
    spelled = _word_amount(folded)
    return None if spelled is None else spelled.quantize(Decimal("0.01"))


def parse_dependants(text: str) -> int | None:
    """Return how many people the debtor supports, or None when the answer says no number."""
    folded = " ".join(str(text or "").casefold().split())
    if not folded or _DONT_KNOW.search(folded):
        return None
    partner = 1 if _PARTNER.search(folded) else 0
    digits = re.findall(r"(?<![\d.,])\d{1,2}(?![\d.,]\d)", folded)
    if digits:
        count = int(digits[0])
        # "meine Frau und 2 Kinder": the partner is counted apart from the children.
        return count + partner if partner and _CHILDREN.search(folded) else count
    for word in _WORD.findall(folded):
        value = _german_number(word) if word not in ("ein", "eine", "einen") else 1
        value = value if value is not None else parse_english_words([word])
        if value is not None and 0 < value <= 20:
            return value + partner if partner and _CHILDREN.search(folded) else value
    named = partner + (1 if _ONE_CHILD.search(folded) else 0)
    if named:
        return named
    if _NOBODY.search(folded) or folded.strip(" .!") in (_ZERO_WORDS | _NO_WORDS):
        return 0
    return None
