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
from typing import Literal

from spacy.tokens import Doc, Span

from nlu.entity_patterns import (
    DATE_PRIORITY,
    PRIORITY,
    TokenInfo,
    is_english_number,
    pipeline,
    tag,
)
from nlu.language import detect_language
from nlu.lexicon import (
    AFTER_NEXT,
    AMOUNT_FOLLOWERS,
    ARTICLE_ONE,
    COUNTED_NOUNS,
    DMY,
    LINKS,
    MONTH_PART_COMPOUNDS,
    MONTH_PARTS,
    NEXT,
    PAYMENT_CUE,
    REFERENCE_WORDS,
    UNITS,
    WEEK_WORD,
    YEAR,
)
from nlu.numbers import fold_umlauts, parse_english_words, parse_german_word

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


@dataclass(frozen=True)
class _Candidate:
    """A matched span with its resolved value and priority."""

    entity: EntityName
    start: int
    end: int
    value: str
    priority: int


_Result = tuple[EntityName, str] | None
_Resolver = Callable[[Span, Sequence[TokenInfo], date], _Result]


# --- Resolution -------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    """Format a euro amount with two decimals."""
    return str(value.quantize(Decimal("0.01")))


def _span_number(span: Span, infos: Sequence[TokenInfo]) -> Decimal | None:
    """Read the number in a span: one digit token or a run of number words."""
    numeric = [infos[t.i] for t in span if infos[t.i].tag in {"NUM", "ORD_DOT", "DMX", "ONE"}]
    if numeric:
        return numeric[0].number if len(numeric) == 1 else None
    words = [t.text for t in span if infos[t.i].tag in {"NUMW", "JOIN"}]
    if not words:
        return None
    folded = [fold_umlauts(w) for w in words]
    if len(folded) == 1 and folded[0] in ARTICLE_ONE:
        return Decimal(1)  # "ein Euro"
    if all(is_english_number(w) or w in {"a", "an", "and", "-"} for w in folded):
        value = parse_english_words(folded)
    else:
        # "zwei hundert fünfzig" and "ein hundert" written apart read as the compound.
        value = parse_german_word("".join(w for w in folded if w not in ARTICLE_ONE))
    return Decimal(value) if value is not None else None


def _resolve_currency(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "50 €", "€75.50", "fünfzig Euro"."""
    value = _span_number(span, infos)
    return ("amount", _money(value)) if value is not None else None


def _resolve_cent(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "50 Cent" to 0.50."""
    value = _span_number(span, infos)
    return ("amount", _money(value / 100)) if value is not None else None


def _resolve_bare(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
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
        previous_info.fold in REFERENCE_WORDS or previous_info.tag in {"MONTH", "FCUR"}
    ):
        return None
    # "Kundennummer ist 4711", "my number is 4711", "Az.: 4711": the reference word sits
    # one linking word further back.
    linked = previous_info is not None and previous_info.fold in LINKS and span.start > 1
    if linked and infos[span.start - 2].fold in REFERENCE_WORDS:
        return None
    if following is not None:
        if following.text == "%":
            return None
        if not following.is_punct:
            if infos[following.i].fold not in AMOUNT_FOLLOWERS:
                return None  # "10 Tagen", "3 Raten", "15 Uhr", "2 Kinder"
            if infos[first.i].tag == "ORD_DOT":
                return None  # "15." before more words is an ordinal
    if all(t.is_punct for t in doc if t.i < span.start or t.i >= span.end):
        # A lone "1" or "2" answers a menu; a lone "50" answers "how much?".
        return ("amount", _money(value)) if value >= 10 and not is_words else None
    if is_words and value < 10:
        return None
    if not PAYMENT_CUE.search(fold_umlauts(doc.text)):
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


def _resolve_dmy(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "15.12.2026" and "14.03.1987" as written."""
    info = infos[span[0].i]
    try:
        return _iso(date(info.year or 0, info.month or 0, info.day or 0))
    except ValueError:
        return None


def _resolve_dm(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "15.12." to the next such date."""
    info = infos[span[-1].i]
    return _iso(_next_day_month(today, info.day or 0, info.month or 0))


def _resolve_day(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "am 15.", "on the 15th", "am fünfzehnten"."""
    following = span.doc[span.end] if span.end < len(span.doc) else None
    if following is not None and infos[following.i].fold in COUNTED_NOUNS:
        return None  # "ab dem dritten Monat", "the second payment": counting, not a day
    day = next((infos[t.i].day for t in span if infos[t.i].day is not None), None)
    return _iso(_next_day_of_month(today, day)) if day is not None else None


def _resolve_day_month(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "15. Dezember", "December 15th, 2026", "15th of December"."""
    month = next((infos[t.i].month for t in span if infos[t.i].tag == "MONTH"), None)
    day = None
    year = None
    for token in span:
        info = infos[token.i]
        if info.tag in {"ORD_DOT", "ORD", "ORDW"}:
            day = info.day
        elif info.tag == "NUM" and info.number is not None:
            if re.match(YEAR, token.text):
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


def _resolve_day_next_month(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "the 1st of next month", "zum 1. nächsten Monats"."""
    day = next((infos[t.i].day for t in span if infos[t.i].day is not None), None)
    year, month = _month_offset(today, 1)
    if day is None or day > calendar.monthrange(year, month)[1]:
        return None
    return _iso(date(year, month, day))


def _resolve_month_part(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "Ende des Monats", "Anfang nächsten Monats", "end of December"."""
    folds = [infos[t.i].fold for t in span]
    parts = {**MONTH_PARTS, **MONTH_PART_COMPOUNDS}
    part = next((parts[f] for f in folds if f in parts), "end")
    named = next((infos[t.i].month for t in span if infos[t.i].tag == "MONTH"), None)
    if named is not None:
        year = today.year if named >= today.month else today.year + 1
        result = _month_part(year, named, part)
        if result < today:
            result = _month_part(year + 1, named, part)
        return _iso(result)
    offset = 1 if any(f in NEXT for f in folds) else 0
    year, month = _month_offset(today, offset)
    result = _month_part(year, month, part)
    if result < today and offset == 0:
        # "Anfang des Monats" said on the 22nd means the coming start of a month.
        year, month = _month_offset(today, 1)
        result = _month_part(year, month, part)
    return _iso(result)


def _resolve_next_month(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "nächsten Monat"/"next month" to its first day."""
    year, month = _month_offset(today, 1)
    return _iso(date(year, month, 1))


def _resolve_weekday(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "Freitag", "nächsten Freitag", "Friday next week"."""
    weekday = next((infos[t.i].weekday for t in span if infos[t.i].tag == "WDAY"), None)
    if weekday is None:
        return None
    folds = [infos[t.i].fold for t in span]
    if any(f in WEEK_WORD for f in folds):
        next_monday = today + timedelta(days=7 - today.weekday())
        return _iso(next_monday + timedelta(days=weekday))
    ahead = (weekday - today.weekday()) % 7 or 7
    return _iso(today + timedelta(days=ahead))


def _resolve_next_week(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "nächste Woche"/"next week" to next Monday, "übernächste" a week later."""
    weeks = 2 if infos[span[0].i].fold in AFTER_NEXT else 1
    return _iso(today + timedelta(days=7 - today.weekday() + 7 * (weeks - 1)))


def _resolve_relative(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
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


def _resolve_in(span: Span, infos: Sequence[TokenInfo], today: date) -> _Result:
    """Resolve "in zwei Wochen", "in 10 Tagen", "in a month"."""
    count = _span_number(span[1:-1], infos)
    if count is None or count != int(count) or not 0 < count <= 366:
        return None
    unit = UNITS[infos[span[-1].i].fold]
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
    nlp, matcher = pipeline(language)
    doc = nlp.make_doc(text)
    infos = tag(doc)
    blockers: list[tuple[int, int, int]] = []
    resolved: list[_Candidate] = []
    for match_id, start, end in matcher(doc):
        label = nlp.vocab.strings[match_id]
        priority = PRIORITY.get(label, DATE_PRIORITY)
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
    glued_full_stop = (DMY.match(last.text) and last.text.count(".") == 3) or (
        cand.entity == "amount" and last.text[:-1].isdigit()
    )
    if last.text.endswith(".") and glued_full_stop:
        end -= 1
    return ExtractedEntity(cand.entity, start, end, doc.text[start:end], cand.value)
