"""The status sweep: instalments and promises kept or broken, claims paid, on a given day.

Run after every import and assignment, and daily (`quitt payments sweep`, from a
cron job or a systemd timer), because a promise breaks by the calendar, not by
a payment. The clock is a parameter (`today`), never read here.

- An instalment is kept once payments cover every claim's part of it (or that
  claim owes nothing any more); broken when it is still short after its due
  date plus the creditor policy's `broken_promise_grace_days`. Grace days are
  whole days: due 1 March with 5 days' grace, a payment booked by 6 March keeps
  it, and from 7 March it is broken. The first broken instalment breaks its
  promise; later instalments stay pending (nothing more is expected of them).
- A plan is kept when all its instalments are; a one-off promise (full,
  settlement, deferral) when payments cover every claim's part of it, and broken
  by the same grace rule from its due date.
- A promise over claims of several creditors uses the longest grace among them:
  no creditor's rule breaks it while another creditor still waits.
- An `open` claim whose balance reached zero becomes `paid`. Disputed and
  insolvency claims keep their status for an agent to decide.

Every change is written to the audit log, once per claim it concerns, with the
claim's creditor policy version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.claims.models import Claim
from domain.payments import ledger
from domain.payments.allocation import ZERO
from domain.payments.models import PaymentAllocation
from domain.promises.models import Promise
from policy.config import CreditorPolicy, PolicyBook
from policy.errors import PolicyNotFound

INSTALMENT_COVERED = "instalment_covered"
PROMISE_COVERED = "promise_covered"
SHORT_AFTER_GRACE = "short_after_grace_days"
BALANCE_ZERO = "balance_zero"


@dataclass
class SweepReport:
    """What one sweep changed."""

    today: date
    instalments_kept: int = 0
    promises_kept: list[int] = field(default_factory=list)
    promises_broken: list[int] = field(default_factory=list)
    claims_paid: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"sweep {self.today}: {self.instalments_kept} instalment(s) kept, "
            f"{len(self.promises_kept)} promise(s) kept, {len(self.promises_broken)} broken, "
            f"{len(self.claims_paid)} claim(s) paid"
        )


def policy_of(book: PolicyBook, claim: Claim) -> CreditorPolicy:
    """Return the claim's creditor policy (the default when its name is unknown)."""
    try:
        return book.get(claim.creditor.policy)
    except PolicyNotFound:
        return book.get("default")


class _Sweep:
    """One sweep over the pending promises and the claims with payments."""

    def __init__(self, db_session: Session, today: date, book: PolicyBook) -> None:
        self.db = db_session
        self.today = today
        self.book = book
        self.report = SweepReport(today)

    def audit(self, kind: str, claims: list[Claim], reason: str, data: dict[str, object]) -> None:
        for claim in claims:
            audit_service.record(
                db_session=self.db,
                kind=kind,
                claim_reference=claim.reference,
                reasons=[reason],
                policy_version=policy_of(self.book, claim).version,
                data={key: str(value) for key, value in data.items()},
            )

    def late(self, due: date, claims: list[Claim]) -> bool:
        grace = max(policy_of(self.book, c).broken_promise_grace_days for c in claims)
        return self.today > due + timedelta(days=grace)

    def promise(self, promise: Promise) -> None:
        claims = sorted(promise.claims, key=lambda c: (c.due_date, c.reference))
        owed = ledger.balances(db_session=self.db, claims=claims)
        if promise.instalments:
            self.plan(promise, claims, owed)
        else:
            self.one_off(promise, claims, owed)

    def plan(self, promise: Promise, claims: list[Claim], owed: dict[str, Decimal]) -> None:
        ids = [i.id for i in promise.instalments]
        paid = ledger.paid_on_instalments(db_session=self.db, instalment_ids=ids)
        for index, instalment in enumerate(promise.instalments):
            if instalment.status != "pending":
                continue
            covered = all(
                paid.get((instalment.id, ref), ZERO) >= amount or owed.get(ref, ZERO) == 0
                for ref, amount in ledger.instalment_parts(promise, index)
            )
            data: dict[str, object] = {"promise_id": promise.id, "instalment": instalment.number}
            if covered:
                instalment.status = "kept"
                self.report.instalments_kept += 1
                self.audit("instalment_kept", claims, INSTALMENT_COVERED, data)
            elif self.late(instalment.due_date, claims):
                instalment.status = "broken"
                data["due_date"] = instalment.due_date
                self.broken(promise, claims, data)
                return
        if all(i.status == "kept" for i in promise.instalments):
            self.kept(promise, claims)

    def one_off(self, promise: Promise, claims: list[Claim], owed: dict[str, Decimal]) -> None:
        paid = ledger.paid_on_promises(db_session=self.db, promise_ids=[promise.id])
        covered = all(
            paid.get((promise.id, ref), ZERO) >= amount or owed.get(ref, ZERO) == 0
            for ref, amount in ledger.promise_parts(promise)
        )
        if covered:
            self.kept(promise, claims)
        elif self.late(promise.due_date, claims):
            self.broken(promise, claims, {"promise_id": promise.id, "due_date": promise.due_date})

    def kept(self, promise: Promise, claims: list[Claim]) -> None:
        promise.status = "kept"
        self.report.promises_kept.append(promise.id)
        reason = INSTALMENT_COVERED if promise.instalments else PROMISE_COVERED
        self.audit("promise_kept", claims, reason, {"promise_id": str(promise.id)})

    def broken(self, promise: Promise, claims: list[Claim], data: dict[str, object]) -> None:
        promise.status = "broken"
        self.report.promises_broken.append(promise.id)
        self.audit("promise_broken", claims, SHORT_AFTER_GRACE, data)

    def claims(self) -> None:
        with_payments = select(PaymentAllocation.claim_reference).distinct()
        open_claims = list(
            self.db.scalars(
                select(Claim).where(Claim.status == "open", Claim.reference.in_(with_payments))
            )
        )
        owed = ledger.balances(db_session=self.db, claims=open_claims)
        for claim in open_claims:
            if owed[claim.reference] == 0:
                claim.status = "paid"
                self.report.claims_paid.append(claim.reference)
                self.audit("claim_paid", [claim], BALANCE_ZERO, {})


def sweep(*, db_session: Session, today: date, policies: PolicyBook) -> SweepReport:
    """Move instalments, promises and claims to the status their payments and `today` give."""
    run = _Sweep(db_session, today, policies)
    pending = db_session.scalars(
        select(Promise).where(Promise.status == "pending").order_by(Promise.id)
    )
    for promise in list(pending):
        run.promise(promise)
        db_session.flush()
    run.claims()
    db_session.flush()
    return run.report
