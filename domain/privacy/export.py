"""Everything Quitt holds about one person, as one JSON document (GDPR Art. 15).

Rows are written with every stored column (a column added later appears without a
change here), money as decimal strings, times in ISO 8601 UTC. Agents' identities
are left out: an agent's id is data about the agent, not about the person. So is
what a payment says about someone else: only this person's allocations are shown, the
claim it was booked to only if it is theirs, and its payer and remittance text not
when they are another person's (`person.paid_by_someone_else`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from domain.audit.models import AuditEvent
from domain.calls.models import VoiceCall
from domain.config import get_settings
from domain.conversations.models import Conversation, Message
from domain.db.columns import utcnow
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff, HandoffNote
from domain.payments.models import Payment
from domain.privacy.models import PrivacyErasure, PrivacyRequest
from domain.privacy.person import Holdings, paid_by_someone_else
from domain.promises.models import Promise, PromiseClaim
from domain.whatsapp.models import Attachment, WhatsAppContact

FORMAT: Final = "quitt-privacy-export/1"
# Columns that identify agents, never the person.
_AGENT_COLUMNS: Final = frozenset(
    {"agent_id", "assigned_agent_id", "closed_by_agent_id", "assigned_by"}
)


def plain(value: Any) -> Any:
    """Return a value as JSON can hold it: money as text, dates in ISO 8601."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row(record: Any, *, without: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Return every stored column of an ORM row, agents' ids left out."""
    columns = inspect(record).mapper.column_attrs
    skipped = without | _AGENT_COLUMNS
    return {c.key: plain(getattr(record, c.key)) for c in columns if c.key not in skipped}


def export_person(*, db_session: Session, holdings: Holdings) -> dict[str, Any]:
    """Build the export of one person's data."""
    settings = get_settings()
    debtor = holdings.debtor
    references = list(holdings.references)
    conversation_ids = list(holdings.conversations)
    erasure = db_session.scalar(select(PrivacyErasure).where(PrivacyErasure.debtor_id == debtor.id))
    return {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "controller": {"name": settings.data_controller, "privacy_url": settings.privacy_url},
        "debtor": row(debtor),
        "erasure": row(erasure, without=frozenset({"actor"})) if erasure else None,
        "claims": [_claim(claim) for claim in holdings.claims],
        "promises": _promises(db_session, references),
        "payments": _payments(db_session, holdings),
        "disputes": [
            row(d)
            for d in db_session.scalars(
                select(Dispute).where(Dispute.claim_reference.in_(references)).order_by(Dispute.id)
            )
        ],
        "handoffs": _handoffs(db_session, references, conversation_ids),
        "conversations": [
            _conversation(db_session, conversation_id, how)
            for conversation_id, how in sorted(holdings.conversations.items())
        ],
        "privacy_requests": [
            row(r)
            for r in db_session.scalars(
                select(PrivacyRequest)
                .where(
                    or_(
                        PrivacyRequest.debtor_id == debtor.id,
                        PrivacyRequest.conversation_id.in_(conversation_ids),
                    )
                )
                .order_by(PrivacyRequest.id)
            )
        ],
        "audit_events": [
            _audit(e)
            for e in db_session.scalars(
                select(AuditEvent)
                .where(
                    or_(
                        AuditEvent.claim_reference.in_(references),
                        AuditEvent.conversation_id.in_(conversation_ids),
                    )
                )
                .order_by(AuditEvent.id)
            )
        ],
    }


def _claim(claim: Any) -> dict[str, Any]:
    """Return a claim with its creditor and total; principal, interest and fees apart."""
    return {
        **row(claim),
        "total": plain(claim.total),
        "creditor": {"id": claim.creditor.id, "name": claim.creditor.name},
    }


def _audit(event: AuditEvent) -> dict[str, Any]:
    """Return an audit entry, the acting agent's id left out of its data."""
    entry = row(event)
    if isinstance(entry.get("data"), dict):
        entry["data"] = {k: v for k, v in entry["data"].items() if k not in _AGENT_COLUMNS}
    return entry


def _promises(db_session: Session, references: list[str]) -> list[dict[str, Any]]:
    """Return the promises over the person's claims, each claim's part and the instalments."""
    promises = db_session.scalars(
        select(Promise)
        .where(
            Promise.id.in_(
                select(PromiseClaim.promise_id).where(PromiseClaim.claim_reference.in_(references))
            )
        )
        .order_by(Promise.id)
    )
    return [
        {
            **row(promise),
            "parts": [row(part) for part in promise.parts],
            "instalments": [
                {**row(instalment), "parts": [row(share) for share in instalment.parts]}
                for instalment in promise.instalments
            ],
        }
        for promise in promises
    ]


def _payments(db_session: Session, holdings: Holdings) -> list[dict[str, Any]]:
    """Return the person's payments (booked, misallocated or unmatched), with what they paid.

    `candidates` (the claims matching weighed, perhaps other people's) is left out.
    """
    references = set(holdings.references)
    payments = db_session.scalars(
        select(Payment)
        .where(Payment.id.in_(holdings.payments))
        .order_by(Payment.booked_on, Payment.id)
    ).all()
    found = []
    for payment in payments:
        entry = {
            **row(payment, without=frozenset({"candidates"})),
            "allocations": [
                row(allocation)
                for allocation in payment.allocations
                if allocation.claim_reference in references
            ],
        }
        booked = [payment.claim_reference, *(a.claim_reference for a in payment.allocations)]
        # It paid someone else's claim (too): which one, and a stranger's words, are theirs.
        entry["paid_other_claims"] = any(ref and ref not in references for ref in booked)
        if payment.claim_reference not in references:
            entry["claim_reference"] = None
        if paid_by_someone_else(db_session, payment, holdings):
            entry["payer"] = None
            entry["remittance"] = None
        found.append(entry)
    return found


def _handoffs(
    db_session: Session, references: list[str], conversation_ids: list[str]
) -> list[dict[str, Any]]:
    """Return the handoffs of the person's claims and conversations, with agents' notes."""
    handoffs = db_session.scalars(
        select(Handoff)
        .where(
            or_(
                Handoff.claim_reference.in_(references),
                Handoff.conversation_id.in_(conversation_ids),
            )
        )
        .order_by(Handoff.id)
    )
    return [
        {
            **row(handoff),
            "notes": [
                row(note)
                for note in db_session.scalars(
                    select(HandoffNote)
                    .where(HandoffNote.handoff_id == handoff.id)
                    .order_by(HandoffNote.id)
                )
            ],
        }
        for handoff in handoffs
    ]


def _conversation(db_session: Session, conversation_id: str, how: str) -> dict[str, Any]:
    """Return one conversation: its state, transcript, attachments, calls and contact."""
    conversation = db_session.get(Conversation, conversation_id)
    contact = db_session.get(WhatsAppContact, conversation_id)
    messages = db_session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
    )
    attachments = db_session.scalars(
        select(Attachment)
        .where(Attachment.conversation_id == conversation_id)
        .order_by(Attachment.id)
    )
    calls = db_session.scalars(
        select(VoiceCall)
        .where(VoiceCall.conversation_id == conversation_id)
        .order_by(VoiceCall.created_at)
    )
    return {
        "id": conversation_id,
        "linked_by": how,
        **(row(conversation, without=frozenset({"sender_id"})) if conversation else {}),
        "messages": [row(m, without=frozenset({"conversation_id"})) for m in messages],
        "attachments": [row(a, without=frozenset({"conversation_id"})) for a in attachments],
        # The TwiML answer is the bot's opening, in the transcript already.
        "voice_calls": [row(c, without=frozenset({"conversation_id", "answer"})) for c in calls],
        # Debtor hints name other debtors whose number matched: not this person's data.
        "whatsapp_contact": (
            row(contact, without=frozenset({"options", "debtor_hint_ids"})) if contact else None
        ),
    }
