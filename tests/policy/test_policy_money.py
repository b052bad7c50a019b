"""Tests for policy.money."""

from decimal import Decimal

import pytest

from policy.errors import InvalidAmount
from policy.money import cents, positive_cents


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("54.92"), Decimal("54.92")),
        ("54.925", Decimal("54.93")),
        ("54.924", Decimal("54.92")),
        ("-0.005", Decimal("-0.01")),
        (" 100 ", Decimal("100.00")),
        (100, Decimal("100.00")),
        (Decimal("0.005"), Decimal("0.01")),
        ("1e2", Decimal("100.00")),
    ],
)
def test_cents_quantises_half_up(value: Decimal | str | int, expected: Decimal) -> None:
    assert cents(value) == expected
    assert cents(value).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value", ["NaN", "inf", "-Infinity", "abc", "", "54,92", Decimal("NaN"), 1.5, True, None]
)
def test_cents_refuses_non_numbers(value: object) -> None:
    with pytest.raises(InvalidAmount) as raised:
        cents(value)  # type: ignore[arg-type]
    assert raised.value.value is value or raised.value.value == value


def test_cents_refuses_numbers_too_large_to_quantise() -> None:
    with pytest.raises(InvalidAmount):
        cents("1e40")


@pytest.mark.parametrize("value", ["0", "-1", "0.004"])
def test_positive_cents_refuses_zero_and_negative(value: str) -> None:
    with pytest.raises(InvalidAmount, match="greater than zero"):
        positive_cents(value)
