"""The words and token shapes the amount and date extractor knows (``nlu.entities``).

Word sets are folded: lower case, umlauts transliterated ("maeuse", "naechsten"). Pure
stdlib, so both the Rasa runtime and the app runtime can use it.
"""

from __future__ import annotations

import re

# Slang for money counts as euros: a claim is in euros, and "fifty quid a month" from a
# British debtor in Germany, or "zwanzig Mäuse", means that much of it.
EURO = {"€", "eur", "euro", "euros", "eur.", "teuro", "euronen", "quid", "bucks", "maeuse",
        "kroeten", "ocken", "oecken", "tacken"}  # fmt: skip
FOREIGN = {
    "£", "$", "gbp", "usd", "chf", "pound", "pounds", "dollar", "dollars",
    "franken", "fr", "fr.", "pfund",
}  # fmt: skip
CENT = {"cent", "cents", "ct", "ct."}
MONTHS = {
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
WEEKDAYS = {
    "montag": 0, "monday": 0, "dienstag": 1, "tuesday": 1, "mittwoch": 2, "wednesday": 2,
    "donnerstag": 3, "thursday": 3, "freitag": 4, "friday": 4, "samstag": 5,
    "sonnabend": 5, "saturday": 5, "sonntag": 6, "sunday": 6,
}  # fmt: skip
NEXT = {"naechsten", "naechste", "naechster", "naechstes", "kommenden", "kommende", "next",
        "coming"}  # fmt: skip
AFTER_NEXT = {"uebernaechsten", "uebernaechste", "uebernaechster"}
THIS = {"diesen", "dieses", "diesem", "diese", "this", "current", "laufenden", "the", "des"}
MONTH_WORD = {"monat", "monats", "monates", "month"}
WEEK_WORD = {"woche", "week"}
UNITS = {
    "tag": 1, "tage": 1, "tagen": 1, "day": 1, "days": 1,
    "woche": 7, "wochen": 7, "week": 7, "weeks": 7, "fortnight": 14, "fortnights": 14,
    "monat": 30, "monate": 30, "monaten": 30, "month": 30, "months": 30,
}  # fmt: skip
MONTH_PARTS = {
    "ende": "end", "end": "end", "anfang": "start", "start": "start", "beginning": "start",
    "beginn": "start", "early": "start", "mitte": "mid", "mid": "mid", "middle": "mid",
}  # fmt: skip
MONTH_PART_COMPOUNDS = {
    "monatsende": "end", "monatsanfang": "start", "monatsbeginn": "start",
    "monatsmitte": "mid", "month-end": "end", "mid-month": "mid",
}  # fmt: skip
DAY_PREPS = {"am", "zum", "ab", "bis", "vom", "spaetestens", "on", "by", "until", "till",
             "before", "from", "starting"}  # fmt: skip
DAY_PREP_LINKS = {"zum", "dem", "den", "the", "am"}
# Article-like words count as "1" only before a multiplier, unit or currency.
ARTICLE_ONE = {"ein", "eine", "einen", "einem", "einer", "a", "an"}
MULTIPLIERS = {"hundert", "tausend", "hundred", "thousand"}
# Words after which a bare number is still an amount ("50 im Monat", "pay 30 a month").
AMOUNT_FOLLOWERS = {
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
REFERENCE_WORDS = {
    "nr", "nr.", "nummer", "no", "no.", "number", "#", "aktenzeichen", "az", "az.",
    "kundennummer", "vertragsnummer", "rechnungsnummer", "referenz", "reference", "ref",
    "ref.", "case", "option", "punkt", "jahr", "year", "seit", "since", "plz",
    "postleitzahl", "hausnummer", "tel", "tel.", "telefon", "phone", "zimmer", "um",
    "kinder", "kind", "children", "kids", "strasse", "str", "str.", "street", "road",
    "kundennr", "kundennr.", "id", "pin", "iban", "konto", "kontonummer", "account",
}  # fmt: skip
# Nouns that an ordinal counts ("der zweite Brief"), so the ordinal is no day of month.
COUNTED_NOUNS = {
    "monat", "monats", "rate", "raten", "woche", "jahr", "mal", "brief", "mahnung", "zahlung",
    "month", "payment", "installment", "instalment", "time", "letter", "reminder", "week",
    "year",
}  # fmt: skip
LINKS = {"ist", "is", "lautet", "was", "war", ":", "=", "-"}
PAYMENT_CUE = re.compile(
    r"\b(?:zahl|bezahl|abzahl|ueberweis|rate|monat|woche|hoechstens|maximal|mindestens|"
    r"leisten|aufbringen|anbiet|biete|schulde|betrag|summe|offen|pay|afford|month|week|"
    r"install?ment|offer|owe|amount|total|sum\b|nur\b|only\b|max\b|most\b)"
)

DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})\.?$")
DM = re.compile(r"^(\d{1,2})\.(\d{1,2})\.$")
DM_NO_DOT = re.compile(r"^(\d{1,2})\.(\d{1,2})$")
ORD_DOT = re.compile(r"^(\d{1,2})\.$")
ORD_EN = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$", re.IGNORECASE)
YEAR = r"^(?:19|20)\d\d$"

# spaCy glues "50Euro", "50€/Monat" and "50,-€" into one token; split them as people mean.
EXTRA_INFIXES = [
    r"(?<=[0-9])(?=[€$£])",
    r"(?<=[€$£])(?=[0-9])",
    r"(?<=,-)(?=[€$£])",
    r"(?<=[0-9])(?=(?:[Ee][Uu][Rr]|[Ee]uro)s?\b)",
    r"/",
    r"(?<=[Mm]id)-(?=[A-Za-z])",
]
