"""Bot turns rendered for the ear: no emojis or payloads, amounts and dates spoken, buttons said.

Pure functions (apart from reading the line's own texts once). A German text
such as "412,50 € bis zum 15.12.2026, Aktenzeichen 260000117" becomes
"vierhundertzwölf Euro fünfzig bis zum fünfzehnten Dezember
zweitausendsechsundzwanzig, Aktenzeichen zwei sechs null …", ready for `<Say>`.

The bot's texts are written for a screen; `spoken_forms.yml` gives the chat wording
its spoken form first ("schreiben Sie" → "sagen Sie", no "(TT.MM.JJJJ)", no second
"not a person" notice after the call's opening). Links are said as their address
("quitt Punkt example Schrägstrich datenschutz"), an IBAN and a BIC letter by letter
in groups, a bracketed aside as a clause, and a numbered list whose items are the
buttons becomes "Für … drücken Sie die 1."
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml
from num2words import num2words

from domain import catalogue

TEXTS_FILE = Path(__file__).with_name("texts.yml")
SPOKEN_FORMS_FILE = Path(__file__).with_name("spoken_forms.yml")
LANGUAGES: Final = ("de", "en")

_DE_MONTHS: Final = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
_EN_MONTHS: Final = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DIGIT_WORDS: Final = {
    "de": ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"],
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
}
# Amounts as actions/formatting.py writes them: "1.234,56 €" (de) and "€1,234.56" (en).
_DE_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})*|\d+),(\d{2})\s?€")
_EN_AMOUNT = re.compile(r"€\s?(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?(?![\d])")
_DE_DATE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d])")
_EN_DATE = re.compile(r"(?<![\d])(\d{1,2}) (" + "|".join(_EN_MONTHS) + r") (\d{4})(?![\d])")
# Claim references, postcodes and phone numbers: five digits or more, or a group
# of digit blocks ("0800 111 0 111"); said one digit at a time.
_DIGIT_RUN = re.compile(r"(?<!\d)(?<!\d[.,])(?:\d+(?: \d+)+|\d{5,}|0\d+)(?!\d|[.,]\d)")
_LEADING_NUMBER = re.compile(r"^\s*\d+[.)]\s*")
_SYMBOLS: Final = {
    "de": {"×": " mal ", "%": " Prozent", "&": " und ", "–": ", ", "—": ", ", "/": " "},
    "en": {"×": " times ", "%": " percent", "&": " and ", "–": ", ", "—": ", ", "/": " "},
}
_MARKUP = re.compile(r"[*_#`>|~\[\]{}<•·▪◦]")
# A link is said as its address: no scheme, dots and slashes in words.
_URL = re.compile(r"(?:https?://|www\.)(\S+?)(?=[.,;:!?)]?(?:\s|$))")
_URL_WORDS: Final = {
    "de": {".": " Punkt ", "/": " Schrägstrich ", "-": " Bindestrich ", "?": " Fragezeichen "},
    "en": {".": " dot ", "/": " slash ", "-": " dash ", "?": " question mark "},
}
# An IBAN ("DE89 3704 0044 0532 0130 00") and a BIC ("COBADEFFXXX") are spelled.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_BIC = re.compile(r"(?<=BIC: )[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b")
# A bracketed aside is said as a clause: "(gerichtliches Mahnverfahren)" → ", …,".
_ASIDE = re.compile(r"\s*\(([^()]*)\)")
_NUMBERED = re.compile(r"^\s*(\d{1,2})\.\s+(\S.*)$")
_LIST_NUMBER = re.compile(r"^[ \t]*\d{1,2}\.[ \t]+(?=\S)", re.MULTILINE)
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")


def _texts() -> catalogue.Texts:
    """Load the voice line's texts once, checking both languages have every key."""
    return catalogue.load(TEXTS_FILE)


@lru_cache(maxsize=1)
def _spoken_forms() -> dict[str, list[tuple[re.Pattern[str], str]]]:
    """Load the spoken forms of the bot's chat wording once, per language, in order."""
    data = yaml.safe_load(SPOKEN_FORMS_FILE.read_text(encoding="utf-8")) or {}
    return {
        language: [
            (re.compile(str(rule["written"])), str(rule["spoken"]))
            for rule in data.get(language) or []
        ]
        for language in LANGUAGES
    }


def spoken_form(value: str, language: str | None) -> str:
    """Replace the chat wording of a bot text with what a caller should hear."""
    for written, spoken in _spoken_forms()[_lang(language)]:
        value = written.sub(spoken, value)
    return value


def text(key: str, language: str | None, **values: str) -> str:
    """Return one of the voice line's texts in the language (German when unknown)."""
    return catalogue.text(_texts(), key, language, **values)


def _lang(language: str | None) -> str:
    """Return a supported language, German by default."""
    return language if language in LANGUAGES else "de"


def _cardinal(number: int, language: str) -> str:
    """Say a whole number ("vierhundertzwölf", "four hundred twelve")."""
    words = str(num2words(number, lang=language))
    if language == "en":
        # Spoken amounts drop the British "and": "four hundred twelve".
        words = words.replace(" and ", " ").replace(",", "")
    return words


def speak_amount(amount: Decimal, language: str | None) -> str:
    """Say an amount of euros: 412.50 → "vierhundertzwölf Euro fünfzig" / "… and fifty cents"."""
    language = _lang(language)
    amount = amount.quantize(Decimal("0.01"))
    euros = int(amount)
    cents = int((amount - euros) * 100)
    if language == "de":
        if euros and cents:
            return f"{_euro_words_de(euros)} Euro {_cardinal(cents, 'de')}"
        if euros:
            return f"{_euro_words_de(euros)} Euro"
        return f"{_euro_words_de(cents)} Cent"
    parts = []
    if euros:
        parts.append(f"{_cardinal(euros, 'en')} {'euro' if euros == 1 else 'euros'}")
    if cents or not euros:
        parts.append(f"{_cardinal(cents, 'en')} {'cent' if cents == 1 else 'cents'}")
    return " and ".join(parts)


def _euro_words_de(number: int) -> str:
    """Say a German count before a noun: "ein Euro", not "eins Euro"."""
    words = _cardinal(number, "de")
    return words[:-1] if words.endswith("eins") else words


def speak_date(value: date, language: str | None) -> str:
    """Say a date: "fünfzehnten Dezember zweitausendsechsundzwanzig", "the fifteenth of …"."""
    language = _lang(language)
    year = str(num2words(value.year, lang=language, to="year"))
    if language == "de":
        day = f"{num2words(value.day, lang='de', to='ordinal')}n"
        return f"{day} {_DE_MONTHS[value.month - 1]} {year}"
    day = str(num2words(value.day, lang="en", to="ordinal"))
    return f"the {day} of {_EN_MONTHS[value.month - 1]} {year}"


def speak_digits(digits: str, language: str | None) -> str:
    """Say a number one digit at a time: "2 6 0" → "zwei sechs null"."""
    words = _DIGIT_WORDS[_lang(language)]
    return " ".join(words[int(d)] for d in digits if d.isdigit())


def _amount_de(match: re.Match[str]) -> str:
    euros = match.group(1).replace(".", "")
    return speak_amount(Decimal(f"{euros}.{match.group(2)}"), "de")


def _amount_en(match: re.Match[str]) -> str:
    euros = match.group(1).replace(",", "")
    return speak_amount(Decimal(f"{euros}.{match.group(2) or '00'}"), "en")


def _date_de(match: re.Match[str]) -> str:
    try:
        value = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return match.group(0)
    return speak_date(value, "de")


def _date_en(match: re.Match[str]) -> str:
    month = _EN_MONTHS.index(match.group(2)) + 1
    try:
        value = date(int(match.group(3)), month, int(match.group(1)))
    except ValueError:
        return match.group(0)
    return speak_date(value, "en")


def _without_emojis(value: str) -> str:
    """Drop pictographs, variation selectors and other symbols no voice can say."""
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("So", "Sk", "Cs", "Co") or char in "\u200d\ufe0f\ufe0e":
            continue
        kept.append(char)
    return "".join(kept)


def speak_link(address: str, language: str | None) -> str:
    """Say a link's address: "quitt.example/datenschutz" → "quitt Punkt example Schrägstrich …"."""
    words = _URL_WORDS[_lang(language)]
    said = "".join(words.get(char, char) for char in address.rstrip("/"))
    return _SPACES.sub(" ", said).strip()


def spell(code: str, language: str | None) -> str:
    """Spell a bank code: letters one by one, digits as words, groups of four apart."""
    digits = _DIGIT_WORDS[_lang(language)]
    compact = code.replace(" ", "")
    groups = [compact[i : i + 4] for i in range(0, len(compact), 4)]
    return ", ".join(
        " ".join(digits[int(c)] if c.isdigit() else c for c in group) for group in groups
    )


def speak_text(value: str, language: str | None) -> str:
    """Render one bot text for `<Say>`: amounts, dates and references spoken, no symbols."""
    language = _lang(language)
    spoken = spoken_form(_without_emojis(value), language)
    # A list's numbering is for the eye ("1. …"): a caller hears the items.
    spoken = _LIST_NUMBER.sub("", spoken)
    kept: list[str] = []

    def _keep(said: str) -> str:
        # Already spoken: kept apart so that later passes leave it alone.
        kept.append(said)
        return f"\x00{len(kept) - 1}\x00"

    spoken = _URL.sub(lambda m: _keep(speak_link(m.group(1), language)), spoken)
    spoken = _IBAN.sub(lambda m: _keep(spell(m.group(0), language)), spoken)
    spoken = _BIC.sub(lambda m: _keep(spell(m.group(0), language)), spoken)
    if language == "de":
        spoken = _DE_AMOUNT.sub(_amount_de, spoken)
        spoken = _DE_DATE.sub(_date_de, spoken)
    else:
        spoken = _EN_AMOUNT.sub(_amount_en, spoken)
        spoken = _EN_DATE.sub(_date_en, spoken)
        # A German-formatted date can reach an English text (a reference letter's date).
        spoken = _DE_DATE.sub(_date_de, spoken)
    spoken = _DIGIT_RUN.sub(lambda m: speak_digits(m.group(0), language), spoken)
    for symbol, words in _SYMBOLS[language].items():
        spoken = spoken.replace(symbol, words)
    spoken = _MARKUP.sub(" ", spoken).replace("€", " Euro" if language == "de" else " euros")
    spoken = _ASIDE.sub(lambda m: f", {m.group(1).strip()},", spoken)
    spoken = re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], spoken)
    lines = [_SPACES.sub(" ", line).strip(" ,") for line in spoken.splitlines()]
    sentences = []
    for line in lines:
        if not line:
            continue
        sentences.append(line if line[-1] in ".!?:;" else f"{line}.")
    said = " ".join(sentences).replace(" ,", ",").replace(" .", ".")
    return re.sub(r",+", ",", said).replace(",.", ".").replace(",:", ":").replace(",;", ";")


@dataclass(frozen=True)
class Spoken:
    """What to say for a set of bot turns, and the payloads keypad digits stand for."""

    text: str
    options: list[dict[str, str]]

    def payload_for(self, digit: str) -> str | None:
        """Return the payload a keypad digit picks (1 = the first option), if any."""
        if not digit.isdigit():
            return None
        index = int(digit) - 1
        return self.options[index]["payload"] if 0 <= index < len(self.options) else None


def _option_title(title: str) -> str:
    """Return a button title without a number of its own ("1. 260000117" → "260000117")."""
    return _LEADING_NUMBER.sub("", title).strip() or title.strip()


def render(replies: list[dict[str, Any]], language: str | None) -> Spoken:
    """Turn bot turns into one text to say; buttons become "say … or press N".

    Only the last turn with buttons offers them (up to nine, one per key); payloads
    and custom JSON are never said.
    """
    language = _lang(language)
    last_with_buttons = max(
        (i for i, reply in enumerate(replies) if reply.get("buttons")), default=None
    )
    parts: list[str] = []
    options: list[dict[str, str]] = []
    for i, reply in enumerate(replies):
        body = str(reply.get("text") or "").strip()
        if body.startswith("/"):
            body = ""
        listed: list[str] = []
        if i == last_with_buttons:
            body, listed = _numbered_options(body, len(reply["buttons"][:9]))
        if body:
            parts.append(speak_text(body, language))
        if i == last_with_buttons:
            for button in reply["buttons"][:9]:
                payload = str(button.get("payload") or "")
                if not payload:
                    continue
                options.append(
                    {"title": _option_title(str(button.get("title") or "")), "payload": payload}
                )
                digit = str(len(options))
                if len(options) <= len(listed):
                    # The text lists this option in full: "Für … drücken Sie die 1."
                    item = speak_text(listed[len(options) - 1], language).rstrip(".")
                    parts.append(text("press_for", language, title=item, digit=digit))
                    continue
                title = speak_text(options[-1]["title"], language).rstrip(".")
                parts.append(text("say_or_press", language, title=title, digit=digit))
    return Spoken(" ".join(p for p in parts if p), options)


def _numbered_options(body: str, buttons: int) -> tuple[str, list[str]]:
    """Take a numbered list ("1. …", "2. …") that names the buttons out of a text.

    A list on a screen is read with the eyes; on a call each item is said once,
    with its key. Returns the text without the list, and the items in order.
    """
    lines = body.splitlines()
    items: list[str] = []
    kept: list[str] = []
    for line in lines:
        found = _NUMBERED.match(line)
        if found and int(found.group(1)) == len(items) + 1:
            items.append(found.group(2))
        else:
            kept.append(line)
    if len(items) < 2 or len(items) > buttons:
        return body, []
    return "\n".join(kept), items


# What the bot asks for when it wants a number that speech gets wrong (a reference,
# a date of birth, a postcode); the voice line then suggests the keypad.
_NUMBER_QUESTIONS: Final = {
    "de": re.compile(r"Aktenzeichen\?|Geburtsdatum|Postleitzahl", re.IGNORECASE),
    "en": re.compile(r"claim reference\?|reference\?|date of birth|postcode", re.IGNORECASE),
}


_DATE_QUESTIONS: Final = {
    "de": re.compile(r"Geburtsdatum", re.IGNORECASE),
    "en": re.compile(r"date of birth", re.IGNORECASE),
}


def asks_for_number(replies: list[dict[str, Any]], language: str | None) -> bool:
    """Tell whether the bot's last turn asks for a reference, date of birth or postcode."""
    texts = [str(r.get("text") or "") for r in replies if r.get("text")]
    return bool(texts) and bool(_NUMBER_QUESTIONS[_lang(language)].search(texts[-1]))


def keypad_prompt(replies: list[dict[str, Any]], language: str | None) -> str:
    """Return how to key in what the bot asks for (a date of birth: day, month, year)."""
    texts = [str(r.get("text") or "") for r in replies if r.get("text")]
    if texts and _DATE_QUESTIONS[_lang(language)].search(texts[-1]):
        return text("keypad_date_prompt", language)
    return text("keypad_prompt", language)


def parse_keypad(digits: str) -> tuple[str, str]:
    """Read keypad digits as the text a chat debtor would type; return (kind, text).

    Eight digits that make a real date (DDMMYYYY) are a date of birth, "14.03.1987";
    anything else stays a number (claim reference, postcode).
    """
    if len(digits) == 8:
        try:
            date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
        except ValueError:
            return "number", digits
        if 1900 <= int(digits[4:]) <= 2100:
            return "date", f"{digits[:2]}.{digits[2:4]}.{digits[4:]}"
    return "number", digits


def confirm_keypad(kind: str, value: str, language: str | None) -> str:
    """Say back what the keypad entered: "Ich habe zwei sechs null … verstanden."."""
    if kind == "date":
        day, month, year = (int(part) for part in value.split("."))
        return text("date_heard", language, date=speak_date(date(year, month, day), language))
    if len(value) <= 4 and not value.startswith("0"):
        # A short number is an amount or a choice: "fünfzig", not "fünf null".
        return text("digits_heard", language, digits=_cardinal(int(value), _lang(language)))
    return text("digits_heard", language, digits=speak_digits(value, language))
