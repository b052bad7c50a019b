"""Find and normalise amounts and dates in German and English debtor messages.

A rule-based spaCy extractor: the tokenizer of ``spacy.blank("de")``/``spacy.blank("en")``
(no trained weights, so it behaves the same under spaCy 3.4 in the Rasa runtime and 3.8 in
the app runtime), one custom token attribute ``quitt_tag`` that classifies each token
(digit number, number word, currency, ordinal, month, weekday, ...), and ``Matcher``
patterns over those tags. Each match is a candidate with a priority; candidates are
resolved to values and then chosen greedily by priority, then length, so that a longer,
more specific reading wins ("am 15.12." is a date, not the amount 15.12).

Values: amounts are decimal strings with two places ("50.00"), dates ISO ("2026-12-04").
``today`` is a parameter; nothing here reads the clock.

Choices (documented because a debt collector has to agree with them):
- Only euros. A number next to another currency ("£30", "30 pounds", "50 CHF") is no
  amount at all, rather than a wrong euro amount. Slang for money ("fifty quid", "zwanzig
  Mäuse") on a euro claim means that much of it: euros.
- With a euro cue ("50 €", "€75.50", "fünfzig Euro", "50,- €") any size is an amount.
- Without a cue a number is an amount only when it reads like one: at most four digits,
  no leading zero (phone numbers), not followed by a unit ("10 Tagen", "3 Raten",
  "15 Uhr", "5 %") or a noun ("2 Kinder"), not after a reference word ("Nr.",
  "Aktenzeichen"), in a sentence about paying ("zahlen", "im Monat", "höchstens", "pay",
  "a month", "afford", "owe"...). So postcodes ("20249") and claim references
  ("260000117") are never amounts.
- A message that is only a number is an amount when it is 10 or more; 1 to 9 alone are
  menu choices. Spelled-out numbers below ten are never amounts without a euro cue
  ("zwei Kinder", "one more question").
- Day numbers belong to dates: "am 15." is a date; a full date is a date whatever the
  year, so a date of birth ("14.03.1987") is a date entity and never an amount.
- A day without a month ("am 15.", "on the 15th", "am fünfzehnten") is the next such day
  strictly after today, skipping months that lack it (31st). A day and month without a
  year ("15.12.", "15. Dezember", "December 15") is the next one on or after today.
- A weekday ("Freitag", "nächsten Freitag", "next Friday", "on Friday") is the next one
  strictly after today; "Freitag nächste Woche"/"Friday next week" is the one in the next
  calendar week. "nächste Woche"/"next week" is the Monday of next week, "nächsten
  Monat"/"next month" the 1st of next month.
- "Ende des Monats"/"Monatsende"/"end of the month" is the last day of this month,
  "Anfang"/"start" the 1st, "Mitte"/"mid" the 15th; with "nächsten"/"next" of next month.
- "heute"/"today", "morgen"/"tomorrow", "übermorgen"; "in zwei Wochen", "in 10 Tagen",
  "in a month" count from today. "Guten Morgen" and "heute Morgen" are no dates, nor is
  a month alone ("ab Januar") or an ordinal that counts ("ab dem dritten Monat").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token
from spacy.util import compile_infix_regex

from nlu.language import detect_language
from nlu.numbers import (
    EN_NUMBER_WORDS,
    fold_umlauts,
    parse_decimal,
    parse_english_words,
    parse_german_word,
    parse_ordinal_word,
)

__all__ = ["ExtractedEntity", "extract_entities"]

EntityName = Literal["amount", "date"]


@dataclass(frozen=True)
class ExtractedEntity:
    """An amount or date found in a text, with char offsets and a normalised value."""

    entity: EntityName
    start: int
    end: int
    text: str
    value: str


# --- Lexicon (folded: lower case, umlauts transliterated) -------------------------------

# Slang for money counts as euros: a claim is in euros, and "fifty quid a month" from a
# British debtor in Germany, or "zwanzig Mäuse", means that much of it.
_EURO = {"€", "eur", "euro", "euros", "eur.", "teuro", "euronen", "quid", "bucks", "maeuse",
         "kroeten", "ocken", "oecken", "tacken"}  # fmt: skip
_FOREIGN = {
    "£", "$", "gbp", "usd", "chf", "pound", "pounds", "dollar", "dollars",
    "franken", "fr", "fr.", "pfund",
}  # fmt: skip
_CENT = {"cent", "cents", "ct", "ct."}
_MONTHS = {
    "januar": 1, "jaenner": 1, "january": 1, "jan": 1,
    "februar": 2, "feber": 2, "february": 2, "feb": 2,
    "maerz": 3, "marz": 3, "march": 3, "mrz": 3, "maer": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "montag": 0, "monday": 0, "dienstag": 1, "tuesday": 1, "mittwoch": 2, "wednesday": 2,
    "donnerstag": 3, "thursday": 3, "freitag": 4, "friday": 4, "samstag": 5,
    "sonnabend": 5, "saturday": 5, "sonntag": 6, "sunday": 6,
}  # fmt: skip
_NEXT = {"naechsten", "naechste", "naechster", "naechstes", "kommenden", "kommende", "next",
         "coming"}  # fmt: skip
_AFTER_NEXT = {"uebernaechsten", "uebernaechste", "uebernaechster"}
_THIS = {"diesen", "dieses", "diesem", "diese", "this", "current", "laufenden", "the", "des"}
_MONTH_WORD = {"monat", "monats", "monates", "month"}
_WEEK_WORD = {"woche", "week"}
_UNITS = {
    "tag": 1, "tage": 1, "tagen": 1, "day": 1, "days": 1,
    "woche": 7, "wochen": 7, "week": 7, "weeks": 7, "fortnight": 14, "fortnights": 14,
    "monat": 30, "monate": 30, "monaten": 30, "month": 30, "months": 30,
}  # fmt: skip
_MONTH_PARTS = {
    "ende": "end", "end": "end", "anfang": "start", "start": "start", "beginning": "start",
    "beginn": "start", "early": "start", "mitte": "mid", "mid": "mid", "middle": "mid",
}  # fmt: skip
_MONTH_PART_COMPOUNDS = {
    "monatsende": "end", "monatsanfang": "start", "monatsbeginn": "start",
    "monatsmitte": "mid", "month-end": "end", "mid-month": "mid",
}  # fmt: skip
_DAY_PREPS = {"am", "zum", "ab", "bis", "vom", "spaetestens", "on", "by", "until", "till",
              "before", "from", "starting"}  # fmt: skip
_DAY_PREP_LINKS = {"zum", "dem", "den", "the", "am"}
# Article-like words count as "1" only before a multiplier, unit or currency.
_ARTICLE_ONE = {"ein", "eine", "einen", "einem", "einer", "a", "an"}
_MULTIPLIERS = {"hundert", "tausend", "hundred", "thousand"}
# Words after which a bare number is still an amount ("50 im Monat", "pay 30 a month").
_AMOUNT_FOLLOWERS = {
    "im", "pro", "je", "a", "per", "each", "every", "monatlich", "monthly", "woechentlich",
    "weekly", "zahlen", "bezahlen", "ueberweisen", "abzahlen", "zurueckzahlen", "pay",
    "ab", "bis", "am", "zum", "jeden", "and", "und", "oder", "or", "now", "jetzt", "sofort",
    "heute", "morgen", "leisten", "aufbringen", "moeglich", "machen", "schaffen", "geben",
    "anbieten", "is", "ist", "waere", "would", "if", "wenn", "dann", "max", "maximal",
    "at", "on", "by", "right", "von", "from", "starting", "until", "tomorrow", "today",
    "next", "naechsten", "naechste", "kommenden", "this", "diesen", "dieses", "diesem",
    "in", "okay", "ok", "drin", "locker", "only", "nur", "mehr", "more", "max.",
    "monatl", "monatl.", "mtl", "mtl.",
}  # fmt: skip
# Words after which a bare number is a reference, a year or a time, never an amount.
_REFERENCE_WORDS = {
    "nr", "nr.", "nummer", "no", "no.", "number", "#", "aktenzeichen", "az", "az.",
    "kundennummer", "vertragsnummer", "rechnungsnummer", "referenz", "reference", "ref",
    "ref.", "case", "option", "punkt", "jahr", "year", "seit", "since", "plz",
    "postleitzahl", "hausnummer", "tel", "tel.", "telefon", "phone", "zimmer", "um",
    "kinder", "kind", "children", "kids", "strasse", "str", "str.", "street", "road",
    "kundennr", "kundennr.", "id", "pin", "iban", "konto", "kontonummer", "account",
}  # fmt: skip
# Nouns that an ordinal counts ("der zweite Brief"), so the ordinal is no day of month.
_COUNTED_NOUNS = {
    "monat", "monats", "rate", "raten", "woche", "jahr", "mal", "brief", "mahnung", "zahlung",
    "month", "payment", "installment", "instalment", "time", "letter", "reminder", "week",
    "year",
}  # fmt: skip
_LINKS = {"ist", "is", "lautet", "was", "war", ":", "=", "-"}
_PAYMENT_CUE = re.compile(
    r"\b(?:zahl|bezahl|abzahl|ueberweis|rate|monat|woche|hoechstens|maximal|mindestens|"
    r"leisten|aufbringen|anbiet|biete|schulde|betrag|summe|offen|pay|afford|month|week|"
    r"install?ment|offer|owe|amount|total|sum\b|nur\b|only\b|max\b|most\b)"
)

_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})\.?$")
_DM = re.compile(r"^(\d{1,2})\.(\d{1,2})\.$")
_DM_NO_DOT = re.compile(r"^(\d{1,2})\.(\d{1,2})$")
_ORD_DOT = re.compile(r"^(\d{1,2})\.$")
_ORD_EN = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$", re.IGNORECASE)
_YEAR = r"^(?:19|20)\d\d$"

# spaCy glues "50Euro", "50€/Monat" and "50,-€" into one token; split them as people mean.
_EXTRA_INFIXES = [
    r"(?<=[0-9])(?=[€$£])",
    r"(?<=[€$£])(?=[0-9])",
    r"(?<=,-)(?=[€$£])",
    r"(?<=[0-9])(?=(?:[Ee][Uu][Rr]|[Ee]uro)s?\b)",
    r"/",
    r"(?<=[Mm]id)-(?=[A-Za-z])",
]


@dataclass(frozen=True)
class _TokenInfo:
    """What the tagger learned about one token."""

    tag: str | None
    fold: str
    number: Decimal | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    weekday: int | None = None


@dataclass(frozen=True)
class _Candidate:
    """A matched span with its resolved value and priority."""

    entity: EntityName
    start: int
    end: int
    value: str
    priority: int


_Result = tuple[EntityName, str] | None
_Resolver = Callable[[Span, Sequence[_TokenInfo], date], _Result]


# --- Tagging ----------------------------------------------------------------------------


def _tag_token(token: Token) -> _TokenInfo:
    """Classify one token; neighbours decide the readings that depend on context."""
    text = token.text
    fold = fold_umlauts(text)
    bare = fold.rstrip(".") if len(fold) > 1 else fold
    following = fold_umlauts(token.nbor(1).text) if token.i + 1 < len(token.doc) else ""
    if m := _DMY.match(text):
        year = int(m.group(3))
        year = year + 2000 if year < 100 else year
        return _TokenInfo("DMY", fold, day=int(m.group(1)), month=int(m.group(2)), year=year)
    if m := _DM.match(text):
        return _TokenInfo("DM", fold, day=int(m.group(1)), month=int(m.group(2)))
    if m := _ORD_DOT.match(text):
        day = int(m.group(1))
        # "15." is a German ordinal day; "50." is a number with a full stop attached.
        if 1 <= day <= 31:
            return _TokenInfo("ORD_DOT", fold, day=day, number=Decimal(day))
        return _TokenInfo("NUM", fold, number=Decimal(day))
    if m := _ORD_EN.match(text):
        day = int(m.group(1))
        return _TokenInfo("ORD", fold, day=day) if 1 <= day <= 31 else _TokenInfo(None, fold)
    if (m := _DM_NO_DOT.match(text)) and 1 <= int(m.group(1)) <= 31 and 1 <= int(m.group(2)) <= 12:
        # "1.12" is a date after "am"/"bis", otherwise maybe a number (resolved later).
        return _TokenInfo(
            "DMX", fold, day=int(m.group(1)), month=int(m.group(2)), number=parse_decimal(text)
        )
    number = parse_decimal(text)
    if number is not None:
        return _TokenInfo("NUM", fold, number=number)
    if fold in _EURO:
        return _TokenInfo("CUR", fold)
    if fold in _FOREIGN:
        return _TokenInfo("FCUR", fold)
    if fold in _CENT:
        return _TokenInfo("CENT", fold)
    if bare in _MONTHS:
        return _TokenInfo("MONTH", fold, month=_MONTHS[bare])
    if fold in _WEEKDAYS:
        return _TokenInfo("WDAY", fold, weekday=_WEEKDAYS[fold])
    if fold in _ARTICLE_ONE:
        if following in _MULTIPLIERS or following in _EURO:
            return _TokenInfo("NUMW", fold, number=Decimal(1))
        # "in einer Woche", "in a month": a count of one, but never part of an amount.
        return _TokenInfo("ONE" if following in _UNITS else None, fold, number=Decimal(1))
    if fold in {"and", "und", "-"}:
        # Joins number words only: "two hundred and fifty", "twenty-five" split by spaCy.
        previous = token.nbor(-1) if token.i > 0 else None
        previous_fold = fold_umlauts(previous.text) if previous is not None else ""
        if _is_number_word(previous_fold) and _is_number_word(following):
            return _TokenInfo("JOIN", fold)
        return _TokenInfo(None, fold)
    if _is_number_word(fold):
        return _TokenInfo("NUMW", fold)
    ordinal = parse_ordinal_word(text)
    if ordinal is not None:
        return _TokenInfo("ORDW", fold, day=ordinal)
    return _TokenInfo(None, fold)


def _is_number_word(fold: str) -> bool:
    """Tell whether a folded word is an English or German number word."""
    if fold in _ARTICLE_ONE or fold in {"and", "und"}:
        return False
    return _is_english_number(fold) or parse_german_word(fold) is not None


def _is_english_number(fold: str) -> bool:
    """Tell whether a word is an English number word, hyphenated ones included."""
    parts = [p for p in fold.split("-") if p]
    return bool(parts) and all(p in EN_NUMBER_WORDS for p in parts)


def _tag(doc: Doc) -> list[_TokenInfo]:
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
_YEAR_TOKEN = {"TEXT": {"REGEX": _YEAR}}
_DAYNUM = _t("ORD_DOT", "ORD", "NUM")
_DAY_PREP = [_w(*_DAY_PREPS), _w(*_DAY_PREP_LINKS, op="?")]

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
        [_t("ORD_DOT", "ORD", "ORDW"), _w("of", "des", op="?"), _w(*_NEXT), _w(*_MONTH_WORD)],
        [
            *_DAY_PREP,
            _t("ORD_DOT", "ORD", "ORDW"),
            _w("of", "des", op="?"),
            _w(*_NEXT),
            _w(*_MONTH_WORD),
        ],
        [_w("the"), _t("ORD", "ORDW"), _w("of"), _w(*_NEXT), _w(*_MONTH_WORD)],
    ],
    "DATE_MONTH_PART": [
        [_w(*_MONTH_PARTS), _w("of", "des", op="?"), _w(*_THIS, *_NEXT, op="?"), _w(*_MONTH_WORD)],
        [_w(*_MONTH_PARTS), _w("of", op="?"), _t("MONTH")],
        [_w("mid"), _w("-"), _t("MONTH")],
        [_w(*_MONTH_PART_COMPOUNDS)],
        [_w("month"), _w("end")],
    ],
    "DATE_NEXT_MONTH": [[_w(*_NEXT), _w(*_MONTH_WORD)]],
    "DATE_WEEKDAY": [
        [_w("am", "on", "this", "diesen", *_NEXT, op="?"), _t("WDAY")],
        [_w("am", "on", op="?"), _t("WDAY"), _w(*_NEXT), _w(*_WEEK_WORD)],
        [_w(*_NEXT), _w(*_WEEK_WORD), _t("WDAY")],
    ],
    "DATE_NEXT_WEEK": [[_w(*_NEXT, *_AFTER_NEXT), _w(*_WEEK_WORD)]],
    "DATE_RELATIVE": [
        [_w("heute", "today", "morgen", "tomorrow", "uebermorgen")],
        [_w("the", op="?"), _w("day"), _w("after"), _w("tomorrow")],
    ],
    "DATE_IN": [
        [_w("in"), _t("NUM", "ONE"), _w(*_UNITS)],
        [_w("in"), *_WORDS, _w(*_UNITS)],
    ],
    "AMOUNT_BARE": [[_t("NUM")], _WORDS, [_t("ORD_DOT")], [_t("DMX")]],
}

# Higher wins an overlap; within one priority the longer span wins.
_PRIORITY = {"FOREIGN": 4, "AMOUNT_CUR": 3, "AMOUNT_CENT": 3, "AMOUNT_BARE": 1}
_DATE_PRIORITY = 2


# --- Pipelines --------------------------------------------------------------------------


@cache
def _pipeline(language: str) -> tuple[Language, Matcher]:
    """Build the tokenizer and Matcher for a language once."""
    for name in ("quitt_tag", "quitt_fold"):
        if not Token.has_extension(name):
            Token.set_extension(name, default=None)
    nlp = spacy.blank(language)
    infixes = [*(nlp.Defaults.infixes or ()), *_EXTRA_INFIXES]
    tokenizer: Any = nlp.tokenizer
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    matcher = Matcher(nlp.vocab)
    for label, patterns in _PATTERNS.items():
        matcher.add(label, patterns, greedy="LONGEST")
    return nlp, matcher


# --- Resolution -------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    """Format a euro amount with two decimals."""
    return str(value.quantize(Decimal("0.01")))


def _span_number(span: Span, infos: Sequence[_TokenInfo]) -> Decimal | None:
    """Read the number in a span: one digit token or a run of number words."""
    numeric = [infos[t.i] for t in span if infos[t.i].tag in {"NUM", "ORD_DOT", "DMX", "ONE"}]
    if numeric:
        return numeric[0].number if len(numeric) == 1 else None
    words = [t.text for t in span if infos[t.i].tag in {"NUMW", "JOIN"}]
    if not words:
        return None
    folded = [fold_umlauts(w) for w in words]
    if len(folded) == 1 and folded[0] in _ARTICLE_ONE:
        return Decimal(1)  # "ein Euro"
    if all(_is_english_number(w) or w in {"a", "an", "and", "-"} for w in folded):
        value = parse_english_words(folded)
    else:
        # "zwei hundert fünfzig" and "ein hundert" written apart read as the compound.
        value = parse_german_word("".join(w for w in folded if w not in _ARTICLE_ONE))
    return Decimal(value) if value is not None else None


def _resolve_currency(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "50 €", "€75.50", "fünfzig Euro"."""
    value = _span_number(span, infos)
    return ("amount", _money(value)) if value is not None else None


def _resolve_cent(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "50 Cent" to 0.50."""
    value = _span_number(span, infos)
    return ("amount", _money(value / 100)) if value is not None else None


def _resolve_bare(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve a number without a currency cue, only where it reads as an amount."""
    doc = span.doc
    value = _span_number(span, infos)
    first = span[0]
    is_words = infos[first.i].tag == "NUMW"
    if value is None or (not is_words and _looks_like_identifier(first.text, value)):
        return None
    previous = doc[span.start - 1] if span.start > 0 else None
    following = doc[span.end] if span.end < len(doc) else None
    previous_info = infos[previous.i] if previous is not None else None
    if previous_info is not None and (
        previous_info.fold in _REFERENCE_WORDS or previous_info.tag in {"MONTH", "FCUR"}
    ):
        return None
    # "Kundennummer ist 4711", "my number is 4711", "Az.: 4711": the reference word sits
    # one linking word further back.
    linked = previous_info is not None and previous_info.fold in _LINKS and span.start > 1
    if linked and infos[span.start - 2].fold in _REFERENCE_WORDS:
        return None
    if following is not None:
        if following.text == "%":
            return None
        if not following.is_punct:
            if infos[following.i].fold not in _AMOUNT_FOLLOWERS:
                return None  # "10 Tagen", "3 Raten", "15 Uhr", "2 Kinder"
            if infos[first.i].tag == "ORD_DOT":
                return None  # "15." before more words is an ordinal
    if all(t.is_punct for t in doc if t.i < span.start or t.i >= span.end):
        # A lone "1" or "2" answers a menu; a lone "50" answers "how much?".
        return ("amount", _money(value)) if value >= 10 and not is_words else None
    if is_words and value < 10:
        return None
    if not _PAYMENT_CUE.search(fold_umlauts(doc.text)):
        return None
    return "amount", _money(value)


def _looks_like_identifier(text: str, value: Decimal) -> bool:
    """Tell postcodes, references and phone numbers (5+ digits, leading 0) from amounts."""
    if len(str(int(value))) >= 5:
        return True
    return len(text) > 1 and text[0] == "0" and text[1].isdigit()


def _next_day_of_month(today: date, day: int) -> date | None:
    """Return the next date strictly after today whose day of month is `day`."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate > today:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _next_day_month(today: date, day: int, month: int) -> date | None:
    """Return the next date on or after today with this day and month."""
    for year in (today.year, today.year + 1, today.year + 2, today.year + 3, today.year + 4):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _month_offset(today: date, months: int) -> tuple[int, int]:
    """Return (year, month) `months` after today's month."""
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def _month_part(year: int, month: int, part: str) -> date:
    """Return the first, 15th or last day of a month."""
    if part == "start":
        return date(year, month, 1)
    if part == "mid":
        return date(year, month, 15)
    return date(year, month, calendar.monthrange(year, month)[1])


def _iso(value: date | None) -> _Result:
    """Wrap a date as a resolved date entity value."""
    return ("date", value.isoformat()) if value is not None else None


def _resolve_dmy(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "15.12.2026" and "14.03.1987" as written."""
    info = infos[span[0].i]
    try:
        return _iso(date(info.year or 0, info.month or 0, info.day or 0))
    except ValueError:
        return None


def _resolve_dm(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "15.12." to the next such date."""
    info = infos[span[-1].i]
    return _iso(_next_day_month(today, info.day or 0, info.month or 0))


def _resolve_day(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "am 15.", "on the 15th", "am fünfzehnten"."""
    following = span.doc[span.end] if span.end < len(span.doc) else None
    if following is not None and infos[following.i].fold in _COUNTED_NOUNS:
        return None  # "ab dem dritten Monat", "the second payment": counting, not a day
    day = next((infos[t.i].day for t in span if infos[t.i].day is not None), None)
    return _iso(_next_day_of_month(today, day)) if day is not None else None


def _resolve_day_month(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "15. Dezember", "December 15th, 2026", "15th of December"."""
    month = next((infos[t.i].month for t in span if infos[t.i].tag == "MONTH"), None)
    day = None
    year = None
    for token in span:
        info = infos[token.i]
        if info.tag in {"ORD_DOT", "ORD", "ORDW"}:
            day = info.day
        elif info.tag == "NUM" and info.number is not None:
            if re.match(_YEAR, token.text):
                year = int(token.text)
            elif info.number == int(info.number):
                day = int(info.number)
    if month is None or day is None:
        return None
    if year is not None:
        try:
            return _iso(date(year, month, day))
        except ValueError:
            return None
    return _iso(_next_day_month(today, day, month))


def _resolve_day_next_month(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "the 1st of next month", "zum 1. nächsten Monats"."""
    day = next((infos[t.i].day for t in span if infos[t.i].day is not None), None)
    year, month = _month_offset(today, 1)
    if day is None or day > calendar.monthrange(year, month)[1]:
        return None
    return _iso(date(year, month, day))


def _resolve_month_part(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "Ende des Monats", "Anfang nächsten Monats", "end of December"."""
    folds = [infos[t.i].fold for t in span]
    parts = {**_MONTH_PARTS, **_MONTH_PART_COMPOUNDS}
    part = next((parts[f] for f in folds if f in parts), "end")
    named = next((infos[t.i].month for t in span if infos[t.i].tag == "MONTH"), None)
    if named is not None:
        year = today.year if named >= today.month else today.year + 1
        result = _month_part(year, named, part)
        if result < today:
            result = _month_part(year + 1, named, part)
        return _iso(result)
    offset = 1 if any(f in _NEXT for f in folds) else 0
    year, month = _month_offset(today, offset)
    result = _month_part(year, month, part)
    if result < today and offset == 0:
        # "Anfang des Monats" said on the 22nd means the coming start of a month.
        year, month = _month_offset(today, 1)
        result = _month_part(year, month, part)
    return _iso(result)


def _resolve_next_month(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "nächsten Monat"/"next month" to its first day."""
    year, month = _month_offset(today, 1)
    return _iso(date(year, month, 1))


def _resolve_weekday(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "Freitag", "nächsten Freitag", "Friday next week"."""
    weekday = next((infos[t.i].weekday for t in span if infos[t.i].tag == "WDAY"), None)
    if weekday is None:
        return None
    folds = [infos[t.i].fold for t in span]
    if any(f in _WEEK_WORD for f in folds):
        next_monday = today + timedelta(days=7 - today.weekday())
        return _iso(next_monday + timedelta(days=weekday))
    ahead = (weekday - today.weekday()) % 7 or 7
    return _iso(today + timedelta(days=ahead))


def _resolve_next_week(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "nächste Woche"/"next week" to next Monday, "übernächste" a week later."""
    weeks = 2 if infos[span[0].i].fold in _AFTER_NEXT else 1
    return _iso(today + timedelta(days=7 - today.weekday() + 7 * (weeks - 1)))


def _resolve_relative(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "heute", "morgen", "übermorgen", "the day after tomorrow"."""
    folds = [infos[t.i].fold for t in span]
    if "after" in folds or "uebermorgen" in folds:
        return _iso(today + timedelta(days=2))
    if folds[-1] in {"heute", "today"}:
        return _iso(today)
    previous = span.doc[span.start - 1] if span.start > 0 else None
    # "Guten Morgen", "heute Morgen", "am Morgen" speak of a morning, not of tomorrow.
    morning_words = {"guten", "heute", "am", "jeden", "gestern", "den"}
    if folds[-1] == "morgen" and previous is not None and infos[previous.i].fold in morning_words:
        return None
    return _iso(today + timedelta(days=1))


def _resolve_in(span: Span, infos: Sequence[_TokenInfo], today: date) -> _Result:
    """Resolve "in zwei Wochen", "in 10 Tagen", "in a month"."""
    count = _span_number(span[1:-1], infos)
    if count is None or count != int(count) or not 0 < count <= 366:
        return None
    unit = _UNITS[infos[span[-1].i].fold]
    if unit == 30:
        year, month = _month_offset(today, int(count))
        day = min(today.day, calendar.monthrange(year, month)[1])
        return _iso(date(year, month, day))
    return _iso(today + timedelta(days=unit * int(count)))


_RESOLVERS: dict[str, _Resolver] = {
    "FOREIGN": lambda span, infos, today: None,
    "AMOUNT_CUR": _resolve_currency,
    "AMOUNT_CENT": _resolve_cent,
    "AMOUNT_BARE": _resolve_bare,
    "DATE_DMY": _resolve_dmy,
    "DATE_DM": _resolve_dm,
    "DATE_DAY": _resolve_day,
    "DATE_DAY_MONTH": _resolve_day_month,
    "DATE_DAY_NEXT_MONTH": _resolve_day_next_month,
    "DATE_MONTH_PART": _resolve_month_part,
    "DATE_NEXT_MONTH": _resolve_next_month,
    "DATE_WEEKDAY": _resolve_weekday,
    "DATE_NEXT_WEEK": _resolve_next_week,
    "DATE_RELATIVE": _resolve_relative,
    "DATE_IN": _resolve_in,
}


def extract_entities(
    text: str, *, today: date, language: str | None = None
) -> list[ExtractedEntity]:
    """Extract euro amounts and dates from a message, normalised, in text order."""
    if not text.strip():
        return []
    if language not in {"de", "en"}:
        language = detect_language(text).language or "de"
    nlp, matcher = _pipeline(language)
    doc = nlp.make_doc(text)
    infos = _tag(doc)
    blockers: list[tuple[int, int, int]] = []
    resolved: list[_Candidate] = []
    for match_id, start, end in matcher(doc):
        label = nlp.vocab.strings[match_id]
        priority = _PRIORITY.get(label, _DATE_PRIORITY)
        if label == "FOREIGN":
            blockers.append((start, end, priority))
            continue
        result = _RESOLVERS[label](doc[start:end], infos, today)
        if result is not None:
            resolved.append(_Candidate(result[0], start, end, result[1], priority))
    chosen: list[_Candidate] = []
    taken: set[int] = set()
    for start, end, _ in blockers:
        taken.update(range(start, end))
    for cand in sorted(resolved, key=lambda c: (-c.priority, -(c.end - c.start), c.start)):
        if taken.isdisjoint(range(cand.start, cand.end)):
            chosen.append(cand)
            taken.update(range(cand.start, cand.end))
    return [_to_entity(doc, cand) for cand in sorted(chosen, key=lambda c: c.start)]


def _to_entity(doc: Doc, cand: _Candidate) -> ExtractedEntity:
    """Turn a chosen candidate into char offsets, dropping a full stop glued to a date."""
    span = doc[cand.start : cand.end]
    start, end = span.start_char, span.end_char
    last = span[-1]
    glued_full_stop = (_DMY.match(last.text) and last.text.count(".") == 3) or (
        cand.entity == "amount" and last.text[:-1].isdigit()
    )
    if last.text.endswith(".") and glued_full_stop:
        end -= 1
    return ExtractedEntity(cand.entity, start, end, doc.text[start:end], cand.value)
