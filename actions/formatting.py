"""Money and dates as the debtor reads them (German: 1.234,56 €, 06.12.2026)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency

_LOCALES = {"de": "de_DE", "en": "en_GB"}


def locale_for(language: str) -> str:
    """Return the Babel locale for a conversation language."""
    return _LOCALES.get(language, "de_DE")


def money(amount: Decimal, language: str, currency: str = "EUR") -> str:
    """Format an amount in the debtor's locale."""
    return format_currency(amount, currency, locale=locale_for(language))


def day(value: date, language: str) -> str:
    """Format a date in the debtor's locale."""
    if language == "en":
        return format_date(value, "d MMMM y", locale="en_GB")
    return value.strftime("%d.%m.%Y")


def percent(fraction: Decimal, language: str) -> str:
    """Format a fraction such as 0.10 as a percentage."""
    number = f"{(fraction * 100).normalize():f}"
    if language == "de":
        return f"{number.replace('.', ',')} %"
    return f"{number}%"
