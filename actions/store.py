"""The action server's window on the data layer.

Actions see plain, detached views (no ORM objects escape a unit of work) and
call these coroutines; the blocking SQLAlchemy work runs in a worker thread so
the action server's event loop never waits on the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from actions.unit import run_unit as _run
from domain.audit import service as audit_service
from domain.claims import service as claims_service
from domain.claims.models import Claim
from domain.config import get_settings
from domain.conversations import service as conversations_service
from domain.disputes import service as disputes_service
from domain.handoffs import service as handoffs_service
from domain.paydetails import details as paydetails
from domain.paydetails.accounts import agency_account
from domain.paydetails.details import PaymentDetails
from domain.payments import ledger
from domain.privacy import erase as privacy_erasure
from domain.promises import service as promises_service
from domain.promises.models import Promise
from policy.decisions import Decision, Offer

T = TypeVar("T")


@dataclass(frozen=True)
class ClaimView:
    """What the dialogue may know about a claim (identity data stays out)."""

    reference: str
    creditor: str
    policy: str
    subject: str
    due_date: date
    currency: str
    principal: Decimal
    interest: Decimal
    fees: Decimal
    status: str
    has_open_dispute: bool
    debtor_id: int
    deferrals_used: int
    # What is still owed after payments (api.payments.ledger): offers are made on it.
    balance: Decimal

    @property
    def total(self) -> Decimal:
        """Return principal + interest + fees."""
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class BrokenPromises:
    """A claim whose latest promise broke (CONTRACT §4): how often, and what came of it."""

    reference: str
    # Broken promises on the claim, this one included (a promise over several claims
    # counts for each of them).
    count: int
    # The kind of the promise that broke last ("instalment_plan", "full", ...).
    kind: str
    # A `broken_promise` handoff about the claim since that promise was made.
    handed_off: bool


@dataclass(frozen=True)
class IdentityRecord:
    """The identity data of a claim's debtor, for matching only (never put in slots)."""

    reference: str
    debtor_id: int
    date_of_birth: date
    postcode: str


def _view(db_session: Session, claim: Claim) -> ClaimView:
    deferrals = sum(
        1
        for promise in promises_service.list_for_claim(
            db_session=db_session, claim_reference=claim.reference
        )
        if promise.kind == "deferral" and promise.status != "cancelled"
    )
    return ClaimView(
        reference=claim.reference,
        creditor=claim.creditor.name,
        policy=claim.creditor.policy,
        subject=claim.subject,
        due_date=claim.due_date,
        currency=claim.currency,
        principal=claim.principal,
        interest=claim.interest,
        fees=claim.fees,
        status=claim.status,
        has_open_dispute=disputes_service.has_open(
            db_session=db_session, claim_reference=claim.reference
        ),
        debtor_id=claim.debtor_id,
        deferrals_used=deferrals,
        balance=ledger.balance(db_session=db_session, claim=claim),
    )


async def identity_record(reference: str) -> IdentityRecord | None:
    """Return the identity data behind a claim reference, or None."""

    def work(db_session: Session) -> IdentityRecord | None:
        claim = claims_service.get_by_reference(db_session=db_session, reference=reference)
        if claim is None or privacy_erasure.erased_at(
            db_session=db_session, debtor_id=claim.debtor_id
        ):
            # An erased person's identity is gone: no answer can prove it any more.
            return None
        return IdentityRecord(
            reference=claim.reference,
            debtor_id=claim.debtor_id,
            date_of_birth=claim.debtor.date_of_birth,
            postcode=claim.debtor.postcode,
        )

    return await _run(work)


async def claims_of_debtor(debtor_id: int) -> list[ClaimView]:
    """Return every claim of a debtor, oldest due date first."""

    def work(db_session: Session) -> list[ClaimView]:
        claims = claims_service.list_for_debtor(db_session=db_session, debtor_id=debtor_id)
        return sorted(
            (_view(db_session, c) for c in claims), key=lambda v: (v.due_date, v.reference)
        )

    return await _run(work)


async def claims_by_reference(references: Sequence[str], *, debtor_id: int) -> list[ClaimView]:
    """Return the claims with these references that are the debtor's (others are skipped).

    A conversation sees only the claims of the debtor it verified, whatever references
    its slots hold: two people may share a name and a birthday, never their claims.
    """

    def work(db_session: Session) -> list[ClaimView]:
        views = []
        for reference in references:
            claim = claims_service.get_by_reference(db_session=db_session, reference=reference)
            if claim is not None and claim.debtor_id == debtor_id:
                views.append(_view(db_session, claim))
        return views

    return await _run(work)


async def broken_promises(references: Sequence[str]) -> list[BrokenPromises]:
    """Return the claims among these whose latest (not cancelled) promise is broken."""

    def work(db_session: Session) -> list[BrokenPromises]:
        found = []
        for reference in references:
            promises = [
                p
                for p in promises_service.list_for_claim(
                    db_session=db_session, claim_reference=reference
                )
                if p.status != "cancelled"
            ]  # newest first
            if not promises or promises[0].status != "broken":
                continue
            latest = promises[0]
            handed_off = any(
                h.reason == "broken_promise" and h.created_at >= latest.created_at
                for h in handoffs_service.list_for_claim(
                    db_session=db_session, claim_reference=reference
                )
            )
            count = sum(1 for p in promises if p.status == "broken")
            found.append(BrokenPromises(reference, count, latest.kind, handed_off))
        return found

    return await _run(work)


async def audit(
    kind: str,
    *,
    sender_id: str,
    claim_reference: str | None = None,
    decision: Decision | None = None,
    reasons: Sequence[str] = (),
    data: dict[str, Any] | None = None,
) -> None:
    """Append a dialogue decision to the audit log."""

    def work(db_session: Session) -> None:
        audit_service.record(
            db_session=db_session,
            kind=kind,
            conversation_id=sender_id,
            claim_reference=claim_reference,
            reasons=tuple(reasons) + (decision.reasons if decision else ()),
            policy_version=decision.policy_version if decision else None,
            data={**(data or {}), **({"decision": decision.to_audit()} if decision else {})},
        )

    await _run(work)


def _parts(promise: Promise) -> dict[str, dict[str, Any]]:
    """Return each claim's part of a promise (CONTRACT §3) for the audit log."""
    return {
        part.claim_reference: {
            "amount": str(part.amount),
            "discount": str(part.discount),
            "instalments": [
                str(share.amount)
                for instalment in promise.instalments
                for share in instalment.parts
                if share.claim_reference == part.claim_reference
            ],
        }
        for part in promise.parts
    }


async def record_promise(
    *,
    sender_id: str,
    channel: str,
    references: Sequence[str],
    offer: Offer,
    policy_version: str,
    idempotency_key: str,
) -> int:
    """Record an accepted offer as a pending promise (once per key) and audit it.

    Over several claims the promise is split into each claim's part when it is stored
    (api.promises.service.create); the audit event carries those parts too.
    """

    def work(db_session: Session) -> int:
        promise = promises_service.create(
            db_session=db_session,
            claim_references=list(references),
            kind=offer.kind,
            amount=offer.amount,
            discount=offer.discount,
            due_date=offer.due_date,
            instalments=[(i.number, i.amount, i.due_date) for i in offer.instalments],
            channel=channel,
            conversation_id=sender_id,
            policy_version=policy_version,
            idempotency_key=idempotency_key,
        )
        audit_service.record(
            db_session=db_session,
            kind="promise_recorded",
            conversation_id=sender_id,
            claim_reference=references[0] if references else None,
            reasons=("plan_accepted",),
            policy_version=policy_version,
            data={
                "promise_id": promise.id,
                "claims": list(references),
                "offer": offer.to_audit(),
                "parts": _parts(promise),
            },
        )
        return promise.id

    return await _run(work)


async def payment_details(promise_id: int) -> PaymentDetails | None:
    """Return what the debtor pays to which account for a recorded promise (Pay now)."""
    agency = agency_account(get_settings())
    return await _run(
        lambda s: paydetails.for_promise(db_session=s, promise_id=promise_id, agency=agency)
    )


def _disputed_in(db_session: Session, claim_reference: str, conversation_id: str) -> bool:
    """Tell whether this conversation already has an open dispute against the claim.

    A turn replayed after a crash (or retried by the gateway) must not record its
    dispute twice; one open dispute per claim and conversation is the rule.
    """
    return any(
        d.conversation_id == conversation_id and d.status == "open"
        for d in disputes_service.list_for_claim(
            db_session=db_session, claim_reference=claim_reference
        )
    )


async def open_handoff(
    *,
    sender_id: str,
    channel: str,
    reason: str,
    language: str,
    claim_reference: str | None,
    dispute_text: str | None = None,
    statement: dict[str, Any] | None = None,
) -> int:
    """Record a dispute (when given) and hand the conversation to a human, audited.

    A statement for the agent (the affordability check's) goes on the handoff only, never
    into the audit log: the audit entry says that one is attached, not what it holds.
    """

    def work(db_session: Session) -> int:
        conversations_service.get_or_create(
            db_session=db_session, sender_id=sender_id, channel=channel
        )
        if (
            dispute_text is not None
            and claim_reference is not None
            and not _disputed_in(db_session, claim_reference, sender_id)
        ):
            disputes_service.create(
                db_session=db_session,
                claim_reference=claim_reference,
                conversation_id=sender_id,
                reason_text=dispute_text[:2000],
            )
        handoff = handoffs_service.open_handoff(
            db_session=db_session,
            conversation_id=sender_id,
            channel=channel,
            reason=reason,
            claim_reference=claim_reference,
            language=language,
            statement=statement,
        )
        audit_service.record(
            db_session=db_session,
            kind="handoff",
            conversation_id=sender_id,
            claim_reference=claim_reference,
            reasons=(reason,),
            data={"handoff_id": handoff.id, **({"statement": True} if statement else {})},
        )
        return handoff.id

    return await _run(work)
