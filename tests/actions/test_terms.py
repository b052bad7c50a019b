"""A plan asked for by its length (actions.terms)."""

from __future__ import annotations

import pytest

from actions.terms import plan_months


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("kann ich das über 6 Monate abzahlen", 6),
        ("in 10 Raten bitte", 10),
        ("zehn raten", 10),
        ("über zwölf monate verteilt", 12),
        ("24 Monate", 24),
        ("ein halbes jahr", 6),
        ("auf ein Jahr verteilt", 12),
        ("spread over a year", 12),
        ("in 12 monthly payments", 12),
        ("can I pay in six instalments", 6),
        ("over 3 months please", 3),
        ("pay 100 a month for 5 months", 5),
        # Amounts, deferrals and single months are no term.
        ("50 im Monat", None),
        ("ich zahle in einem Monat", None),
        ("zahle 30 euro monatlich", None),
        ("1 Monat später", None),
        ("I can pay next month", None),
        ("", None),
    ],
)
def test_plan_months(text: str, months: int | None) -> None:
    assert plan_months(text) == months


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("cn i pay it in 2 instalmnts", 2),
        ("in sechs ratn bitte", 6),
        ("über 12 monatn", 12),
        ("3 installmants pls", 3),
        ("in zwei Monaten", 2),
        # Near words that are no unit stay none.
        ("2 minutes", None),
        ("zahle 2 rechnungen", None),
    ],
)
def test_misspelt_units_are_read(text: str, months: int | None) -> None:
    assert plan_months(text) == months
