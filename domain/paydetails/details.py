"""What a debtor pays to which account for a recorded promise: one block per payee.

A promise over several claims has each claim's part fixed when it is recorded
(domain.promises.service.create, policy.allocation). The claims whose money goes to
the same account (the same creditor's own account, or the agency's for every
creditor without one) make one block: one transfer a time, with all their
references as the remittance text, which the payments import matches as
"references of one promise". Claims of creditors with accounts of their own
get a block each, so each creditor is paid directly. A block's amount is the
sum of its claims' parts: of the one payment, or of each instalment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sqlalchemy.orm import Session

from domain.paydetails.accounts import Account, creditor_account
from domain.promises.models import Promise

# The EPC QR code's unstructured remittance text holds at most 140 characters.
MAX_REMITTANCE: Final = 140
ZERO: Final = Decimal("0.00")


@dataclass(frozen=True)
class ClaimShare:
    """One claim of a promise: its breakdown and its part of the promise."""

    reference: str
    creditor: str
    creditor_address: str
    subject: str
    currency: str
    principal: Decimal
    interest: Decimal
    fees: Decimal
    amount: Decimal  # its part of what is promised
    discount: Decimal
    instalments: tuple[Decimal, ...]  # its part of each instalment (plans only)

    @property
    def total(self) -> Decimal:
        """Return principal + interest + fees."""
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class PaymentBlock:
    """One payee: the account, the claims paid to it and the amounts to transfer."""

    account: Account
    currency: str
    claims: tuple[ClaimShare, ...]
    instalments: tuple[Decimal, ...]  # this payee's part of each instalment (plans only)
    first_amount: Decimal  # the first (or only) transfer
    first_due: date

    @property
    def amount(self) -> Decimal:
        """Return everything this payee receives from the promise."""
        return sum((claim.amount for claim in self.claims), ZERO)

    @property
    def references(self) -> tuple[str, ...]:
        """Return the references of the block's claims, oldest claim first."""
        return tuple(claim.reference for claim in self.claims)

    @property
    def has_qr(self) -> bool:
        """Tell whether an EPC QR code can carry the first transfer (euro only, not nothing)."""
        return self.currency == "EUR" and self.first_amount > 0

    @property
    def remittance(self) -> str:
        """Return the remittance text: the claims' references (as many as fit 140 characters)."""
        text = ""
        for reference in self.references:
            candidate = f"{text} {reference}".strip()
            if len(candidate) > MAX_REMITTANCE:
                break
            text = candidate
        return text


@dataclass(frozen=True)
class ScheduledPayment:
    """One instalment of the promise as a whole."""

    number: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class PaymentDetails:
    """A promise with its payment blocks, detached from the database."""

    promise_id: int
    kind: str
    status: str
    amount: Decimal
    discount: Decimal
    due_date: date
    created_at: datetime
    currency: str
    claims: tuple[ClaimShare, ...]
    schedule: tuple[ScheduledPayment, ...]
    blocks: tuple[PaymentBlock, ...]
    # Claims with no account to pay to (production without an agency account).
    without_account: tuple[str, ...]


def _shares(promise: Promise) -> list[tuple[ClaimShare, Account | None]]:
    """Return each claim's share of the promise with its creditor's own account."""
    parts = sorted(promise.parts, key=lambda p: (p.claim.due_date, p.claim_reference))
    single = len(parts) == 1
    shares = []
    for part in parts:
        claim = part.claim
        instalments = tuple(
            # A promise recorded before parts existed has none: one claim takes it all.
            instalment.amount
            if single and not instalment.parts
            else sum(
                (s.amount for s in instalment.parts if s.claim_reference == claim.reference),
                ZERO,
            )
            for instalment in promise.instalments
        )
        share = ClaimShare(
            reference=claim.reference,
            creditor=claim.creditor.name,
            creditor_address=claim.creditor.address,
            subject=claim.subject,
            currency=claim.currency,
            principal=claim.principal,
            interest=claim.interest,
            fees=claim.fees,
            amount=part.amount,
            discount=part.discount,
            instalments=instalments,
        )
        shares.append((share, creditor_account(claim.creditor)))
    return shares


def _block(
    account: Account, claims: list[ClaimShare], promise: Promise, plan: bool
) -> PaymentBlock:
    """Sum the block's claims per instalment; its first transfer is its first non-zero one."""
    instalments = tuple(
        sum((claim.instalments[k] for claim in claims), ZERO)
        for k in range(len(promise.instalments))
    )
    first_amount = sum((claim.amount for claim in claims), ZERO)
    first_due = promise.due_date
    if plan and instalments:
        k = next((k for k, value in enumerate(instalments) if value > 0), 0)
        first_amount, first_due = instalments[k], promise.instalments[k].due_date
    return PaymentBlock(
        account=account,
        currency=claims[0].currency,
        claims=tuple(claims),
        instalments=instalments if plan else (),
        first_amount=first_amount,
        first_due=first_due,
    )


def for_promise(
    *, db_session: Session, promise_id: int, agency: Account | None
) -> PaymentDetails | None:
    """Build the payment details of a stored promise (None when there is no such promise)."""
    promise = db_session.get(Promise, promise_id)
    if promise is None or not promise.parts:
        return None
    plan = promise.kind == "instalment_plan" and bool(promise.instalments)
    groups: dict[tuple[Account, str], list[ClaimShare]] = {}
    without: list[str] = []
    shares = _shares(promise)
    for share, own in shares:
        account = own or agency
        if account is None:
            without.append(share.reference)
            continue
        groups.setdefault((account, share.currency), []).append(share)
    blocks = tuple(
        _block(account, claims, promise, plan) for (account, _), claims in groups.items()
    )
    return PaymentDetails(
        promise_id=promise.id,
        kind=promise.kind,
        status=promise.status,
        amount=promise.amount,
        discount=promise.discount,
        due_date=promise.due_date,
        created_at=promise.created_at,
        currency=shares[0][0].currency,
        claims=tuple(share for share, _ in shares),
        schedule=tuple(
            ScheduledPayment(number=i.number, due_date=i.due_date, amount=i.amount)
            for i in promise.instalments
        ),
        blocks=blocks,
        without_account=tuple(without),
    )
