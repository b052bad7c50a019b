"""One-off arrangements: full payment, settlement and deferral (CONTRACT §4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from policy import reasons as r
from policy.config import CreditorPolicy
from policy.decisions import Decision, Offer
from policy.money import cents, from_minor, positive_cents, to_minor

ZERO = Decimal("0.00")


def due_within(
    requested: date | None, *, today: date, days: int, beyond_reason: str
) -> tuple[date, tuple[str, ...]]:
    """Return the compliant due date nearest the requested one, and why it moved."""
    deadline = today + timedelta(days=days)
    if requested is None:
        return deadline, ()
    if requested < today:
        return today, (r.PAYMENT_DATE_IN_PAST,)
    if requested > deadline:
        return deadline, (beyond_reason,)
    return requested, ()


def full_offer(*, total: Decimal, due_date: date) -> Offer:
    """Build a full-payment offer."""
    return Offer(kind="full", total=total, amount=total, discount=ZERO, due_date=due_date)


def propose_full(
    *, total: Decimal, today: date, policy: CreditorPolicy, pay_on: date | None = None
) -> Decision:
    """Check a full payment: due within full_payment_days (default: the last allowed day)."""
    total = positive_cents(total)
    due, moved = due_within(
        pay_on,
        today=today,
        days=policy.full_payment_days,
        beyond_reason=r.FULL_PAYMENT_DATE_BEYOND_WINDOW,
    )
    offer = full_offer(total=total, due_date=due)
    reasons = moved or (r.FULL_PAYMENT_ALLOWED,)
    return Decision(not moved, offer, reasons, policy.version)


def settlement_floor(*, total: Decimal, policy: CreditorPolicy) -> Decimal:
    """Return the lowest settlement amount allowed (discount rounded down to the cent)."""
    total = positive_cents(total)
    # Rounding the discount down means it never exceeds the policy's share of the total.
    max_discount = from_minor(int(to_minor(total) * policy.settlement_max_discount))
    return total - max_discount


def propose_settlement(
    *,
    total: Decimal,
    today: date,
    policy: CreditorPolicy,
    amount: Decimal | None = None,
    pay_on: date | None = None,
) -> Decision:
    """Check a one-off settlement; amount None asks for the best settlement allowed."""
    total = positive_cents(total)
    if total < policy.settlement_min_total:
        return Decision(False, None, (r.SETTLEMENT_TOTAL_BELOW_MINIMUM,), policy.version)
    floor = settlement_floor(total=total, policy=policy)
    due, moved = due_within(
        pay_on,
        today=today,
        days=policy.settlement_days,
        beyond_reason=r.SETTLEMENT_DATE_BEYOND_WINDOW,
    )
    problems = list(moved)
    promised = floor if amount is None else positive_cents(amount)
    if promised < floor:
        # The dialogue hands off (policy_limit) only if the debtor insists on more.
        problems.insert(0, r.SETTLEMENT_DISCOUNT_BEYOND_POLICY)
        promised = floor
    elif promised > total:
        problems.insert(0, r.AMOUNT_EXCEEDS_TOTAL)
        promised = total
    offer = Offer(
        kind="settlement",
        total=total,
        amount=promised,
        discount=cents(total - promised),
        due_date=due,
    )
    return Decision(not problems, offer, tuple(problems) or (r.SETTLEMENT_ALLOWED,), policy.version)


def propose_deferral(
    *,
    total: Decimal,
    today: date,
    policy: CreditorPolicy,
    until: date | None = None,
    deferrals_used: int = 0,
) -> Decision:
    """Check a free deferral of the whole amount to `until` (default: the longest allowed)."""
    total = positive_cents(total)
    if deferrals_used >= policy.max_deferrals:
        return Decision(False, None, (r.DEFERRAL_ALREADY_USED,), policy.version)
    longest = today + timedelta(days=policy.deferral_max_days)
    problems: tuple[str, ...]
    if until is None:
        due, problems = longest, ()
    elif until <= today:
        due, problems = longest, (r.DEFERRAL_DATE_NOT_IN_FUTURE,)
    elif until > longest:
        due, problems = longest, (r.DEFERRAL_BEYOND_WINDOW,)
    else:
        due, problems = until, ()
    offer = Offer(kind="deferral", total=total, amount=total, discount=ZERO, due_date=due)
    return Decision(not problems, offer, problems or (r.DEFERRAL_ALLOWED,), policy.version)
