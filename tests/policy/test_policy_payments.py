"""Tests for full payment, settlement and deferral (CONTRACT §4)."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from policy.config import DEFAULT_POLICY as P
from policy.errors import InvalidAmount
from policy.payments import propose_deferral, propose_full, propose_settlement, settlement_floor

TODAY = date(2026, 3, 10)
D = Decimal


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.mark.parametrize(
    ("pay_on", "allowed", "due", "reasons"),
    [
        (None, True, days(14), ("full_payment_allowed",)),
        (TODAY, True, TODAY, ("full_payment_allowed",)),
        (days(13), True, days(13), ("full_payment_allowed",)),
        (days(14), True, days(14), ("full_payment_allowed",)),
        (days(15), False, days(14), ("full_payment_date_beyond_window",)),
        (days(-1), False, TODAY, ("payment_date_in_past",)),
    ],
)
def test_full_payment_window(
    pay_on: date | None, allowed: bool, due: date, reasons: tuple[str, ...]
) -> None:
    decision = propose_full(total=D("476.68"), today=TODAY, policy=P, pay_on=pay_on)
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert decision.offer is not None
    assert decision.offer.kind == "full"
    assert (decision.offer.amount, decision.offer.discount) == (D("476.68"), D("0.00"))
    assert decision.offer.due_date == due
    assert decision.policy_version == "default@2026-11-1"
    assert decision.handoff_reason is None


@pytest.mark.parametrize(
    ("total", "allowed", "reasons", "floor"),
    [
        ("99.99", False, ("settlement_total_below_minimum",), None),
        ("100.00", True, ("settlement_allowed",), "90.00"),
        ("100.01", True, ("settlement_allowed",), "90.01"),
    ],
)
def test_settlement_minimum_total(
    total: str, allowed: bool, reasons: tuple[str, ...], floor: str | None
) -> None:
    decision = propose_settlement(total=D(total), today=TODAY, policy=P)
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    if floor is None:
        assert decision.offer is None
    else:
        assert decision.offer is not None
        assert decision.offer.amount == D(floor)
        assert decision.offer.discount == D(total) - D(floor)


@pytest.mark.parametrize(
    ("total", "floor"),
    [
        ("100.00", "90.00"),
        ("100.01", "90.01"),  # 10.001 off -> 10.00 off: never above 10 %
        ("100.09", "90.09"),
        ("476.68", "429.02"),
        ("4800.00", "4320.00"),
        ("123.45", "111.11"),
    ],
)
def test_settlement_floor_never_exceeds_ten_percent(total: str, floor: str) -> None:
    assert settlement_floor(total=D(total), policy=P) == D(floor)
    assert D(total) - D(floor) <= D(total) * D("0.10")


@pytest.mark.parametrize(
    ("amount", "allowed", "offered", "reasons"),
    [
        (None, True, "429.02", ("settlement_allowed",)),
        ("429.02", True, "429.02", ("settlement_allowed",)),
        ("450", True, "450.00", ("settlement_allowed",)),
        ("476.68", True, "476.68", ("settlement_allowed",)),
        ("429.01", False, "429.02", ("settlement_discount_beyond_policy",)),
        ("300", False, "429.02", ("settlement_discount_beyond_policy",)),
        ("500", False, "476.68", ("amount_exceeds_total",)),
    ],
)
def test_settlement_amounts(
    amount: str | None, allowed: bool, offered: str, reasons: tuple[str, ...]
) -> None:
    decision = propose_settlement(
        total=D("476.68"), today=TODAY, policy=P, amount=None if amount is None else D(amount)
    )
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert decision.offer is not None and decision.offer.kind == "settlement"
    assert decision.offer.amount == D(offered)
    assert decision.offer.discount == D("476.68") - D(offered)
    # Deeper discounts go through an agent only if the debtor insists: the dialogue decides.
    assert decision.handoff_reason is None


@pytest.mark.parametrize(
    ("pay_on", "allowed", "due", "reasons"),
    [
        (None, True, days(14), ("settlement_allowed",)),
        (days(13), True, days(13), ("settlement_allowed",)),
        (days(14), True, days(14), ("settlement_allowed",)),
        (days(15), False, days(14), ("settlement_date_beyond_window",)),
        (days(-3), False, TODAY, ("payment_date_in_past",)),
    ],
)
def test_settlement_window(
    pay_on: date | None, allowed: bool, due: date, reasons: tuple[str, ...]
) -> None:
    decision = propose_settlement(total=D("200.00"), today=TODAY, policy=P, pay_on=pay_on)
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert decision.offer is not None and decision.offer.due_date == due


def test_settlement_with_two_problems_fixes_both() -> None:
    decision = propose_settlement(
        total=D("200.00"), today=TODAY, policy=P, amount=D("100"), pay_on=days(40)
    )
    assert decision.reasons == (
        "settlement_discount_beyond_policy",
        "settlement_date_beyond_window",
    )
    assert decision.offer is not None
    assert (decision.offer.amount, decision.offer.due_date) == (D("180.00"), days(14))


@pytest.mark.parametrize(
    ("until", "allowed", "due", "reasons"),
    [
        (None, True, days(30), ("deferral_allowed",)),
        (days(1), True, days(1), ("deferral_allowed",)),
        (days(29), True, days(29), ("deferral_allowed",)),
        (days(30), True, days(30), ("deferral_allowed",)),
        (days(31), False, days(30), ("deferral_beyond_window",)),
        (TODAY, False, days(30), ("deferral_date_not_in_future",)),
        (days(-5), False, days(30), ("deferral_date_not_in_future",)),
    ],
)
def test_deferral_window(
    until: date | None, allowed: bool, due: date, reasons: tuple[str, ...]
) -> None:
    decision = propose_deferral(total=D("54.92"), today=TODAY, policy=P, until=until)
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert decision.offer is not None
    assert decision.offer.kind == "deferral"
    # Free of charge: the promised amount is the total.
    assert (decision.offer.amount, decision.offer.discount) == (D("54.92"), D("0.00"))
    assert decision.offer.due_date == due


@pytest.mark.parametrize(("used", "allowed"), [(0, True), (1, False), (2, False)])
def test_only_one_deferral(used: int, allowed: bool) -> None:
    decision = propose_deferral(total=D("54.92"), today=TODAY, policy=P, deferrals_used=used)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reasons == ("deferral_already_used",)
        assert decision.offer is None


@pytest.mark.parametrize("total", ["0", "-10", "NaN"])
@pytest.mark.parametrize("propose", [propose_full, propose_settlement, propose_deferral])
def test_totals_must_be_positive(total: str, propose: object) -> None:
    with pytest.raises(InvalidAmount):
        propose(total=D(total), today=TODAY, policy=P)  # type: ignore[operator]


def test_audit_record_is_json_safe() -> None:
    decision = propose_settlement(total=D("476.68"), today=TODAY, policy=P, amount=D("300"))
    record = decision.to_audit()
    assert json.loads(json.dumps(record)) == {
        "allowed": False,
        "offer": {
            "kind": "settlement",
            "total": "476.68",
            "amount": "429.02",
            "discount": "47.66",
            "due_date": "2026-03-24",
            "instalments": [],
        },
        "reasons": ["settlement_discount_beyond_policy"],
        "policy_version": "default@2026-11-1",
        "handoff_reason": None,
    }
