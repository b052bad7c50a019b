"""One promise over several claims, split into each claim's part (CONTRACT §3), in cents.

A debtor may settle several claims at once, often of different creditors. Every claim
then shows its own part of the promise, and the parts must add up exactly: per claim to
that claim's share, per instalment to the instalment the debtor pays. The rule:

* The promise covers amount + discount (for a full payment, a plan or a deferral the
  claims' balances, for a settlement the balances before the discount). That covered
  total is split pro rata by the claims' balances, so a promise over whole claims gives
  each claim exactly its balance. The promised amount is split pro rata by those
  covered parts; each claim's discount is its covered part minus its amount.
* Each instalment is split pro rata by what each claim still has to receive from the
  promise (its share minus its parts of the earlier instalments). The last instalment
  therefore takes exactly what remains, so the parts of every claim add up to its
  share and no rounding drifts from one instalment to the next.
* Every split is the largest-remainder method in whole cents: each part is its exact
  pro rata quota rounded down, and the cents left over go one each to the largest
  fractional remainders, ties to the claim listed first. Callers list the claims oldest
  first (due date, then reference), so a tie always favours the oldest claim.

Why pro rata, not oldest claim first: the debtor's every payment then reaches every
creditor in proportion to what they are owed, month by month, so no creditor waits
until another one has been paid in full, and a plan that breaks halfway has paid each
creditor the same share. Each part is within a cent of its exact quota, never negative,
and never more than the claim still has to receive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from policy.errors import InvalidRequest
from policy.money import cents, from_minor, to_minor


@dataclass(frozen=True)
class ClaimPart:
    """One claim's part of a promise: amount, discount and its part of each instalment."""

    amount: Decimal
    discount: Decimal
    instalments: tuple[Decimal, ...] = ()  # one per instalment of the promise, in order


def largest_remainder(total_minor: int, weights: Sequence[int]) -> list[int]:
    """Split whole cents pro rata by non-negative weights; the parts sum to the total.

    Each part is floor(total x weight / sum of weights), and the cents still missing go
    one each to the parts with the largest remainders (ties: the earlier weight). With
    no weight at all, the split is equal.
    """
    if total_minor < 0 or any(weight < 0 for weight in weights):
        raise InvalidRequest("only non-negative amounts can be split")
    if not weights:
        raise InvalidRequest("a split needs at least one part")
    if sum(weights) == 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    parts = [total_minor * weight // whole for weight in weights]
    remainders = [total_minor * weight % whole for weight in weights]
    missing = total_minor - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:missing]:
        parts[i] += 1
    return parts


def allocate_promise(
    *,
    amount: Decimal,
    discount: Decimal,
    balances: Sequence[Decimal],
    instalments: Sequence[Decimal] = (),
) -> tuple[ClaimPart, ...]:
    """Split a promise over claims with these balances (oldest claim first) into parts.

    The parts add up exactly: amounts to `amount`, discounts to `discount`, and, for
    every instalment, the claims' parts of it to that instalment.
    """
    amount_minor, discount_minor = to_minor(cents(amount)), to_minor(cents(discount))
    if amount_minor < 0 or discount_minor < 0:
        raise InvalidRequest("a promise's amount and discount must not be negative")
    instalment_minors = [to_minor(cents(value)) for value in instalments]
    if instalment_minors and sum(instalment_minors) != amount_minor:
        raise InvalidRequest("the instalments must sum to the promised amount")

    covered = largest_remainder(
        amount_minor + discount_minor, [to_minor(cents(b)) for b in balances]
    )
    shares = largest_remainder(amount_minor, covered)
    remaining = list(shares)
    per_instalment: list[list[int]] = []
    for instalment_minor in instalment_minors:
        split = largest_remainder(instalment_minor, remaining)
        remaining = [left - part for left, part in zip(remaining, split, strict=True)]
        per_instalment.append(split)
    return tuple(
        ClaimPart(
            amount=from_minor(share),
            discount=from_minor(whole - share),
            instalments=tuple(from_minor(split[i]) for split in per_instalment),
        )
        for i, (whole, share) in enumerate(zip(covered, shares, strict=True))
    )
