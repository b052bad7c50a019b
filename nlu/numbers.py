"""Parse numbers as debtors write them: digits in German or English format, number words.

Pure stdlib, so both the Rasa runtime (Python 3.10) and the app runtime (3.11) can use it.

Choices:
- Digit strings are read format-agnostically, because a German debtor may write
  "75.50" and an English one "1.234,56": when both separators occur, the last one is the
  decimal mark; a single separator followed by exactly three digits groups thousands
  ("1.234" is 1234), followed by one or two digits it is the decimal mark ("75,50").
- German number words are compounds ("zweitausendfünfhundert") and are parsed by
  splitting at "tausend", "hundert" and "und"; umlauts may be transliterated
  ("fuenfzig", "dreissig").
- English number words span several tokens ("two hundred and fifty") and are folded
  left to right in the usual hundred/thousand manner.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

__all__ = [
    "EN_NUMBER_WORDS",
    "fold_umlauts",
    "parse_decimal",
    "parse_english_words",
    "parse_german_word",
    "parse_ordinal_word",
]

# A trailing ",-" / ".-" / ",--" marks whole euros ("50,- €"); a trailing "." is a
# German ordinal or a full stop that the tokenizer kept attached ("Ich zahle 50.").
_WHOLE_EURO_SUFFIX = re.compile(r"(?:[.,][-–—]{1,2}|\.)$")
_DIGITS = re.compile(r"^\d+(?:[.,]\d+)*$")

_DE_UNITS = {
    "ein": 1,
    "eins": 1,
    "eine": 1,
    "zwei": 2,
    "zwo": 2,
    "drei": 3,
    "vier": 4,
    "fuenf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
}
_DE_TEENS = {
    "zehn": 10,
    "elf": 11,
    "zwoelf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "fuenfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
}
_DE_TENS = {
    "zwanzig": 20,
    "dreissig": 30,
    "vierzig": 40,
    "fuenfzig": 50,
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
}
# Units that may stand before "und" + tens ("sechsundzwanzig", "siebenundzwanzig").
_DE_UND_UNITS = {k: v for k, v in _DE_UNITS.items() if k not in {"eins", "eine", "zwo"}}

_EN_SMALL = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
EN_NUMBER_WORDS = frozenset({*_EN_SMALL, "hundred", "thousand"})

_EN_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
# German ordinals that do not follow the "-ten"/"-sten" rule of the cardinal stem.
_DE_ORDINAL_STEMS = {"er": 1, "ers": 1, "drit": 3, "sieb": 7, "ach": 8}


def fold_umlauts(word: str) -> str:
    """Lower-case a word and transliterate umlauts and ß as a keyboard without them would."""
    return word.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


def parse_decimal(text: str) -> Decimal | None:
    """Parse a digit string in German or English notation; None if it is not one number."""
    raw = _WHOLE_EURO_SUFFIX.sub("", text.strip())
    if not raw or not _DIGITS.match(raw):
        return None
    separators = [c for c in raw if c in ".,"]
    if not separators:
        return Decimal(raw)
    if len(set(separators)) == 2:
        decimal_mark = separators[-1]
        if separators.count(decimal_mark) > 1:
            return None
        integer, _, fraction = raw.rpartition(decimal_mark)
        if not _valid_groups(integer.split(separators[0])) or len(fraction) > 2:
            return None
        return _to_decimal(integer.replace(separators[0], ""), fraction)
    mark = separators[0]
    parts = raw.split(mark)
    if len(parts) > 2:
        return _to_decimal("".join(parts), "") if _valid_groups(parts) else None
    integer, fraction = parts
    if len(fraction) == 3 and _valid_groups(parts):
        return _to_decimal(integer + fraction, "")
    if len(fraction) in (1, 2):
        return _to_decimal(integer, fraction)
    return None


def _valid_groups(parts: Sequence[str]) -> bool:
    """Check thousands groups: a 1-3 digit head followed by 3-digit groups."""
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def _to_decimal(integer: str, fraction: str) -> Decimal | None:
    """Build a Decimal from an integer and fraction digit string."""
    try:
        return Decimal(f"{integer}.{fraction}" if fraction else integer)
    except InvalidOperation:
        return None


def parse_german_word(word: str) -> int | None:
    """Parse one German number word, compounds included ("einhundertfünfundzwanzig")."""
    folded = fold_umlauts(word).replace("-", "")
    if not folded.isalpha():
        return None
    return _parse_german(folded)


def _parse_german(word: str) -> int | None:
    """Parse a folded German number word recursively below one million."""
    if not word:
        return None
    if "tausend" in word:
        head, _, tail = word.partition("tausend")
        multiplier = _parse_german(head) if head else 1
        rest = _parse_german(tail) if tail else 0
        if multiplier is None or rest is None or not 1 <= multiplier < 1000:
            return None
        return multiplier * 1000 + rest
    if "hundert" in word:
        head, _, tail = word.partition("hundert")
        multiplier = _DE_UNITS.get(head) if head else 1
        rest = _parse_below_hundred(tail) if tail else 0
        if multiplier is None or rest is None:
            return None
        return multiplier * 100 + rest
    return _parse_below_hundred(word)


def _parse_below_hundred(word: str) -> int | None:
    """Parse a folded German number word below one hundred."""
    if word in _DE_UNITS:
        return _DE_UNITS[word]
    if word in _DE_TEENS:
        return _DE_TEENS[word]
    if word in _DE_TENS:
        return _DE_TENS[word]
    unit, sep, tens = word.partition("und")
    if sep and unit in _DE_UND_UNITS and tens in _DE_TENS:
        return _DE_UND_UNITS[unit] + _DE_TENS[tens]
    return None


def parse_english_words(words: Sequence[str]) -> int | None:
    """Parse English number words ("two hundred and fifty", "a hundred"); None if invalid."""
    tokens: list[str] = []
    for word in words:
        tokens.extend(t for t in word.lower().split("-") if t)
    total = current = 0
    seen_number = False
    for i, token in enumerate(tokens):
        if token in {"a", "an"}:
            # "a" counts only as the multiplier of a following "hundred"/"thousand".
            if i + 1 < len(tokens) and tokens[i + 1] in {"hundred", "thousand"}:
                current += 1
                continue
            return None
        if token == "and":
            if not seen_number or i + 1 == len(tokens):
                return None
            continue
        if token in _EN_SMALL:
            current += _EN_SMALL[token]
        elif token == "hundred":
            current = max(current, 1) * 100
        elif token == "thousand":
            total += max(current, 1) * 1000
            current = 0
        else:
            return None
        seen_number = True
    return total + current if seen_number else None


def parse_ordinal_word(word: str) -> int | None:
    """Parse a day ordinal written as a word ("fünfzehnten", "ersten", "fifteenth")."""
    lowered = word.lower()
    if lowered in _EN_ORDINALS:
        return _EN_ORDINALS[lowered]
    if "-" in lowered:
        # "twenty-first", "thirty-first"
        head, _, tail = lowered.partition("-")
        if head in _EN_SMALL and tail in _EN_ORDINALS and _EN_SMALL[head] in (20, 30):
            return _EN_SMALL[head] + _EN_ORDINALS[tail]
        return None
    folded = fold_umlauts(lowered)
    if folded[-1:] in {"n", "m", "r", "s"}:
        folded = folded[:-1]  # declension: "am fünfzehnten", "der erste", "zum ersten"
    if not folded.endswith("te"):
        return None
    # Try "-ste" (20 and up) before "-te" (2..19); the irregular stems take either.
    for stem, needs_twenty in ((folded[:-3], True), (folded[:-2], False)):
        if stem in _DE_ORDINAL_STEMS:
            return _DE_ORDINAL_STEMS[stem]
        value = _parse_german(stem) if stem.isalpha() else None
        if value is not None and 1 <= value <= 31 and (value >= 20) == needs_twenty:
            return value
    return None
