"""Tag the tokens of a message and match amount and date patterns over the tags.

Each token gets a custom attribute ``quitt_tag`` (digit number, number word, currency,
ordinal, month, weekday, ...) and ``quitt_fold`` (its folded text); spaCy ``Matcher``
patterns over those attributes propose the candidate spans that ``nlu.entities`` resolves.
The tokenizer is that of ``spacy.blank("de")``/``spacy.blank("en")``, with no trained weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token
from spacy.util import compile_infix_regex

from nlu.lexicon import (
    AFTER_NEXT,
    ARTICLE_ONE,
    CENT,
    DAY_PREP_LINKS,
    DAY_PREPS,
    DM,
    DM_NO_DOT,
    DMY,
    EURO,
    EXTRA_INFIXES,
    FOREIGN,
    MONTH_PART_COMPOUNDS,
    MONTH_PARTS,
    MONTH_WORD,
    MONTHS,
    MULTIPLIERS,
    NEXT,
    ORD_DOT,
    ORD_EN,
    THIS,
    UNITS,
    WEEK_WORD,
    WEEKDAYS,
    YEAR,
)
from nlu.numbers import (
    EN_NUMBER_WORDS,
    fold_umlauts,
    parse_decimal,
    parse_german_word,
    parse_ordinal_word,
)


@dataclass(frozen=True)
class TokenInfo:
    """What the tagger learned about one token."""

    tag: str | None
    fold: str
    number: Decimal | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    weekday: int | None = None


# --- Tagging ----------------------------------------------------------------------------


def _tag_token(token: Token) -> TokenInfo:
    """Classify one token; neighbours decide the readings that depend on context."""
    text = token.text
    fold = fold_umlauts(text)
    bare = fold.rstrip(".") if len(fold) > 1 else fold
    following = fold_umlauts(token.nbor(1).text) if token.i + 1 < len(token.doc) else ""
    if m := DMY.match(text):
        year = int(m.group(3))
        year = year + 2000 if year < 100 else year
        return TokenInfo("DMY", fold, day=int(m.group(1)), month=int(m.group(2)), year=year)
    if m := DM.match(text):
        return TokenInfo("DM", fold, day=int(m.group(1)), month=int(m.group(2)))
    if m := ORD_DOT.match(text):
        day = int(m.group(1))
        # "15." is a German ordinal day; "50." is a number with a full stop attached.
        if 1 <= day <= 31:
            return TokenInfo("ORD_DOT", fold, day=day, number=Decimal(day))
        return TokenInfo("NUM", fold, number=Decimal(day))
    if m := ORD_EN.match(text):
        day = int(m.group(1))
        return TokenInfo("ORD", fold, day=day) if 1 <= day <= 31 else TokenInfo(None, fold)
    if (m := DM_NO_DOT.match(text)) and 1 <= int(m.group(1)) <= 31 and 1 <= int(m.group(2)) <= 12:
        # "1.12" is a date after "am"/"bis", otherwise maybe a number (resolved later).
        return TokenInfo(
            "DMX", fold, day=int(m.group(1)), month=int(m.group(2)), number=parse_decimal(text)
        )
    number = parse_decimal(text)
    if number is not None:
        return TokenInfo("NUM", fold, number=number)
    if fold in EURO:
        return TokenInfo("CUR", fold)
    if fold in FOREIGN:
        return TokenInfo("FCUR", fold)
    if fold in CENT:
        return TokenInfo("CENT", fold)
    if bare in MONTHS:
        return TokenInfo("MONTH", fold, month=MONTHS[bare])
    if fold in WEEKDAYS:
        return TokenInfo("WDAY", fold, weekday=WEEKDAYS[fold])
    if fold in ARTICLE_ONE:
        if following in MULTIPLIERS or following in EURO:
            return TokenInfo("NUMW", fold, number=Decimal(1))
        # "in einer Woche", "in a month": a count of one, but never part of an amount.
        return TokenInfo("ONE" if following in UNITS else None, fold, number=Decimal(1))
    if fold in {"and", "und", "-"}:
        # Joins number words only: "two hundred and fifty", "twenty-five" split by spaCy.
        previous = token.nbor(-1) if token.i > 0 else None
        previous_fold = fold_umlauts(previous.text) if previous is not None else ""
        if _is_number_word(previous_fold) and _is_number_word(following):
            return TokenInfo("JOIN", fold)
        return TokenInfo(None, fold)
    if _is_number_word(fold):
        return TokenInfo("NUMW", fold)
    ordinal = parse_ordinal_word(text)
    if ordinal is not None:
        return TokenInfo("ORDW", fold, day=ordinal)
    return TokenInfo(None, fold)


def _is_number_word(fold: str) -> bool:
    """Tell whether a folded word is an English or German number word."""
    if fold in ARTICLE_ONE or fold in {"and", "und"}:
        return False
    return is_english_number(fold) or parse_german_word(fold) is not None


def is_english_number(fold: str) -> bool:
    """Tell whether a word is an English number word, hyphenated ones included."""
    parts = [p for p in fold.split("-") if p]
    return bool(parts) and all(p in EN_NUMBER_WORDS for p in parts)


def tag(doc: Doc) -> list[TokenInfo]:
    """Tag every token of a doc and expose the tag to the Matcher."""
    infos = [_tag_token(token) for token in doc]
    for token, info in zip(doc, infos, strict=True):
        token._.quitt_tag = info.tag
        token._.quitt_fold = info.fold
    return infos


# --- Patterns ---------------------------------------------------------------------------


def _t(*tags: str, op: str | None = None) -> dict[str, Any]:
    """Match a token by its quitt_tag."""
    spec: dict[str, Any] = {"_": {"quitt_tag": {"IN": list(tags)}}}
    if op:
        spec["OP"] = op
    return spec


def _w(*words: str, op: str | None = None) -> dict[str, Any]:
    """Match a token by its folded text."""
    spec: dict[str, Any] = {"_": {"quitt_fold": {"IN": sorted(words)}}}
    if op:
        spec["OP"] = op
    return spec


_WORDS = [_t("NUMW"), _t("NUMW", "JOIN", op="*")]
_YEAR_TOKEN = {"TEXT": {"REGEX": YEAR}}
_DAYNUM = _t("ORD_DOT", "ORD", "NUM")
_DAY_PREP = [_w(*DAY_PREPS), _w(*DAY_PREP_LINKS, op="?")]

_PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    # Another currency: the span is claimed so no euro reading of its number survives.
    "FOREIGN": [
        [_t("NUM", "DMX"), _t("FCUR")],
        [*_WORDS, _t("FCUR")],
        [_t("FCUR"), _t("NUM", "DMX")],
    ],
    "AMOUNT_CUR": [
        [_t("NUM", "DMX"), _t("CUR")],
        [*_WORDS, _t("CUR")],
        [_t("CUR"), _t("NUM", "DMX")],
    ],
    "AMOUNT_CENT": [[_t("NUM"), _t("CENT")], [*_WORDS, _t("CENT")]],
    "DATE_DMY": [[_t("DMY")]],
    "DATE_DM": [[_t("DM")], [*_DAY_PREP, _t("DMX")]],
    "DATE_DAY": [
        [*_DAY_PREP, _t("ORD_DOT", "ORD", "ORDW")],
        [_w("the"), _t("ORD", "ORDW")],
        [_t("ORD")],
    ],
    "DATE_DAY_MONTH": [
        [_DAYNUM, _w("of", op="?"), _t("MONTH")],
        [_DAYNUM, _w("of", op="?"), _t("MONTH"), _YEAR_TOKEN],
        # With the preposition, so "am 5. Januar" outgrows the day-only "am 5.".
        [*_DAY_PREP, _DAYNUM, _w("of", op="?"), _t("MONTH")],
        [*_DAY_PREP, _DAYNUM, _w("of", op="?"), _t("MONTH"), _YEAR_TOKEN],
        [*_DAY_PREP, _t("ORDW"), _w("of", op="?"), _t("MONTH")],
        [_t("ORDW"), _w("of", op="?"), _t("MONTH")],
        [_t("MONTH"), _DAYNUM],
        [_t("MONTH"), _DAYNUM, _w(",", op="?"), _YEAR_TOKEN],
    ],
    "DATE_DAY_NEXT_MONTH": [
        [_t("ORD_DOT", "ORD", "ORDW"), _w("of", "des", op="?"), _w(*NEXT), _w(*MONTH_WORD)],
        [
            *_DAY_PREP,
            _t("ORD_DOT", "ORD", "ORDW"),
            _w("of", "des", op="?"),
            _w(*NEXT),
            _w(*MONTH_WORD),
        ],
        [_w("the"), _t("ORD", "ORDW"), _w("of"), _w(*NEXT), _w(*MONTH_WORD)],
    ],
    "DATE_MONTH_PART": [
        [_w(*MONTH_PARTS), _w("of", "des", op="?"), _w(*THIS, *NEXT, op="?"), _w(*MONTH_WORD)],
        [_w(*MONTH_PARTS), _w("of", op="?"), _t("MONTH")],
        [_w("mid"), _w("-"), _t("MONTH")],
        [_w(*MONTH_PART_COMPOUNDS)],
        [_w("month"), _w("end")],
    ],
    "DATE_NEXT_MONTH": [[_w(*NEXT), _w(*MONTH_WORD)]],
    "DATE_WEEKDAY": [
        [_w("am", "on", "this", "diesen", *NEXT, op="?"), _t("WDAY")],
        [_w("am", "on", op="?"), _t("WDAY"), _w(*NEXT), _w(*WEEK_WORD)],
        [_w(*NEXT), _w(*WEEK_WORD), _t("WDAY")],
    ],
    "DATE_NEXT_WEEK": [[_w(*NEXT, *AFTER_NEXT), _w(*WEEK_WORD)]],
    "DATE_RELATIVE": [
        [_w("heute", "today", "morgen", "tomorrow", "uebermorgen")],
        [_w("the", op="?"), _w("day"), _w("after"), _w("tomorrow")],
    ],
    "DATE_IN": [
        [_w("in"), _t("NUM", "ONE"), _w(*UNITS)],
        [_w("in"), *_WORDS, _w(*UNITS)],
    ],
    "AMOUNT_BARE": [[_t("NUM")], _WORDS, [_t("ORD_DOT")], [_t("DMX")]],
}

# Higher wins an overlap; within one priority the longer span wins.
PRIORITY = {"FOREIGN": 4, "AMOUNT_CUR": 3, "AMOUNT_CENT": 3, "AMOUNT_BARE": 1}
DATE_PRIORITY = 2


# --- Pipelines --------------------------------------------------------------------------


@cache
def pipeline(language: str) -> tuple[Language, Matcher]:
    """Build the tokenizer and Matcher for a language once."""
    for name in ("quitt_tag", "quitt_fold"):
        if not Token.has_extension(name):
            Token.set_extension(name, default=None)
    nlp = spacy.blank(language)
    infixes = [*(nlp.Defaults.infixes or ()), *EXTRA_INFIXES]
    tokenizer: Any = nlp.tokenizer
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    matcher = Matcher(nlp.vocab)
    for label, patterns in _PATTERNS.items():
        matcher.add(label, patterns, greedy="LONGEST")
    return nlp, matcher
