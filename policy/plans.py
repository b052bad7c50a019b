"""Instalment plans (CONTRACT §4) in whole cents.

Arithmetic, chosen so that it can be checked by hand:

* floor = max(min_instalment, total / max_months rounded up to the cent). A plan never
  runs longer than max_months, and only a Schlussrate (below) may be smaller than the floor.
* The longest plan of equal instalments has n_max = floor(total / floor) instalments (at
  most max_months). A plan needs at least two instalments; below 2 x floor the total is a
  full payment.
* A plan asked for by monthly amount M (floor <= M < total) is written as German
  instalment agreements are: n = ceil(total / M) instalments, every one of them M except
  the last, the Schlussrate, which carries the remainder total - (n - 1) x M. So
  0 < Schlussrate <= M (== M when M divides the total), the sum is the total exactly,
  and n <= max_months because M >= total / max_months. Example: 477.20 at 50.00 a month
  is 9 x 50.00 + 27.20. The Schlussrate may be below the floor (75.01 at 25.00 is
  3 x 25.00 + 0.01): CONTRACT §4 lets the final instalment carry whatever remains.
* A plan of n equal instalments (asked for by term, or proposed without an amount) pays
  round_down(total / n) each month and the last one absorbs the remainder (it is larger
  by less than n cents), so the sum is the total exactly and, because n <= n_max, every
  instalment is at least the floor.
* M below the floor is "not allowed": the answer is the nearest compliant plan, the
  floor itself each month and a Schlussrate, so that a debtor can accept it in their own
  words ("ok, 25 then"). M at or above the total is a full payment.
* With neither M nor a term, policy.default_plan_months (6) equal instalments are
  proposed, or the longest plan if that is shorter.
* Due dates are one calendar month apart, counted from the first, the day clamped to the
  month's end (Jan 31 -> Feb 28 -> Mar 31).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from policy import reasons as r
from policy.config import CreditorPolicy
from policy.dates import add_months
from policy.decisions import Decision, Instalment, Offer
from policy.errors import InvalidRequest
from policy.money import ceil_div, from_minor, positive_cents, to_minor
from policy.payments import ZERO, due_within, full_offer


def minimum_instalment(*, total: Decimal, policy: CreditorPolicy) -> Decimal:
    """Return max(min_instalment, total / max_months) rounded up to the cent."""
    return from_minor(_floor_minor(to_minor(positive_cents(total)), policy))


def longest_plan_months(*, total: Decimal, policy: CreditorPolicy) -> int:
    """Return how many instalments the longest compliant plan has (below 2: no plan)."""
    total_minor = to_minor(positive_cents(total))
    return _longest(total_minor, policy)


def plan_amounts(*, total: Decimal, months: int) -> tuple[Decimal, ...]:
    """Split a total into equal cents rounded down, the last absorbing the remainder."""
    if months < 1:
        raise InvalidRequest(f"a plan needs at least one instalment, not {months}")
    return tuple(from_minor(m) for m in _split(to_minor(positive_cents(total)), months))


def monthly_plan_amounts(*, total: Decimal, monthly: Decimal) -> tuple[Decimal, ...]:
    """Return M for every instalment but the last, which carries the remainder (Schlussrate)."""
    return tuple(
        from_minor(m)
        for m in _by_monthly(to_minor(positive_cents(total)), to_minor(positive_cents(monthly)))
    )


def build_plan(
    *,
    total: Decimal,
    first_due: date,
    months: int | None = None,
    monthly: Decimal | None = None,
) -> Offer:
    """Build the plan offer starting on first_due: `months` equal instalments, or M a month.

    Give exactly one of months (equal instalments, the last absorbing the rounding) and
    monthly (every instalment M, the last carrying the remainder). No policy check here:
    propose_plan decides which plan is allowed.
    """
    total = positive_cents(total)
    if months is not None and monthly is None:
        amounts = plan_amounts(total=total, months=months)
    elif monthly is not None and months is None:
        amounts = monthly_plan_amounts(total=total, monthly=monthly)
    else:
        raise InvalidRequest("build a plan from a number of months or a monthly amount")
    instalments = tuple(
        Instalment(number=i + 1, amount=amount, due_date=add_months(first_due, i))
        for i, amount in enumerate(amounts)
    )
    return Offer(
        kind="instalment_plan",
        total=total,
        amount=total,
        discount=ZERO,
        due_date=first_due,
        instalments=instalments,
    )


def propose_plan(
    *,
    total: Decimal,
    today: date,
    policy: CreditorPolicy,
    monthly: Decimal | None = None,
    months: int | None = None,
    first_due: date | None = None,
) -> Decision:
    """Check an instalment plan asked for by monthly amount or by term (not both)."""
    if monthly is not None and months is not None:
        raise InvalidRequest("ask for a plan by monthly amount or by months, not both")
    total = positive_cents(total)
    total_minor = to_minor(total)
    longest = _longest(total_minor, policy)
    if longest < 2:
        offer = full_offer(total=total, due_date=today + timedelta(days=policy.full_payment_days))
        return Decision(False, offer, (r.PLAN_TOTAL_TOO_SMALL,), policy.version)

    count: int | None = None  # equal instalments, or
    plan_monthly: Decimal | None = None  # M a month and a Schlussrate
    if monthly is not None:
        monthly_minor = to_minor(positive_cents(monthly))
        if monthly_minor >= total_minor:
            due = today + timedelta(days=policy.full_payment_days)
            offer = full_offer(total=total, due_date=due)
            return Decision(False, offer, (r.MONTHLY_COVERS_TOTAL,), policy.version)
        floor_minor = _floor_minor(total_minor, policy)
        if monthly_minor < floor_minor:
            # Below the floor: the nearest compliant plan is the floor itself each month,
            # with a Schlussrate (what the debtor can accept in the same words: "ok, 25").
            plan_monthly, problems = from_minor(floor_minor), [r.INSTALMENT_BELOW_MINIMUM]
        else:
            plan_monthly, problems = from_minor(monthly_minor), []
    elif months is not None:
        count, problems = _months_for_term(months, longest, policy)
    else:
        count, problems = min(policy.default_plan_months, longest), []

    start, moved = due_within(
        first_due,
        today=today,
        days=policy.first_instalment_days,
        beyond_reason=r.FIRST_INSTALMENT_BEYOND_WINDOW,
    )
    problems.extend(moved)
    offer = build_plan(total=total, months=count, monthly=plan_monthly, first_due=start)
    return Decision(not problems, offer, tuple(problems) or (r.PLAN_ALLOWED,), policy.version)


def _floor_minor(total_minor: int, policy: CreditorPolicy) -> int:
    """Return the instalment floor in cents."""
    return max(to_minor(policy.min_instalment), ceil_div(total_minor, policy.max_months))


def _longest(total_minor: int, policy: CreditorPolicy) -> int:
    """Return the instalment count of the longest compliant plan."""
    return min(policy.max_months, total_minor // _floor_minor(total_minor, policy))


def _split(total_minor: int, months: int) -> list[int]:
    """Split cents into `months` parts rounded down, the last taking the remainder."""
    base = total_minor // months
    return [base] * (months - 1) + [total_minor - base * (months - 1)]


def _by_monthly(total_minor: int, monthly_minor: int) -> list[int]:
    """Split cents into instalments of monthly_minor, the last carrying the remainder."""
    count = ceil_div(total_minor, monthly_minor)
    return [monthly_minor] * (count - 1) + [total_minor - monthly_minor * (count - 1)]


def _months_for_term(months: int, longest: int, policy: CreditorPolicy) -> tuple[int, list[str]]:
    """Return the term if compliant, else the nearest compliant term and why."""
    if months < 2:
        return 2, [r.PLAN_TOO_FEW_MONTHS]
    if months > policy.max_months:
        return longest, [r.PLAN_EXCEEDS_MAX_MONTHS]
    if months > longest:
        return longest, [r.INSTALMENT_BELOW_MINIMUM]
    return months, []
