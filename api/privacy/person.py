"""Who a person is, and which records hold data about them.

A person is a debtor, named by their id or by the reference of one of their claims.
Their holdings are what the export shows and the erasure anonymises; one definition
serves both, so that what is handed out is exactly what is erased. A conversation is
theirs when it is linked to them by:

- `verified`: it verified them (its debtor, or a verified claim of theirs);
- `records`: a promise, dispute, handoff, privacy request or audit entry of one of
  their claims was made in it;
- `phone`: it is their WhatsApp address, or a call from their number;
- `content`: they wrote their own phone number or e-mail address in it.

A date of birth typed into a conversation that is linked by none of these cannot be
told apart from a stranger's with the same birthday, so it is not attributed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import api.db.models  # noqa: F401  (every mapper must be known before the first query)
from api.audit.models import AuditEvent
from api.channels.whatsapp.models import WhatsAppContact
from api.claims.models import Claim, Debtor
from api.conversations.models import Conversation, Message
from api.disputes.models import Dispute
from api.handoffs.models import Handoff
from api.privacy.errors import PersonNotFound, PersonNotNamed
from api.privacy.models import PrivacyRequest
from api.promises.models import Promise, PromiseClaim
from voice.models import VoiceCall

# Country codes whose national numbers start with a 0 in place of the code.
_TRUNK_ZERO_CODES = ("+49", "+43", "+41")


@dataclass(frozen=True)
class Holdings:
    """The records that hold data about one person."""

    debtor: Debtor
    claims: tuple[Claim, ...]
    # Conversation id -> how it is linked to the person (see the module docstring).
    conversations: dict[str, str]

    @property
    def references(self) -> tuple[str, ...]:
        """Return the references of the person's claims."""
        return tuple(claim.reference for claim in self.claims)


def find_person(
    *, db_session: Session, debtor_id: int | None = None, reference: str | None = None
) -> Debtor:
    """Get the debtor named by id or by one of their claims' references."""
    if (debtor_id is None) == (reference is None):
        raise PersonNotNamed("name the person by exactly one of debtor id and claim reference")
    if reference is not None:
        claim = db_session.get(Claim, reference.strip())
        if claim is None:
            raise PersonNotFound(f"no claim with reference {reference.strip()!r}")
        return claim.debtor
    debtor = db_session.get(Debtor, debtor_id)
    if debtor is None:
        raise PersonNotFound(f"no debtor with id {debtor_id}")
    return debtor


def phone_spellings(phone: str | None) -> tuple[str, ...]:
    """Return how a stored phone number may be written: E.164 and the national form."""
    if not phone:
        return ()
    national = [f"0{phone[3:]}" for code in _TRUNK_ZERO_CODES if phone.startswith(code)]
    return (phone, *national)


def holdings(*, db_session: Session, debtor: Debtor) -> Holdings:
    """Collect the person's claims and every conversation linked to them."""
    claims = tuple(
        db_session.scalars(
            select(Claim).where(Claim.debtor_id == debtor.id).order_by(Claim.reference)
        )
    )
    references = [claim.reference for claim in claims]
    linked: dict[str, str] = {}

    def add(how: str, ids: Iterable[str | None]) -> None:
        for conversation_id in ids:
            if conversation_id:
                linked.setdefault(conversation_id, how)

    add(
        "verified",
        db_session.scalars(
            select(Conversation.sender_id).where(
                or_(
                    Conversation.debtor_id == debtor.id,
                    Conversation.verified_claim_reference.in_(references),
                )
            )
        ),
    )
    add("records", _record_conversations(db_session, debtor, references))
    add("phone", _phone_conversations(db_session, debtor.phone))
    add("content", _content_conversations(db_session, debtor))
    return Holdings(debtor=debtor, claims=claims, conversations=linked)


def _record_conversations(
    db_session: Session, debtor: Debtor, references: list[str]
) -> list[str | None]:
    """Return the conversations in which records of the person's claims were made."""
    found: list[str | None] = []
    found += db_session.scalars(
        select(Promise.conversation_id)
        .join(PromiseClaim, PromiseClaim.promise_id == Promise.id)
        .where(PromiseClaim.claim_reference.in_(references))
    )
    found += db_session.scalars(
        select(Dispute.conversation_id).where(Dispute.claim_reference.in_(references))
    )
    found += db_session.scalars(
        select(Handoff.conversation_id).where(Handoff.claim_reference.in_(references))
    )
    found += db_session.scalars(
        select(PrivacyRequest.conversation_id).where(PrivacyRequest.debtor_id == debtor.id)
    )
    found += db_session.scalars(
        select(AuditEvent.conversation_id).where(AuditEvent.claim_reference.in_(references))
    )
    return found


def _phone_conversations(db_session: Session, phone: str | None) -> list[str]:
    """Return the WhatsApp conversation and the calls of the person's own number."""
    if not phone:
        return []
    address = f"whatsapp:{phone}"
    found = list(
        db_session.scalars(select(Conversation.sender_id).where(Conversation.sender_id == address))
    )
    found += db_session.scalars(
        select(WhatsAppContact.address).where(WhatsAppContact.address == address)
    )
    found += db_session.scalars(select(VoiceCall.conversation_id).where(VoiceCall.caller == phone))
    return found


def _content_conversations(db_session: Session, debtor: Debtor) -> list[str]:
    """Return conversations in which the debtor wrote their own phone number or e-mail."""
    needles = [*phone_spellings(debtor.phone)]
    if debtor.email:
        needles.append(debtor.email)
    if not needles:
        return []
    return list(
        db_session.scalars(
            select(Message.conversation_id)
            .where(Message.author == "debtor")
            .where(or_(*(Message.text.icontains(n, autoescape=True) for n in needles)))
            .distinct()
        )
    )
