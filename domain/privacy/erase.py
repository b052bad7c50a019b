"""Erase a person (GDPR Art. 17): anonymise what may go, pseudonymise what must stay.

What goes: the debtor's name, date of birth, postcode, phone, e-mail and creditor id;
every transcript linked to them (messages, attachment transcripts, dispute texts,
agents' notes and outcomes); their WhatsApp contact (an opt-out stays behind as a
keyed hash of the number, `suppression`); Rasa's copy of each conversation.
What stays, under a pseudonym (`erased:<token>`, conversations `erased:<token>:<n>`):
the claims (principal, interest, fees, status), promises with their parts and
instalments, their payments, booked or not (the payer's name and remittance text go)
and the audit log, as accounting records and the proof of what was decided. Their
amounts are untouched, so every creditor's books still add up.

A conversation that verified another debtor is never renamed or anonymised, even when
it is linked to this person (`Holdings.not_touched`; the plan lists it). A payment
that is also another person's record as its payer (a split payment, or theirs booked
here by mistake) keeps that payer's name; only this person's identity is scrubbed from
its remittance text.

An erasure is refused while any of the person's claims is not paid or a person holds
one of their conversations (the data is still needed to collect, or to answer them:
Art. 17(3)(e)); `force` erases anyway and says so in the audit log.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from sqlalchemy import null, or_, select, update
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.calls.models import VoiceCall
from domain.conversations.models import Message
from domain.disputes.models import Dispute
from domain.handoffs.models import ACTIVE_STATES, Handoff, HandoffNote
from domain.payments.matching import compact
from domain.payments.models import Payment
from domain.privacy import anonymise, tracker
from domain.privacy.errors import ErasureRefused
from domain.privacy.models import PrivacyErasure, PrivacyRequest
from domain.privacy.person import (
    Holdings,
    mentions_reference,
    paid_by_someone_else,
    phone_spellings,
)
from domain.promises.models import Promise, PromiseClaim

# The column is NOT NULL; no plausible birth date is stored for an erased person.
ERASED_DATE_OF_BIRTH: Final = date(1, 1, 1)
AUDIT_KIND: Final = "privacy_erased"


@dataclass(frozen=True)
class ErasurePlan:
    """What an erasure of one person touches, before anything is changed."""

    debtor_id: int
    claims: tuple[str, ...]
    conversations: tuple[str, ...]
    messages: int
    blockers: tuple[str, ...]
    already_erased_at: datetime | None
    # Linked to the person, but another debtor's: neither renamed nor anonymised.
    not_touched: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did."""

    debtor_id: int
    pseudonym: str
    forced: bool
    blockers: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)


def erased_at(*, db_session: Session, debtor_id: int) -> datetime | None:
    """Return when a debtor was erased, or None."""
    return db_session.scalar(
        select(PrivacyErasure.erased_at).where(PrivacyErasure.debtor_id == debtor_id)
    )


def plan(*, db_session: Session, holdings: Holdings) -> ErasurePlan:
    """Say what an erasure would touch and what stands in its way."""
    blockers = [
        f"claim {claim.reference} is {claim.status}, not paid"
        for claim in holdings.claims
        if claim.status != "paid"
    ]
    conversation_ids = list(holdings.conversations)
    active = db_session.scalars(
        select(Handoff)
        .where(
            or_(
                Handoff.conversation_id.in_(conversation_ids),
                Handoff.claim_reference.in_(holdings.references),
            )
        )
        .where(Handoff.state.in_(ACTIVE_STATES))
        .order_by(Handoff.id)
    )
    blockers += [f"handoff {h.id} is {h.state}: a person is handling it" for h in active]
    messages = len(
        db_session.scalars(
            select(Message.id)
            .where(Message.conversation_id.in_(conversation_ids))
            .where(Message.text != anonymise.ANONYMISED_TEXT)
        ).all()
    )
    return ErasurePlan(
        debtor_id=holdings.debtor.id,
        claims=holdings.references,
        conversations=tuple(sorted(conversation_ids)),
        messages=messages,
        blockers=tuple(blockers),
        already_erased_at=erased_at(db_session=db_session, debtor_id=holdings.debtor.id),
        not_touched=tuple(sorted(holdings.not_touched)),
    )


def erase_person(
    *,
    db_session: Session,
    holdings: Holdings,
    actor: str,
    now: datetime,
    force: bool = False,
) -> ErasureReport:
    """Erase one person's data; refuse (ErasureRefused) while it is still needed."""
    debtor = holdings.debtor
    planned = plan(db_session=db_session, holdings=holdings)
    if planned.already_erased_at is not None:
        raise ErasureRefused(
            f"debtor {debtor.id} was erased on {planned.already_erased_at:%Y-%m-%d}",
            [f"debtor {debtor.id} holds no personal data any more"],
        )
    if planned.blockers and not force:
        raise ErasureRefused(
            f"debtor {debtor.id} cannot be erased yet (--force erases anyway)",
            planned.blockers,
        )
    pseudonym = f"erased:{secrets.token_hex(6)}"
    needles = _identity_needles(holdings)
    # (update, not +=: a Counter sum drops the zeros the report should show)
    counts: Counter[str] = Counter(dict.fromkeys(("messages", "audit_events"), 0))
    for number, old_id in enumerate(planned.conversations, start=1):
        if old_id.startswith(anonymise.PSEUDONYM_PREFIX):
            # Pseudonymised with someone erased before: the audit log keeps that name.
            counts.update(
                anonymise.anonymise_transcript(
                    db_session=db_session, conversation_id=old_id, now=now
                )
            )
            continue
        new_id = f"{pseudonym}:{number}"
        anonymise.rename_conversation(db_session=db_session, old_id=old_id, new_id=new_id)
        counts.update(
            anonymise.anonymise_transcript(db_session=db_session, conversation_id=new_id, now=now)
        )
        counts["audit_events"] += anonymise.pseudonymise_audit(
            db_session=db_session, old_id=old_id, new_id=new_id, needles=needles
        )
    counts["conversations"] = len(planned.conversations)
    if planned.not_touched:
        counts["conversations_not_touched"] = len(planned.not_touched)
    counts["tracker_events"] = tracker.forget(
        db_session=db_session, sender_ids=planned.conversations
    )
    counts.update(_erase_claim_records(db_session, holdings, pseudonym))
    counts.update(_pseudonymise_payments(db_session, holdings, pseudonym, needles))
    debtor.name = pseudonym
    debtor.date_of_birth = ERASED_DATE_OF_BIRTH
    debtor.postcode = ""
    debtor.phone = None
    debtor.email = None
    debtor.external_id = None
    _close_requests(db_session, holdings, pseudonym, now)
    report = ErasureReport(
        debtor_id=debtor.id,
        pseudonym=pseudonym,
        forced=bool(planned.blockers),
        blockers=planned.blockers,
        counts={key: value for key, value in sorted(counts.items())},
    )
    db_session.add(
        PrivacyErasure(
            debtor_id=debtor.id,
            pseudonym=pseudonym,
            erased_at=now,
            forced=report.forced,
            actor=actor,
            counts=report.counts,
        )
    )
    audit_service.record(
        db_session=db_session,
        kind=AUDIT_KIND,
        reasons=("art17_erasure", *(("forced",) if report.forced else ())),
        data={
            "debtor_id": debtor.id,
            "pseudonym": pseudonym,
            "actor": actor,
            "claims": list(holdings.references),
            "blockers": list(planned.blockers),
            "counts": report.counts,
        },
    )
    db_session.flush()
    db_session.expire_all()
    return report


def _identity_needles(holdings: Holdings) -> list[str]:
    """Return how the person's identity data may be written in the audit log's data."""
    debtor = holdings.debtor
    born = debtor.date_of_birth
    needles = [debtor.name, *phone_spellings(debtor.phone), debtor.email or ""]
    if born != ERASED_DATE_OF_BIRTH:
        needles += [born.isoformat(), f"{born:%d.%m.%Y}"]
    return [n for n in needles if n]


def _erase_claim_records(db_session: Session, holdings: Holdings, pseudonym: str) -> Counter[str]:
    """Blank the texts on the person's claims and conversations from them or an agent."""
    references = list(holdings.references)
    counts: Counter[str] = Counter()
    result = db_session.execute(
        update(Dispute)
        .where(Dispute.claim_reference.in_(references))
        .where(Dispute.reason_text != anonymise.ANONYMISED_TEXT)
        .values(reason_text=anonymise.ANONYMISED_TEXT),
        execution_options={"synchronize_session": False},
    )
    counts["disputes"] += int(getattr(result, "rowcount", 0) or 0)
    handoff_ids = list(
        db_session.scalars(
            select(Handoff.id).where(
                or_(
                    Handoff.claim_reference.in_(references),
                    Handoff.conversation_id.like(f"{pseudonym}:%"),
                )
            )
        )
    )
    db_session.execute(
        update(Handoff).where(Handoff.id.in_(handoff_ids)).values(outcome=None, statement=null()),
        execution_options={"synchronize_session": False},
    )
    result = db_session.execute(
        update(HandoffNote)
        .where(HandoffNote.handoff_id.in_(handoff_ids))
        .where(HandoffNote.text != anonymise.ANONYMISED_TEXT)
        .values(text=anonymise.ANONYMISED_TEXT),
        execution_options={"synchronize_session": False},
    )
    counts["notes"] += int(getattr(result, "rowcount", 0) or 0)
    # The caller's number is contact data; the call itself stays (when, how long).
    db_session.execute(
        update(VoiceCall).where(VoiceCall.conversation_id.like(f"{pseudonym}:%")).values(caller=""),
        execution_options={"synchronize_session": False},
    )
    # The key hashes the conversation id with the offer; it served only against repeats.
    db_session.execute(
        update(Promise)
        .where(
            Promise.id.in_(
                select(PromiseClaim.promise_id).where(PromiseClaim.claim_reference.in_(references))
            )
        )
        .values(idempotency_key=None),
        execution_options={"synchronize_session": False},
    )
    return counts


def _pseudonymise_payments(
    db_session: Session, holdings: Holdings, pseudonym: str, needles: list[str]
) -> Counter[str]:
    """Pseudonymise the person's payments, booked, misallocated or unmatched.

    A payment stays as it was booked, under the pseudonym: the payer's name goes, and
    the remittance text keeps only the references it was booked to (an unmatched one:
    the person's references it named, so that an agent can still book it). A payment
    whose payer is someone else with a record of their own in it (it also pays their
    claims, or it is theirs, misallocated: `person.paid_by_someone_else`) keeps the
    payer's name, and only this person's identity is scrubbed from its remittance.
    """
    counts: Counter[str] = Counter()
    payments = db_session.scalars(select(Payment).where(Payment.id.in_(holdings.payments))).all()
    for payment in payments:
        if paid_by_someone_else(db_session, payment, holdings):
            payment.remittance = anonymise.scrubbed_text(payment.remittance, needles)
            counts["payments_of_others"] += 1
            continue
        booked = [payment.claim_reference, *(a.claim_reference for a in payment.allocations)]
        booked_to = list(dict.fromkeys(ref for ref in booked if ref))
        if not booked_to:
            booked_to = [
                ref
                for ref in holdings.references
                if mentions_reference(payment.remittance, {compact(ref)})
            ]
        payment.payer = pseudonym if payment.payer else None
        payment.remittance = " ".join(booked_to)
        counts["payments"] += 1
    return counts


def _close_requests(db_session: Session, holdings: Holdings, pseudonym: str, now: datetime) -> None:
    """Mark the person's open erasure requests done."""
    db_session.execute(
        update(PrivacyRequest)
        .where(
            or_(
                PrivacyRequest.debtor_id == holdings.debtor.id,
                PrivacyRequest.conversation_id.like(f"{pseudonym}:%"),
            )
        )
        .where(PrivacyRequest.kind == "erasure", PrivacyRequest.status == "open")
        .values(status="done", closed_at=now),
        execution_options={"synchronize_session": False},
    )
