"""Tests for instalment plans (CONTRACT §4)."""

import math
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.config import DEFAULT_POLICY as P
from policy.dates import add_months
from policy.decisions import Offer
from policy.errors import InvalidAmount, InvalidRequest
from policy.plans import (
    build_plan,
    longest_plan_months,
    minimum_instalment,
    monthly_plan_amounts,
    propose_plan,
)

TODAY = date(2026, 3, 10)
D = Decimal


def amounts(offer: Offer | None) -> list[str]:
    assert offer is not None
    return [str(i.amount) for i in offer.instalments]


@pytest.mark.parametrize(
    ("total", "floor", "longest"),
    [
        ("50.00", "25.00", 2),
        ("54.92", "25.00", 2),
        ("476.68", "25.00", 19),
        ("600.00", "25.00", 24),  # total / 24 == 25 exactly
        ("600.01", "25.01", 23),  # total / 24 > 25: the floor rises, rounded up
        ("601.00", "25.05", 23),
        ("4800.00", "200.00", 24),
        ("4800.01", "200.01", 23),
        ("10000.00", "416.67", 23),
    ],
)
def test_minimum_instalment_and_longest_plan(total: str, floor: str, longest: int) -> None:
    assert minimum_instalment(total=D(total), policy=P) == D(floor)
    assert longest_plan_months(total=D(total), policy=P) == longest


def test_54_92_claim_has_only_a_two_month_plan_of_equal_instalments() -> None:
    decision = propose_plan(total=D("54.92"), today=TODAY, policy=P)
    assert decision.allowed and decision.reasons == ("plan_allowed",)
    assert amounts(decision.offer) == ["27.46", "27.46"]
    # The floor named as the monthly amount: two of 25.00 and a Schlussrate.
    at_floor = propose_plan(total=D("54.92"), today=TODAY, policy=P, monthly=D("25.00"))
    assert at_floor.allowed and amounts(at_floor.offer) == ["25.00", "25.00", "4.92"]
    # Below the floor: the counter offer is the floor itself, with its Schlussrate.
    below = propose_plan(total=D("54.92"), today=TODAY, policy=P, monthly=D("20.00"))
    assert below.reasons == ("instalment_below_minimum",)
    assert amounts(below.offer) == ["25.00", "25.00", "4.92"]
    asked_three = propose_plan(total=D("54.92"), today=TODAY, policy=P, months=3)
    assert asked_three.reasons == ("instalment_below_minimum",)
    assert amounts(asked_three.offer) == ["27.46", "27.46"]


@pytest.mark.parametrize(
    ("monthly", "allowed", "reasons", "plan"),
    [
        ("150.00", False, ("instalment_below_minimum",), ["200.00"] * 24),
        ("199.99", False, ("instalment_below_minimum",), ["200.00"] * 24),
        ("200.00", True, ("plan_allowed",), ["200.00"] * 24),
        ("400.00", True, ("plan_allowed",), ["400.00"] * 12),
        ("1000.00", True, ("plan_allowed",), ["1000.00"] * 4 + ["800.00"]),
        ("1500.00", True, ("plan_allowed",), ["1500.00"] * 3 + ["300.00"]),
        ("2400.00", True, ("plan_allowed",), ["2400.00"] * 2),
    ],
)
def test_4800_claim(monthly: str, allowed: bool, reasons: tuple[str, ...], plan: list[str]) -> None:
    decision = propose_plan(total=D("4800.00"), today=TODAY, policy=P, monthly=D(monthly))
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert amounts(decision.offer) == plan


@pytest.mark.parametrize(
    ("total", "monthly", "count", "last"),
    [
        # CONTRACT §4 as amended (issue 10): "50 Euro im Monat" on 477.20 is 9 x 50 + 27.20.
        ("477.20", "50.00", 10, "27.20"),
        ("476.68", "50.00", 10, "26.68"),
        ("476.68", "30.00", 16, "26.68"),
        ("476.68", "26.00", 19, "8.68"),
        ("476.68", "25.00", 20, "1.68"),  # at the floor: one month more than n_max
        ("475.68", "47.57", 10, "47.55"),
        ("500.00", "50.00", 10, "50.00"),  # M divides the total: no smaller Schlussrate
        ("500.00", "499.99", 2, "0.01"),
        ("600.00", "25.00", 24, "25.00"),
        ("600.01", "25.01", 24, "24.78"),  # never more than max_months
    ],
)
def test_a_named_monthly_amount_is_every_instalment_but_the_schlussrate(
    total: str, monthly: str, count: int, last: str
) -> None:
    decision = propose_plan(total=D(total), today=TODAY, policy=P, monthly=D(monthly))
    assert decision.allowed and decision.reasons == ("plan_allowed",)
    assert amounts(decision.offer) == [monthly] * (count - 1) + [last]
    assert decision.offer is not None and decision.offer.amount == D(total)
    assert decision.offer.monthly == D(monthly)


def test_monthly_plan_amounts() -> None:
    assert monthly_plan_amounts(total=D("477.20"), monthly=D("50")) == (D("50.00"),) * 9 + (
        D("27.20"),
    )
    assert monthly_plan_amounts(total=D("100"), monthly=D("100")) == (D("100.00"),)


def test_476_68_claim_below_the_lowest_plan() -> None:
    decision = propose_plan(total=D("476.68"), today=TODAY, policy=P, monthly=D("20.00"))
    assert not decision.allowed and decision.reasons == ("instalment_below_minimum",)
    # The nearest compliant plan: the floor each month and a Schlussrate, 20 months.
    assert amounts(decision.offer) == ["25.00"] * 19 + ["1.68"]


@pytest.mark.parametrize(
    ("total", "monthly", "reasons"),
    [
        ("49.99", None, ("plan_total_too_small",)),  # below 2 x 25.00
        ("30.00", "25.00", ("plan_total_too_small",)),
        ("476.68", "476.68", ("monthly_covers_total",)),
        ("476.68", "500.00", ("monthly_covers_total",)),
    ],
)
def test_one_payment_is_a_full_payment(
    total: str, monthly: str | None, reasons: tuple[str, ...]
) -> None:
    decision = propose_plan(
        total=D(total), today=TODAY, policy=P, monthly=None if monthly is None else D(monthly)
    )
    assert not decision.allowed and decision.reasons == reasons
    assert decision.offer is not None and decision.offer.kind == "full"
    assert decision.offer.amount == D(total)
    assert decision.offer.due_date == TODAY + timedelta(days=14)


def test_smallest_plan_total() -> None:
    decision = propose_plan(total=D("50.00"), today=TODAY, policy=P)
    assert decision.allowed and amounts(decision.offer) == ["25.00", "25.00"]


def test_the_schlussrate_may_be_below_the_floor() -> None:
    # 25.00 a month on 75.01 leaves 0.01 for a fourth month: the Schlussrate carries it.
    decision = propose_plan(total=D("75.01"), today=TODAY, policy=P, monthly=D("25.00"))
    assert decision.allowed and decision.reasons == ("plan_allowed",)
    assert amounts(decision.offer) == ["25.00", "25.00", "25.00", "0.01"]


def test_a_plan_by_term_keeps_equal_instalments() -> None:
    decision = propose_plan(total=D("477.20"), today=TODAY, policy=P, months=10)
    assert decision.allowed and amounts(decision.offer) == ["47.72"] * 10
    decision = propose_plan(total=D("476.68"), today=TODAY, policy=P, months=10)
    assert decision.allowed and amounts(decision.offer) == ["47.66"] * 9 + ["47.74"]


def test_a_plan_without_an_amount_keeps_equal_instalments() -> None:
    decision = propose_plan(total=D("477.20"), today=TODAY, policy=P)
    assert decision.allowed and amounts(decision.offer) == ["79.53"] * 5 + ["79.55"]


def test_monthly_plan_due_dates_and_numbers() -> None:
    offer = build_plan(total=D("120.00"), monthly=D("50"), first_due=date(2027, 1, 31))
    assert [(i.number, str(i.amount), i.due_date) for i in offer.instalments] == [
        (1, "50.00", date(2027, 1, 31)),
        (2, "50.00", date(2027, 2, 28)),
        (3, "20.00", date(2027, 3, 31)),
    ]


@pytest.mark.parametrize(
    ("months", "allowed", "count", "reasons"),
    [
        (2, True, 2, ("plan_allowed",)),
        (12, True, 12, ("plan_allowed",)),
        (23, True, 23, ("plan_allowed",)),
        (24, True, 24, ("plan_allowed",)),
        (25, False, 24, ("plan_exceeds_max_months",)),
        (36, False, 24, ("plan_exceeds_max_months",)),
        (1, False, 2, ("plan_too_few_months",)),
        (0, False, 2, ("plan_too_few_months",)),
    ],
)
def test_plan_by_term(months: int, allowed: bool, count: int, reasons: tuple[str, ...]) -> None:
    decision = propose_plan(total=D("4800.00"), today=TODAY, policy=P, months=months)
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert decision.offer is not None and decision.offer.months == count


@pytest.mark.parametrize(
    ("total", "count"),
    [("4800.00", 6), ("476.68", 6), ("120.00", 4), ("54.92", 2)],
)
def test_default_plan_is_six_months_or_the_longest_possible(total: str, count: int) -> None:
    decision = propose_plan(total=D(total), today=TODAY, policy=P)
    assert decision.allowed and decision.offer is not None
    assert decision.offer.months == count


@pytest.mark.parametrize(
    ("first_due", "allowed", "start", "reasons"),
    [
        (None, True, TODAY + timedelta(days=14), ("plan_allowed",)),
        (TODAY, True, TODAY, ("plan_allowed",)),
        (TODAY + timedelta(days=13), True, TODAY + timedelta(days=13), ("plan_allowed",)),
        (TODAY + timedelta(days=14), True, TODAY + timedelta(days=14), ("plan_allowed",)),
        (
            TODAY + timedelta(days=15),
            False,
            TODAY + timedelta(days=14),
            ("first_instalment_beyond_window",),
        ),
        (TODAY - timedelta(days=1), False, TODAY, ("payment_date_in_past",)),
    ],
)
def test_first_instalment_window(
    first_due: date | None, allowed: bool, start: date, reasons: tuple[str, ...]
) -> None:
    decision = propose_plan(
        total=D("476.68"), today=TODAY, policy=P, monthly=D("50"), first_due=first_due
    )
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert decision.offer is not None
    assert decision.offer.due_date == start == decision.offer.instalments[0].due_date


def test_two_plan_problems_are_both_reported_and_fixed() -> None:
    decision = propose_plan(
        total=D("4800.00"),
        today=TODAY,
        policy=P,
        monthly=D("150"),
        first_due=TODAY + timedelta(days=40),
    )
    assert decision.reasons == ("instalment_below_minimum", "first_instalment_beyond_window")
    assert decision.offer is not None
    assert decision.offer.due_date == TODAY + timedelta(days=14)
    assert decision.offer.months == 24


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 1, 29), 1, date(2026, 2, 28)),
        (date(2026, 5, 14), 23, date(2028, 4, 14)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_plan_due_dates_from_month_end_do_not_drift() -> None:
    offer = build_plan(total=D("300.00"), months=4, first_due=date(2027, 1, 31))
    assert [i.due_date for i in offer.instalments] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert [i.number for i in offer.instalments] == [1, 2, 3, 4]


def test_plan_requests_are_checked() -> None:
    with pytest.raises(InvalidRequest):
        propose_plan(total=D("100"), today=TODAY, policy=P, monthly=D("50"), months=2)
    with pytest.raises(InvalidRequest):
        build_plan(total=D("100"), first_due=TODAY, monthly=D("50"), months=2)
    with pytest.raises(InvalidRequest):
        build_plan(total=D("100"), first_due=TODAY)
    with pytest.raises(InvalidAmount):
        propose_plan(total=D("100"), today=TODAY, policy=P, monthly=D("0"))
    with pytest.raises(InvalidAmount):
        propose_plan(total=D("-100"), today=TODAY, policy=P)


def check_plan(offer: Offer | None, total: Decimal) -> None:
    """Assert the invariants of a plan of equal instalments (CONTRACT §4)."""
    assert offer is not None and offer.kind == "instalment_plan"
    parts = [i.amount for i in offer.instalments]
    floor = minimum_instalment(total=total, policy=P)
    assert sum(parts) == total == offer.amount
    assert 2 <= len(parts) <= P.max_months
    assert all(part >= floor for part in parts)
    assert all(part.as_tuple().exponent == -2 for part in parts)
    assert all(part == parts[0] for part in parts[:-1])
    assert D(0) <= parts[-1] - parts[0] < D(len(parts)) / 100


def check_monthly_plan(offer: Offer | None, total: Decimal, monthly: Decimal) -> None:
    """Assert the invariants of a plan of M a month and a Schlussrate (CONTRACT §4)."""
    assert offer is not None and offer.kind == "instalment_plan"
    parts = [i.amount for i in offer.instalments]
    floor = minimum_instalment(total=total, policy=P)
    assert sum(parts) == total == offer.amount  # to the cent
    assert 2 <= len(parts) <= P.max_months
    assert all(part.as_tuple().exponent == -2 for part in parts)
    assert all(part == monthly for part in parts[:-1])  # every instalment but the last is M
    assert D(0) < parts[-1] <= monthly  # the Schlussrate
    assert all(part >= floor for part in parts[:-1])  # only the Schlussrate may be smaller
    assert len(parts) == math.ceil(total / monthly)  # the shortest plan at M a month
    assert [i.number for i in offer.instalments] == list(range(1, len(parts) + 1))


totals = st.integers(min_value=5000, max_value=5_000_000).map(lambda c: Decimal(c) / 100)


# No deadline: a slow CI machine must not turn a correct plan into a failure.
@settings(deadline=None)
@given(total=totals, monthly=st.integers(min_value=1, max_value=1_000_000))
def test_plans_by_monthly_sum_to_the_cent(total: Decimal, monthly: int) -> None:
    offer_m = Decimal(monthly) / 100
    decision = propose_plan(total=total, today=TODAY, policy=P, monthly=offer_m)
    if offer_m >= total:
        assert decision.reasons == ("monthly_covers_total",)
        return
    floor = minimum_instalment(total=total, policy=P)
    assert decision.allowed == (offer_m >= floor)
    if decision.allowed:
        check_monthly_plan(decision.offer, total, offer_m)
    else:
        # Below the floor: the nearest compliant plan, the floor each month and a Schlussrate.
        assert decision.reasons == ("instalment_below_minimum",)
        check_monthly_plan(decision.offer, total, floor)


@settings(deadline=None)
@given(total=totals, months=st.integers(min_value=2, max_value=24))
def test_plans_by_term_sum_to_the_cent(total: Decimal, months: int) -> None:
    decision = propose_plan(total=total, today=TODAY, policy=P, months=months)
    check_plan(decision.offer, total)
    assert decision.offer is not None
    assert decision.allowed == (decision.offer.months == months)


def test_sum_to_the_cent_over_a_grid() -> None:
    for total_minor in range(5000, 60000, 37):
        total = Decimal(total_minor) / 100
        for months in range(2, longest_plan_months(total=total, policy=P) + 1):
            check_plan(build_plan(total=total, months=months, first_due=TODAY), total)
        floor_minor = int(minimum_instalment(total=total, policy=P) * 100)
        for monthly_minor in range(floor_minor, total_minor, 997):
            monthly = Decimal(monthly_minor) / 100
            offer = build_plan(total=total, monthly=monthly, first_due=TODAY)
            check_monthly_plan(offer, total, monthly)
