"""Table-driven tests of amount and date extraction (nlu.entities)."""

from __future__ import annotations

from datetime import date

import pytest

from nlu.entities import ExtractedEntity, extract_entities

SUNDAY = date(2026, 11, 22)  # a Sunday; the default "today" of the table
JAN_31 = date(2026, 1, 31)  # month end before a short month
FEB_28 = date(2026, 2, 28)  # month end of February (not a leap year)
DEC_31 = date(2026, 12, 31)  # year end
THU = date(2026, 11, 26)  # a Thursday

A = "amount"
D = "date"

# (text, language, today, expected {(entity, value)})
CASES: list[tuple[str, str | None, date, set[tuple[str, str]]]] = [
    # --- amounts with a euro cue ---------------------------------------------------------
    ("50 €", "de", SUNDAY, {(A, "50.00")}),
    ("50€", "de", SUNDAY, {(A, "50.00")}),
    ("50 Euro", "de", SUNDAY, {(A, "50.00")}),
    ("50,- €", "de", SUNDAY, {(A, "50.00")}),
    ("€75.50", "en", SUNDAY, {(A, "75.50")}),
    ("75,50 EUR", "de", SUNDAY, {(A, "75.50")}),
    ("1.234,56 €", "de", SUNDAY, {(A, "1234.56")}),
    ("I owe you 1,234.56", "en", SUNDAY, {(A, "1234.56")}),
    ("Der Betrag von 1,234.56 ist zu hoch", "de", SUNDAY, {(A, "1234.56")}),
    ("fünfzig Euro", "de", SUNDAY, {(A, "50.00")}),
    ("ich zahle fuenfzig im monat", "de", SUNDAY, {(A, "50.00")}),
    ("zweihundert Euro kann ich überweisen", "de", SUNDAY, {(A, "200.00")}),
    ("einhundertfünfundzwanzig Euro", "de", SUNDAY, {(A, "125.00")}),
    ("dreißig Euro im Monat", "de", SUNDAY, {(A, "30.00")}),
    ("dreissig euro pro monat", "de", SUNDAY, {(A, "30.00")}),
    ("zweitausendfünfhundert Euro Schulden", "de", SUNDAY, {(A, "2500.00")}),
    ("I can do fifty euros", "en", SUNDAY, {(A, "50.00")}),
    ("two hundred and fifty euros", "en", SUNDAY, {(A, "250.00")}),
    ("twenty-five euros", "en", SUNDAY, {(A, "25.00")}),
    ("twenty-five euros", "de", SUNDAY, {(A, "25.00")}),
    ("I could pay a hundred a month", "en", SUNDAY, {(A, "100.00")}),
    ("100 Euro monatlich", "de", SUNDAY, {(A, "100.00")}),
    ("EUR 75,50", "de", SUNDAY, {(A, "75.50")}),
    ("Kann ich 50Euro/Monat zahlen?", "de", SUNDAY, {(A, "50.00")}),
    ("12500 Euro Schulden habe ich", "de", SUNDAY, {(A, "12500.00")}),
    ("50 Cent mehr geht nicht", "de", SUNDAY, {(A, "0.50")}),
    ("zwei hundert fünfzig Euro", "de", SUNDAY, {(A, "250.00")}),
    ("ein Euro", "de", SUNDAY, {(A, "1.00")}),
    # --- other currencies are no euro amounts --------------------------------------------
    ("I will pay 30 pounds", "en", SUNDAY, set()),
    # --- slang for money on a euro claim is euros ("fifty quid a month", "20 Mäuse") ----
    ("I can pay thirty quid", "en", SUNDAY, {(A, "30.00")}),
    ("fifty bucks a month", "en", SUNDAY, {(A, "50.00")}),
    ("zwanzig Mäuse im Monat", "de", SUNDAY, {(A, "20.00")}),
    ("I will pay 200 dollars", "en", SUNDAY, set()),
    ("£30 a month", "en", SUNDAY, set()),
    ("50 CHF im Monat", "de", SUNDAY, set()),
    # --- bare numbers in payment sentences ---------------------------------------------
    ("ich kann höchstens 50 im Monat", "de", SUNDAY, {(A, "50.00")}),
    ("can I pay 30 a month?", "en", SUNDAY, {(A, "30.00")}),
    ("Ich zahle 50.", "de", SUNDAY, {(A, "50.00")}),
    ("mehr als 40 monatlich ist nicht drin", "de", SUNDAY, {(A, "40.00")}),
    ("I can only afford 25", "en", SUNDAY, {(A, "25.00")}),
    ("Ich kann 75,50 zahlen", "de", SUNDAY, {(A, "75.50")}),
    ("50", None, SUNDAY, {(A, "50.00")}),
    ("120!", None, SUNDAY, {(A, "120.00")}),
    # --- guards: no amount ---------------------------------------------------------------
    ("1", None, SUNDAY, set()),
    ("2", None, SUNDAY, set()),
    ("ok", None, SUNDAY, set()),
    ("Meine PLZ ist 20249", "de", SUNDAY, set()),
    ("20249 Hamburg, ich zahle gern", "de", SUNDAY, set()),
    ("Aktenzeichen 260000117", "de", SUNDAY, set()),
    ("Ich zahle für 260000117", "de", SUNDAY, set()),
    ("my reference is 260000117, I want to pay", "en", SUNDAY, set()),
    ("Ich habe 2 Kinder und kann nichts zahlen", "de", SUNDAY, set()),
    ("Ich möchte in 3 Raten zahlen", "de", SUNDAY, set()),
    ("Ruf mich an unter 0171 1234567, dann zahle ich", "de", SUNDAY, set()),
    ("Ich bin um 15 Uhr erreichbar", "de", SUNDAY, set()),
    ("Ich habe zwei Fragen zur Zahlung", "de", SUNDAY, set()),
    ("Wohnung Nr. 12, ich zahle", "de", SUNDAY, set()),
    ("Hallo, ich habe Ihren Brief bekommen", "de", SUNDAY, set()),
    ("Ich zahle 5 % Zinsen", "de", SUNDAY, set()),
    ("Die Vertragsnummer ist 1234, ich zahle", "de", SUNDAY, set()),
    ("my account number is 8812 and I want to pay", "en", SUNDAY, set()),
    ("Seit 2019 zahle ich", "de", SUNDAY, set()),
    ("Die Rate ist 50", "de", SUNDAY, {(A, "50.00")}),
    # --- dates: day numbers --------------------------------------------------------------
    ("am 15.", "de", SUNDAY, {(D, "2026-12-15")}),
    ("Ich kann am 15. zahlen", "de", SUNDAY, {(D, "2026-12-15")}),
    ("am fünfzehnten", "de", SUNDAY, {(D, "2026-12-15")}),
    ("zum 1.", "de", SUNDAY, {(D, "2026-12-01")}),
    ("bis zum 25.", "de", SUNDAY, {(D, "2026-11-25")}),
    ("am 22.", "de", SUNDAY, {(D, "2026-12-22")}),
    ("am 31.", "de", SUNDAY, {(D, "2026-12-31")}),
    ("on the 15th", "en", SUNDAY, {(D, "2026-12-15")}),
    ("by the 30th", "en", SUNDAY, {(D, "2026-11-30")}),
    ("on the first", "en", SUNDAY, {(D, "2026-12-01")}),
    ("am 30.", "de", JAN_31, {(D, "2026-03-30")}),
    ("ab dem dritten Monat zahle ich mehr", "de", SUNDAY, set()),
    ("on the second payment I paid more", "en", SUNDAY, set()),
    # --- dates: day and month ------------------------------------------------------------
    ("15.12.", "de", SUNDAY, {(D, "2026-12-15")}),
    ("15.12.2026", "de", SUNDAY, {(D, "2026-12-15")}),
    ("am 3.1.", "de", SUNDAY, {(D, "2027-01-03")}),
    ("bis 15.12.26", "de", SUNDAY, {(D, "2026-12-15")}),
    ("am 1.12", "de", SUNDAY, {(D, "2026-12-01")}),
    ("15. Dezember", "de", SUNDAY, {(D, "2026-12-15")}),
    ("am 5. Januar", "de", SUNDAY, {(D, "2027-01-05")}),
    ("15 December", "en", SUNDAY, {(D, "2026-12-15")}),
    ("December 15", "en", SUNDAY, {(D, "2026-12-15")}),
    ("December 15th, 2027", "en", SUNDAY, {(D, "2027-12-15")}),
    ("the 15th of December", "en", SUNDAY, {(D, "2026-12-15")}),
    ("22.11.", "de", SUNDAY, {(D, "2026-11-22")}),
    ("Geboren am 14.03.1987", "de", SUNDAY, {(D, "1987-03-14")}),
    ("Mein Geburtsdatum ist 14.03.1987, ich zahle", "de", SUNDAY, {(D, "1987-03-14")}),
    ("Ich zahle bis zum 30.11.2026.", "de", SUNDAY, {(D, "2026-11-30")}),
    ("am 31.02.", "de", SUNDAY, set()),
    # --- dates: month parts --------------------------------------------------------------
    ("Ende des Monats", "de", SUNDAY, {(D, "2026-11-30")}),
    ("Monatsende", "de", SUNDAY, {(D, "2026-11-30")}),
    ("zum Monatsende", "de", FEB_28, {(D, "2026-02-28")}),
    ("Ende nächsten Monats", "de", SUNDAY, {(D, "2026-12-31")}),
    ("Ende nächsten Monats", "de", JAN_31, {(D, "2026-02-28")}),
    ("Ende des nächsten Monats", "de", DEC_31, {(D, "2027-01-31")}),
    ("Anfang nächsten Monats", "de", SUNDAY, {(D, "2026-12-01")}),
    ("Anfang nächsten Monats", "de", DEC_31, {(D, "2027-01-01")}),
    ("Mitte nächsten Monats", "de", SUNDAY, {(D, "2026-12-15")}),
    ("end of the month", "en", SUNDAY, {(D, "2026-11-30")}),
    ("end of next month", "en", SUNDAY, {(D, "2026-12-31")}),
    ("end of next month", "en", JAN_31, {(D, "2026-02-28")}),
    ("the 1st of next month", "en", SUNDAY, {(D, "2026-12-01")}),
    ("the 1st of next month", "en", DEC_31, {(D, "2027-01-01")}),
    ("zum 1. des nächsten Monats", "de", SUNDAY, {(D, "2026-12-01")}),
    ("Ende Dezember", "de", SUNDAY, {(D, "2026-12-31")}),
    ("mid-December", "en", SUNDAY, {(D, "2026-12-15")}),
    ("Anfang Januar", "de", DEC_31, {(D, "2027-01-01")}),
    ("nächsten Monat", "de", SUNDAY, {(D, "2026-12-01")}),
    # --- dates: weekdays and relative days -----------------------------------------------
    ("nächsten Freitag", "de", SUNDAY, {(D, "2026-11-27")}),
    ("naechsten freitag", "de", SUNDAY, {(D, "2026-11-27")}),
    ("Freitag", "de", SUNDAY, {(D, "2026-11-27")}),
    ("am Donnerstag", "de", THU, {(D, "2026-12-03")}),
    ("Freitag nächste Woche", "de", THU, {(D, "2026-12-04")}),
    ("next Friday", "en", SUNDAY, {(D, "2026-11-27")}),
    ("on Friday", "en", SUNDAY, {(D, "2026-11-27")}),
    ("Monday", "en", DEC_31, {(D, "2027-01-04")}),
    ("nächste Woche", "de", SUNDAY, {(D, "2026-11-23")}),
    ("next week", "en", THU, {(D, "2026-11-30")}),
    ("morgen", "de", SUNDAY, {(D, "2026-11-23")}),
    ("morgen", "de", DEC_31, {(D, "2027-01-01")}),
    ("übermorgen", "de", SUNDAY, {(D, "2026-11-24")}),
    ("heute noch", "de", SUNDAY, {(D, "2026-11-22")}),
    ("tomorrow", "en", SUNDAY, {(D, "2026-11-23")}),
    ("the day after tomorrow", "en", SUNDAY, {(D, "2026-11-24")}),
    ("Guten Morgen", "de", SUNDAY, set()),
    ("in zwei Wochen", "de", SUNDAY, {(D, "2026-12-06")}),
    ("in 10 Tagen", "de", SUNDAY, {(D, "2026-12-02")}),
    ("in einer Woche", "de", SUNDAY, {(D, "2026-11-29")}),
    ("in einem Monat", "de", JAN_31, {(D, "2026-02-28")}),
    ("in two weeks", "en", SUNDAY, {(D, "2026-12-06")}),
    ("in a fortnight, when my wages come in", "en", SUNDAY, {(D, "2026-12-06")}),
    ("in 10 days", "en", DEC_31, {(D, "2027-01-10")}),
    # --- both ----------------------------------------------------------------------------
    (
        "Ich kann höchstens 50 € im Monat, ab nächsten Freitag",
        "de",
        SUNDAY,
        {(A, "50.00"), (D, "2026-11-27")},
    ),
    ("Ich zahle am 15.12. 50€!", "de", SUNDAY, {(A, "50.00"), (D, "2026-12-15")}),
    ("I can pay 40 euros on the 1st", "en", SUNDAY, {(A, "40.00"), (D, "2026-12-01")}),
    ("100 Euro in 10 Tagen", "de", SUNDAY, {(A, "100.00"), (D, "2026-12-02")}),
    ("can I pay 30 a month starting next Friday?", "en", SUNDAY, {(A, "30.00"), (D, "2026-11-27")}),
    ("Ich zahle 15,50 € am 1.12", "de", SUNDAY, {(A, "15.50"), (D, "2026-12-01")}),
    ("fünfzig Euro Ende des Monats", None, SUNDAY, {(A, "50.00"), (D, "2026-11-30")}),
    ("fifty euros tomorrow", None, SUNDAY, {(A, "50.00"), (D, "2026-11-23")}),
]


def _pairs(entities: list[ExtractedEntity]) -> set[tuple[str, str]]:
    """Reduce entities to their (entity, value) pairs."""
    return {(e.entity, e.value) for e in entities}


@pytest.mark.parametrize(
    ("text", "language", "today", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_extract_entities(
    text: str, language: str | None, today: date, expected: set[tuple[str, str]]
) -> None:
    """Each phrase yields exactly the expected normalised entities."""
    assert _pairs(extract_entities(text, today=today, language=language)) == expected


def test_case_table_is_large_enough() -> None:
    """The table covers at least 80 phrases."""
    assert len(CASES) >= 80


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Ich kann höchstens 50 € im Monat", [("50 €", 19, 23)]),
        ("am 15. zahle ich", [("am 15.", 0, 6)]),
        ("Ich zahle bis zum 30.11.2026.", [("30.11.2026", 18, 28)]),
        ("can I pay 30 a month?", [("30", 10, 12)]),
        ("Ich zahle 50.", [("50", 10, 12)]),
    ],
)
def test_offsets_point_into_the_text(text: str, spans: list[tuple[str, int, int]]) -> None:
    """Start and end are char offsets and `text` is the slice they cut."""
    found = extract_entities(text, today=SUNDAY, language="de")
    assert [(e.text, e.start, e.end) for e in found] == spans
    assert all(text[e.start : e.end] == e.text for e in found)


def test_language_does_not_change_unambiguous_results() -> None:
    """German and English tokenisers agree on a mixed sentence."""
    text = "Ich zahle 50 € am 15.12."
    assert _pairs(extract_entities(text, today=SUNDAY, language="de")) == _pairs(
        extract_entities(text, today=SUNDAY, language="en")
    )


def test_empty_text() -> None:
    """Empty or blank text has no entities."""
    assert extract_entities("  ", today=SUNDAY) == []
