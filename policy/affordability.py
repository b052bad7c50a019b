"""What a debtor can afford each month, from their income and outgoings (a plan that fits).

Plans set up to fit break less. The check asks for net monthly income, five kinds of
outgoings and the number of people the debtor owes maintenance to, and decides:

    left        = net income - (rent + energy + food and household + transport + other debts)
    above       = net income - protected income (§ 850c ZPO, policy/pfaendung.py)
    affordable  = max(0, min(left, above))

A plan never takes the debtor below the protected income, and never asks for more than
is left after the outgoings they named. When `affordable` reaches the creditor's
smallest instalment (policy.plans.minimum_instalment), the plan proposed pays
`affordable` rounded down to whole euros each month (but never less than that smallest
instalment, which it then still fits), with a Schlussrate as every plan by monthly
amount (policy/plans.py). Below it, only a person may agree less: hand off
(`policy_limit`) with the statement.

Pure: Decimal money, today's protected income passed in, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from policy import reasons as r
from policy.config import CreditorPolicy
from policy.errors import InvalidAmount, InvalidRequest
from policy.money import cents
from policy.pfaendung import ProtectedIncome
from policy.plans import minimum_instalment

ZERO = Decimal("0.00")
# The outgoings asked for, in the order the check asks (and the statement lists) them.
OUTGOINGS: Final = ("rent", "energy", "food", "transport", "other_debts")
# Reason codes of an assessment.
AFFORDABLE_PLAN: Final = "affordable_plan"
AFFORDABLE_BELOW_MINIMUM: Final = "affordable_below_minimum"
LIMITED_BY_OUTGOINGS: Final = "limited_by_outgoings"
LIMITED_BY_PROTECTED_INCOME: Final = "limited_by_protected_income"
# Beyond these an answer is a typing slip, not a household (asked again instead).
MAX_AMOUNT: Final = Decimal("1000000")
MAX_DEPENDANTS: Final = 20


@dataclass(frozen=True)
class Household:
    """A debtor's monthly money as they told it: income, outgoings by kind, dependants."""

    net_income: Decimal
    rent: Decimal
    energy: Decimal
    food: Decimal
    transport: Decimal
    other_debts: Decimal
    dependants: int

    def __post_init__(self) -> None:
        """Normalise amounts to cents; refuse negative or absurd values."""
        for key in ("net_income", *OUTGOINGS):
            value = cents(getattr(self, key))
            if value < 0 or value > MAX_AMOUNT:
                raise InvalidAmount(value, f"{key} must be between 0 and {MAX_AMOUNT}")
            object.__setattr__(self, key, value)
        dependants = self.dependants
        if isinstance(dependants, bool) or not isinstance(dependants, int):
            raise InvalidRequest(f"dependants must be a whole number: {dependants!r}")
        if not 0 <= dependants <= MAX_DEPENDANTS:
            raise InvalidRequest(f"dependants must be between 0 and {MAX_DEPENDANTS}")

    @property
    def outgoings(self) -> dict[str, Decimal]:
        """Return the outgoings by kind, in the order they are asked."""
        return {key: getattr(self, key) for key in OUTGOINGS}

    @property
    def total_outgoings(self) -> Decimal:
        """Return the sum of the outgoings."""
        return sum(self.outgoings.values(), ZERO)

    @property
    def left(self) -> Decimal:
        """Return what is left after the outgoings (negative when they exceed the income)."""
        return self.net_income - self.total_outgoings


@dataclass(frozen=True)
class Assessment:
    """The check's answer: what fits, the instalment to propose (if any), and why."""

    household: Household
    protected: ProtectedIncome
    affordable: Decimal  # max(0, min(left, above the protected income))
    floor: Decimal  # the creditor's smallest instalment for this total
    monthly: Decimal | None  # the instalment to propose; None below the floor
    reasons: tuple[str, ...]
    policy_version: str
    handoff_reason: str | None = None  # policy_limit below the floor

    @property
    def fits(self) -> bool:
        """Tell whether a plan within what the debtor can afford is possible."""
        return self.monthly is not None

    @property
    def above_protected(self) -> Decimal:
        """Return net income minus the protected income (negative when below it)."""
        return self.household.net_income - self.protected.amount

    def to_statement(self, *, currency: str) -> dict[str, object]:
        """Return the statement for an agent: income, outgoings, what is left, § 850c."""
        household = self.household
        return {
            "kind": "affordability",
            "currency": currency,
            "net_income": str(household.net_income),
            "outgoings": {key: str(value) for key, value in household.outgoings.items()},
            "outgoings_total": str(household.total_outgoings),
            "left": str(household.left),
            "dependants": household.dependants,
            "protected_income": self.protected.to_record(),
            "above_protected": str(self.above_protected),
            "affordable": str(self.affordable),
            "minimum_instalment": str(self.floor),
            "proposed_instalment": None if self.monthly is None else str(self.monthly),
            "outcome": "plan" if self.fits else "below_minimum",
            "reasons": list(self.reasons),
            "policy_version": self.policy_version,
        }


def affordable_amount(household: Household, protected: ProtectedIncome) -> Decimal:
    """Return max(0, min(what is left, net income - protected income))."""
    above = household.net_income - protected.amount
    return max(ZERO, min(household.left, above))


def assess(
    *, household: Household, protected: ProtectedIncome, total: Decimal, policy: CreditorPolicy
) -> Assessment:
    """Decide whether a plan fits the household, and at which monthly instalment."""
    if protected.dependants != household.dependants:
        raise InvalidRequest("the protected income was looked up for another household size")
    affordable = affordable_amount(household, protected)
    floor = minimum_instalment(total=total, policy=policy)
    binding = (
        LIMITED_BY_PROTECTED_INCOME
        if household.net_income - protected.amount < household.left
        else LIMITED_BY_OUTGOINGS
    )
    reasons = [binding, protected.reason]
    if affordable < floor:
        return Assessment(
            household=household,
            protected=protected,
            affordable=affordable,
            floor=floor,
            monthly=None,
            reasons=(AFFORDABLE_BELOW_MINIMUM, *reasons),
            policy_version=policy.version,
            handoff_reason=r.POLICY_LIMIT,
        )
    # Whole euros are what people plan with; the floor itself may carry cents (total / 24).
    whole = affordable.quantize(Decimal("1"), rounding=ROUND_FLOOR).quantize(Decimal("0.01"))
    return Assessment(
        household=household,
        protected=protected,
        affordable=affordable,
        floor=floor,
        monthly=max(floor, whole),
        reasons=(AFFORDABLE_PLAN, *reasons),
        policy_version=policy.version,
    )
