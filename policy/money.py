"""Money as Decimal cents: parsing, quantising and whole-cent arithmetic."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from policy.errors import InvalidAmount

CENT = Decimal("0.01")


def cents(value: Decimal | str | int) -> Decimal:
    """Quantise an amount to the cent (ROUND_HALF_UP); raise InvalidAmount for non-numbers."""
    # Floats are refused on purpose: 0.1 + 0.2 is not money. bool is an int subclass.
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise InvalidAmount(value, "must be a Decimal, str or int")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
        if not number.is_finite():
            raise InvalidAmount(value)
        return number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise InvalidAmount(value) from error


def positive_cents(value: Decimal | str | int) -> Decimal:
    """Quantise an amount that must be greater than zero."""
    amount = cents(value)
    if amount <= 0:
        raise InvalidAmount(value, "must be greater than zero")
    return amount


def to_minor(amount: Decimal) -> int:
    """Return a cent-quantised amount as a whole number of cents."""
    return int(cents(amount) * 100)


def from_minor(minor: int) -> Decimal:
    """Return a whole number of cents as a Decimal amount."""
    return (Decimal(minor) / 100).quantize(CENT)


def ceil_div(numerator: int, denominator: int) -> int:
    """Divide two positive integers, rounding up."""
    return -(-numerator // denominator)
