"""Instalment plans (CONTRACT §4) in whole cents.

Arithmetic, chosen so that it can be checked by hand:

* floor = max(min_instalment, total / max_months rounded up to the cent); no instalment
  is ever below it, so a plan never runs longer than max_months.
* The longest plan has n_max = floor(total / floor) instalments (at most max_months). A
  plan needs at least two instalments; below 2 x floor the total is a full payment.
* A plan of n instalments pays round_down(total / n) each month and the last one absorbs
  the remainder (it is larger by less than n cents), so the sum is the total exactly and,
  because n <= n_max, every instalment is at least the floor.
* For a monthly amount M, the plan is the shortest n >= ceil(total / M) whose largest
  instalment is at most M. If there is none (M below the floor, or so close to it that
  only the remainder breaks it) the answer is "not allowed" with the longest plan, whose
  instalments are the lowest any compliant plan can have.
* With neither M nor a term, policy.default_plan_months (6) is proposed, or the longest
  plan if that is shorter.
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


def build_plan(*, total: Decimal, months: int, first_due: date) -> Offer:
    """Build the plan offer of `months` monthly instalments starting on first_due."""
    total = positive_cents(total)
    instalments = tuple(
        Instalment(number=i + 1, amount=amount, due_date=add_months(first_due, i))
        for i, amount in enumerate(plan_amounts(total=total, months=months))
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

    if monthly is not None:
        monthly_minor = to_minor(positive_cents(monthly))
        if monthly_minor >= total_minor:
            due = today + timedelta(days=policy.full_payment_days)
            offer = full_offer(total=total, due_date=due)
            return Decision(False, offer, (r.MONTHLY_COVERS_TOTAL,), policy.version)
        count, problems = _months_for_monthly(total_minor, monthly_minor, longest, policy)
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
    offer = build_plan(total=total, months=count, first_due=start)
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


def _months_for_monthly(
    total_minor: int, monthly_minor: int, longest: int, policy: CreditorPolicy
) -> tuple[int, list[str]]:
    """Return the shortest plan paying at most monthly_minor, or the longest plan and why."""
    if monthly_minor < _floor_minor(total_minor, policy):
        return longest, [r.INSTALMENT_BELOW_MINIMUM]
    for count in range(max(2, ceil_div(total_minor, monthly_minor)), longest + 1):
        if max(_split(total_minor, count)) <= monthly_minor:
            return count, []
    return longest, [r.MONTHLY_NOT_FEASIBLE]


def _months_for_term(months: int, longest: int, policy: CreditorPolicy) -> tuple[int, list[str]]:
    """Return the term if compliant, else the nearest compliant term and why."""
    if months < 2:
        return 2, [r.PLAN_TOO_FEW_MONTHS]
    if months > policy.max_months:
        return longest, [r.PLAN_EXCEEDS_MAX_MONTHS]
    if months > longest:
        return longest, [r.INSTALMENT_BELOW_MINIMUM]
    return months, []
