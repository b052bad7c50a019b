"""Payments: import bank statements once, match and allocate credits, assign the rest.

An import reads the whole statement first (domain/payments/camt.py, csvfile.py),
so that a malformed file writes nothing; then, in the caller's transaction,
stores each credit not seen before (keyed by its bank transaction id), matches
it to a claim (domain/payments/matching.py), allocates it (allocation.py), audits
it, and runs the status sweep (sweep.py) for `today`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.claims.models import Claim
from domain.config import get_settings
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.payments import ledger, matching, reversal
from domain.payments.allocation import allocate
from domain.payments.camt import read_camt
from domain.payments.csvfile import read_csv
from domain.payments.models import Payment, PaymentAllocation
from domain.payments.statement import DebitLine, Statement, StatementLine, check_duplicates
from domain.payments.sweep import SweepReport, sweep
from policy.config import PolicyBook, load_policies

CURRENCY_DIFFERS = "currency_differs"
_LOOKUP_CHUNK = 500


@lru_cache(maxsize=2)
def _policies(path: Path) -> PolicyBook:
    return load_policies(path)


def policies() -> PolicyBook:
    """Return the creditor policies of the configured file, loaded once."""
    return _policies(Path(get_settings().policy_file))


@dataclass
class PaymentsReport:
    """What an import did: counts and sums, no payer or remittance text."""

    source: str
    credits: int = 0
    imported: int = 0
    matched: int = 0
    unmatched: int = 0
    already_imported: int = 0
    reversed: int = 0
    amount_imported: Decimal = Decimal("0.00")
    amount_unallocated: Decimal = Decimal("0.00")
    skipped: dict[str, int] = field(default_factory=dict)
    sweep: SweepReport | None = None

    def __str__(self) -> str:
        lines = [
            f"{self.source}: {self.credits} credit(s) read, {self.imported} imported "
            f"({self.matched} matched, {self.unmatched} unmatched, {self.amount_imported} in all), "
            f"{self.already_imported} already imported",
        ]
        if self.amount_unallocated:
            lines.append(f"not allocated to a claim: {self.amount_unallocated}")
        if self.reversed:
            lines.append(f"taken back by the bank (returned or reversed): {self.reversed}")
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"left out: {count} {reason} entr{'y' if count == 1 else 'ies'}")
        if self.sweep is not None:
            lines.append(str(self.sweep))
        return "\n".join(lines)


def is_xml(path: Path) -> bool:
    """Tell camt XML from CSV: by the name's suffix, else by the first character."""
    suffix = path.suffix.lower()
    if suffix in (".xml", ".csv", ".txt"):
        return suffix == ".xml"
    try:
        with path.open("rb") as stream:
            start = stream.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror or exc}") from None
    return start[:1] == b"<"


def read_statement(path: Path) -> Statement:
    """Read a statement file whole (camt.053 XML or CSV), or refuse it naming entry and field."""
    if not path.is_file():
        raise ValidationFailed(f"cannot read {path}: no such file")
    statement = read_camt(path) if is_xml(path) else read_csv(path)
    check_duplicates(statement)
    return statement


def _known_ids(db_session: Session, ids: Sequence[str]) -> set[str]:
    """Return the transaction ids already stored."""
    known: set[str] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = list(ids[start : start + _LOOKUP_CHUNK])
        known.update(
            db_session.scalars(
                select(Payment.transaction_id).where(Payment.transaction_id.in_(chunk))
            )
        )
    return known


class _Matcher:
    """Matching against the stored claims, with the amounts each one expects."""

    def __init__(self, db_session: Session) -> None:
        self.db = db_session
        self.index = matching.ReferenceIndex(db_session.scalars(select(Claim.reference)))

    def expects(self, reference: str) -> set[Decimal]:
        claim = self.db.get(Claim, reference)
        return set() if claim is None else ledger.expected_amounts(db_session=self.db, claim=claim)

    def together(self, references: Sequence[str]) -> str | None:
        """Name the oldest of several claims when one pending promise covers them all."""
        wanted = set(references)
        for promise in ledger.pending_promises(db_session=self.db, reference=references[0]):
            if wanted <= set(promise.claim_references):
                return next(r for r in promise.claim_references if r in wanted)
        return None

    def match(self, line: StatementLine) -> matching.Match:
        candidates = self.index.candidates(line.remittance)
        return matching.decide(candidates, line.amount, self.expects, self.together)


def apply(*, db_session: Session, payment: Payment, claim: Claim) -> list[PaymentAllocation]:
    """Allocate a payment to a claim: oldest open instalment first, then the balance."""
    slots = ledger.slots(db_session=db_session, claim=claim)
    covered = {ref for slot in slots for ref, _ in slot.parts}
    claims = [c for ref in sorted(covered) if (c := db_session.get(Claim, ref)) is not None]
    room = ledger.room(db_session=db_session, claims=claims)
    shares, _left = allocate(payment.amount - payment.allocated, slots, room)
    rows = []
    for share in shares:
        _kind, promise_id, instalment_id = share.key
        rows.append(
            PaymentAllocation(
                claim_reference=share.claim_reference,
                promise_id=promise_id,
                instalment_id=instalment_id,
                amount=share.amount,
            )
        )
    payment.allocations.extend(rows)
    db_session.flush()
    return rows


def _allocations_data(rows: Sequence[PaymentAllocation]) -> list[dict[str, object]]:
    return [
        {
            "claim_reference": row.claim_reference,
            "promise_id": row.promise_id,
            "instalment_id": row.instalment_id,
            "amount": str(row.amount),
        }
        for row in rows
    ]


def _store(db_session: Session, line: StatementLine, source: str, matcher: _Matcher) -> Payment:
    """Store one new credit, matched and allocated when its claim is found, and audit it."""
    found = matcher.match(line)
    claim = db_session.get(Claim, found.reference) if found.reference else None
    reason = found.reason
    if claim is not None and claim.currency != line.currency:
        claim, reason = None, CURRENCY_DIFFERS
    payment = Payment(
        transaction_id=line.transaction_id,
        amount=line.amount,
        currency=line.currency,
        booked_on=line.booked_on,
        remittance=line.remittance,
        payer=line.payer,
        claim_reference=claim.reference if claim else None,
        state="matched" if claim else "unmatched",
        match_reason=reason,
        candidates=",".join(found.candidates)[:300] or None,
        source=source,
        end_to_end_id=line.end_to_end_id,
        tx_id=line.tx_id,
    )
    db_session.add(payment)
    db_session.flush()
    rows = apply(db_session=db_session, payment=payment, claim=claim) if claim else []
    audit_service.record(
        db_session=db_session,
        kind="payment_received",
        claim_reference=payment.claim_reference,
        reasons=[reason],
        data={
            "payment_id": payment.id,
            "transaction_id": payment.transaction_id,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "booked_on": payment.booked_on.isoformat(),
            "state": payment.state,
            "candidates": list(found.candidates),
            "allocations": _allocations_data(rows),
            "unallocated": str(payment.unallocated),
        },
    )
    return payment


def _book_reversal(db_session: Session, debit: DebitLine, statement: Statement) -> str | None:
    """Book a debit that takes a payment back, once: "booked", "known" (before) or None."""
    if reversal.already_booked(db_session, debit):
        return "known"
    payment = reversal.find_payment(db_session, debit)
    if payment is None:
        return None
    reversal.book(db_session=db_session, debit=debit, payment=payment, source=statement.source)
    return "booked"


def import_statement(
    *, db_session: Session, statement: Statement, today: date, policy_book: PolicyBook
) -> PaymentsReport:
    """Store a statement's new credits, match, allocate and audit them, then sweep."""
    report = PaymentsReport(source=statement.source, credits=len(statement.credits))
    known = _known_ids(db_session, [line.transaction_id for line in statement.credits])
    new = [line for line in statement.credits if line.transaction_id not in known]
    report.already_imported = len(statement.credits) - len(new)
    if new:
        matcher = _Matcher(db_session)
        # In booking order, so the older payment pays the older instalment.
        for line in sorted(new, key=lambda line: line.booked_on):
            payment = _store(db_session, line, statement.source, matcher)
            report.imported += 1
            report.amount_imported += payment.amount
            report.amount_unallocated += payment.unallocated
            if payment.state == "matched":
                report.matched += 1
            else:
                report.unmatched += 1
    # After the credits: a statement may hold a credit and its reversal both.
    for skipped in statement.skipped:
        booked = _book_reversal(db_session, skipped.debit, statement) if skipped.debit else None
        if booked == "booked":
            report.reversed += 1
        elif booked == "known":
            report.already_imported += 1
        else:
            report.skipped[skipped.reason] = report.skipped.get(skipped.reason, 0) + 1
    report.sweep = sweep(db_session=db_session, today=today, policies=policy_book)
    audit_service.record(
        db_session=db_session,
        kind="payments_imported",
        reasons=[statement.source],
        data={
            "credits": report.credits,
            "imported": report.imported,
            "matched": report.matched,
            "unmatched": report.unmatched,
            "already_imported": report.already_imported,
            "reversed": report.reversed,
            "amount_imported": str(report.amount_imported),
            "skipped": report.skipped,
        },
    )
    return report


def import_file(
    *, db_session: Session, path: str | Path, today: date, policy_book: PolicyBook | None = None
) -> PaymentsReport:
    """Import a statement file (camt.053 XML or CSV): all of it, once, or nothing."""
    statement = read_statement(Path(path))
    return import_statement(
        db_session=db_session,
        statement=statement,
        today=today,
        policy_book=policy_book or policies(),
    )


def get(*, db_session: Session, payment_id: int) -> Payment | None:
    """Get a payment by its id."""
    return db_session.get(Payment, payment_id)


def list_unmatched(*, db_session: Session) -> list[Payment]:
    """List the payments waiting for an agent, oldest booking first."""
    stmt = (
        select(Payment).where(Payment.state == "unmatched").order_by(Payment.booked_on, Payment.id)
    )
    return list(db_session.scalars(stmt))


def list_for_claim(*, db_session: Session, claim_reference: str) -> list[Payment]:
    """List the payments matched to a claim or allocated to it, newest booking first."""
    allocated = select(PaymentAllocation.payment_id).where(
        PaymentAllocation.claim_reference == claim_reference
    )
    stmt = (
        select(Payment)
        .where((Payment.claim_reference == claim_reference) | Payment.id.in_(allocated))
        .order_by(Payment.booked_on.desc(), Payment.id.desc())
    )
    return list(db_session.scalars(stmt))


def assign(
    *,
    db_session: Session,
    payment_id: int,
    claim_reference: str,
    agent_id: int | None,
    today: date,
    policy_book: PolicyBook | None = None,
) -> Payment:
    """Assign an unmatched payment to a claim (an agent's decision), allocate it, sweep."""
    payment = db_session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    if payment.state != "unmatched":
        raise Conflict(f"payment {payment_id} is {payment.state}, not unmatched")
    claim = db_session.get(Claim, claim_reference.strip())
    if claim is None:
        raise NotFound(f"claim {claim_reference} not found")
    if claim.currency != payment.currency:
        raise ValidationFailed(
            f"reference: claim {claim.reference} is in {claim.currency}, "
            f"the payment in {payment.currency}"
        )
    payment.claim_reference = claim.reference
    payment.state = "assigned"
    payment.assigned_by = agent_id
    db_session.flush()
    rows = apply(db_session=db_session, payment=payment, claim=claim)
    audit_service.record(
        db_session=db_session,
        kind="payment_assigned",
        claim_reference=claim.reference,
        reasons=["agent_assigned"],
        data={
            "payment_id": payment.id,
            "transaction_id": payment.transaction_id,
            "amount": str(payment.amount),
            "agent_id": agent_id,
            "previous_reason": payment.match_reason,
            "allocations": _allocations_data(rows),
            "unallocated": str(payment.unallocated),
        },
    )
    sweep(db_session=db_session, today=today, policies=policy_book or policies())
    return payment
