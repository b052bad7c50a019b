"""Tests for splitting one promise over several claims (CONTRACT §3)."""

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.allocation import allocate_promise, largest_remainder
from policy.config import DEFAULT_POLICY as P
from policy.errors import InvalidRequest
from policy.payments import propose_settlement
from policy.plans import propose_plan

D = Decimal
TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),  # a tie: the earlier weight gets the cent
        (100, [1, 1, 2], [25, 25, 50]),
        (5, [0, 3, 0], [0, 5, 0]),
        (7, [0, 0], [4, 3]),  # no weight at all: equal parts
        (0, [3, 4], [0, 0]),
        (10, [1, 2, 3], [2, 3, 5]),  # quotas 1.67, 3.33, 5.00: the largest remainder wins
    ],
)
def test_largest_remainder(total: int, weights: list[int], parts: list[int]) -> None:
    assert largest_remainder(total, weights) == parts


def test_largest_remainder_refuses_nonsense() -> None:
    with pytest.raises(InvalidRequest):
        largest_remainder(-1, [1])
    with pytest.raises(InvalidRequest):
        largest_remainder(1, [1, -1])
    with pytest.raises(InvalidRequest):
        largest_remainder(1, [])


def test_a_full_payment_gives_each_claim_its_balance() -> None:
    parts = allocate_promise(
        amount=D("1647.52"), discount=D("0"), balances=[D("1304.27"), D("343.25")]
    )
    assert [(p.amount, p.discount, p.instalments) for p in parts] == [
        (D("1304.27"), D("0.00"), ()),
        (D("343.25"), D("0.00"), ()),
    ]


def test_a_settlement_splits_amount_and_discount_by_balance() -> None:
    decision = propose_settlement(total=D("1647.52"), today=TODAY, policy=P)
    assert decision.offer is not None
    offer = decision.offer
    parts = allocate_promise(
        amount=offer.amount, discount=offer.discount, balances=[D("1304.27"), D("343.25")]
    )
    assert sum(p.amount for p in parts) == offer.amount
    assert sum(p.discount for p in parts) == offer.discount
    # Each claim's amount and discount make up its balance: its own books add up.
    assert [p.amount + p.discount for p in parts] == [D("1304.27"), D("343.25")]
    # 164.75 off 1,647.52 is 10 % (rounded down) of each claim, to the nearest cent:
    # 130.4256... and 34.3243...
    assert offer.discount == D("164.75")
    assert [p.discount for p in parts] == [D("130.43"), D("34.32")]
    assert [p.amount for p in parts] == [D("1173.84"), D("308.93")]


def test_a_plan_over_two_claims_is_split_per_instalment() -> None:
    decision = propose_plan(total=D("477.20"), today=TODAY, policy=P, monthly=D("50"))
    assert decision.offer is not None
    instalments = [i.amount for i in decision.offer.instalments]
    assert instalments == [D("50.00")] * 9 + [D("27.20")]
    parts = allocate_promise(
        amount=D("477.20"),
        discount=D("0"),
        balances=[D("300.00"), D("177.20")],
        instalments=instalments,
    )
    first, second = parts
    assert (first.amount, second.amount) == (D("300.00"), D("177.20"))
    assert sum(first.instalments) == D("300.00") and sum(second.instalments) == D("177.20")
    assert [
        a + b for a, b in zip(first.instalments, second.instalments, strict=True)
    ] == instalments
    # 300 / 477.20 of 50.00 is 31.43 (31.433...), the rest goes to the second claim.
    assert first.instalments[0] == D("31.43") and second.instalments[0] == D("18.57")


def test_instalments_must_sum_to_the_amount() -> None:
    with pytest.raises(InvalidRequest):
        allocate_promise(
            amount=D("100"), discount=D("0"), balances=[D("100")], instalments=[D("50"), D("49")]
        )


money = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def promises(draw: st.DrawFn) -> tuple[int, int, list[int], list[int]]:
    """Draw balances, a promise over them (maybe discounted) and its instalments, in cents."""
    balances = draw(st.lists(money, min_size=1, max_size=5))
    covered = sum(balances)
    discount = draw(st.integers(min_value=0, max_value=covered // 2))
    amount = covered - discount
    count = draw(st.integers(min_value=0, max_value=24))
    if count == 0 or amount == 0:
        return amount, discount, balances, []
    cuts = sorted(draw(st.lists(st.integers(0, amount), min_size=count - 1, max_size=count - 1)))
    edges = [0, *cuts, amount]
    return amount, discount, balances, [b - a for a, b in pairwise(edges)]


@settings(deadline=None)
@given(promise=promises())
def test_parts_add_up_per_claim_and_per_instalment(
    promise: tuple[int, int, list[int], list[int]],
) -> None:
    amount, discount, balances, instalments = promise
    cent = D("0.01")
    parts = allocate_promise(
        amount=amount * cent,
        discount=discount * cent,
        balances=[b * cent for b in balances],
        instalments=[i * cent for i in instalments],
    )
    assert len(parts) == len(balances)
    assert sum(p.amount for p in parts) == amount * cent
    assert sum(p.discount for p in parts) == discount * cent
    if sum(balances):
        # A promise over whole claims leaves each claim's own books whole.
        assert [p.amount + p.discount for p in parts] == [b * cent for b in balances]
    for part in parts:
        assert part.amount >= 0 and part.discount >= 0
        assert len(part.instalments) == len(instalments)
        assert all(value >= 0 for value in part.instalments)
        assert sum(part.instalments, D("0.00")) == (part.amount if instalments else 0)
    remaining = [p.amount for p in parts]
    for k, instalment in enumerate(instalments):
        assert sum(p.instalments[k] for p in parts) == instalment * cent
        # Pro rata by what each claim still has to receive: within a cent of that quota.
        still = sum(remaining)
        for i, part in enumerate(parts):
            quota = instalment * cent * remaining[i] / still if still else D(0)
            assert abs(part.instalments[k] - quota) < cent
            assert part.instalments[k] <= remaining[i]
        remaining = [left - p.instalments[k] for left, p in zip(remaining, parts, strict=True)]
    assert not instalments or all(left == 0 for left in remaining)
