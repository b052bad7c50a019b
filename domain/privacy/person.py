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

A conversation that verified another debtor is that debtor's, whatever links it to
this person: a household phone on this person's claim that is someone else's WhatsApp
number, or another debtor typing this person's phone or e-mail in their own chat. It
is neither exported nor erased with this person; `not_touched` names it, so that an
erasure plan can say so.

A date of birth typed into a conversation that is linked by none of these cannot be
told apart from a stranger's with the same birthday, so it is not attributed.

A payment is theirs when it is booked or allocated to one of their claims, when its
payer is their name (any case and spacing), or when its remittance text names one of
their claim references (as matching reads references): unmatched and misallocated
payments of theirs included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from domain.audit.models import AuditEvent
from domain.calls.models import VoiceCall
from domain.claims.models import Claim, Debtor
from domain.conversations.models import Conversation, Message
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff
from domain.payments.matching import MAX_JOINED_TOKENS, compact
from domain.payments.models import Payment, PaymentAllocation
from domain.privacy.errors import PersonNotFound, PersonNotNamed
from domain.privacy.models import PrivacyRequest
from domain.promises.models import Promise, PromiseClaim
from domain.whatsapp.models import WhatsAppContact

# Country codes whose national numbers start with a 0 in place of the code.
_TRUNK_ZERO_CODES = ("+49", "+43", "+41")
# Payments are read in batches of this many rows when looking for a payer's name.
_PAYMENT_BATCH: Final = 1000
# A remittance text's letter-and-digit tokens, as payment matching cuts them.
_REFERENCE_TOKEN: Final = re.compile(r"[A-Z0-9]+")
# Words of a name that SQL compares case-blind on SQLite too (ASCII letters only).
_PLAIN_WORD: Final = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Holdings:
    """The records that hold data about one person."""

    debtor: Debtor
    claims: tuple[Claim, ...]
    # Conversation id -> how it is linked to the person (see the module docstring).
    conversations: dict[str, str]
    # Conversations linked to the person that verified another debtor: left alone.
    not_touched: dict[str, str]
    # Ids of the person's payments (see the module docstring).
    payments: tuple[int, ...]

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
    """Collect the person's claims, their payments and every conversation linked to them."""
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
    owners = {
        conversation_id: owner
        for conversation_id, owner in db_session.execute(
            select(Conversation.sender_id, Conversation.debtor_id).where(
                Conversation.sender_id.in_(list(linked))
            )
        )
    }
    theirs = {cid: how for cid, how in linked.items() if owners.get(cid) in (None, debtor.id)}
    return Holdings(
        debtor=debtor,
        claims=claims,
        conversations=theirs,
        not_touched={cid: how for cid, how in linked.items() if cid not in theirs},
        payments=person_payments(db_session=db_session, debtor=debtor, references=references),
    )


def normalised_name(name: str | None) -> str:
    """Return a name as payers' names are compared: casefolded, single spaces."""
    return " ".join((name or "").split()).casefold()


def mentions_reference(text: str | None, keys: set[str]) -> bool:
    """Tell whether a text names one of the references `keys` (each `compact`ed).

    As payment matching reads a remittance: its letter-and-digit tokens, up to four
    neighbours joined ("priv a 1" names "PRIV-A-1"); only an exact reference counts.
    """
    if not text or not keys:
        return False
    tokens = _REFERENCE_TOKEN.findall(text.upper())
    for start in range(len(tokens)):
        joined = ""
        for token in tokens[start : start + MAX_JOINED_TOKENS]:
            joined += token
            if joined in keys:
                return True
    return False


def person_payments(
    *, db_session: Session, debtor: Debtor, references: list[str]
) -> tuple[int, ...]:
    """Return the ids of the person's payments (see the module docstring)."""
    allocated = select(PaymentAllocation.payment_id).where(
        PaymentAllocation.claim_reference.in_(references)
    )
    found = set(
        db_session.scalars(
            select(Payment.id).where(
                or_(Payment.claim_reference.in_(references), Payment.id.in_(allocated))
            )
        )
    )
    # A payer's name is compared casefolded with its spaces normalised, a remittance as
    # matching reads it: SQL cannot do either alike on SQLite and PostgreSQL, so the
    # candidates are read in batches and compared here.
    name = normalised_name(debtor.name)
    keys = {key for key in map(compact, references) if key}
    conditions: list[ColumnElement[bool]] = [Payment.remittance != ""]
    if name:
        conditions.append(Payment.payer.is_not(None))
    by_name: set[int] = set()
    rows = db_session.execute(
        select(Payment.id, Payment.payer, Payment.remittance)
        .where(or_(*conditions))
        .execution_options(yield_per=_PAYMENT_BATCH)
    )
    for payment_id, payer, remittance in rows:
        if payment_id in found:
            continue
        if mentions_reference(remittance, keys):
            found.add(payment_id)
        elif name and normalised_name(payer) == name:
            by_name.add(payment_id)
    # A namesake's own payment, booked to a claim of theirs, is not this person's.
    found |= {i for i in by_name if not _paid_by_its_debtor(db_session, i, name)}
    return tuple(sorted(found))


def _paid_by_its_debtor(db_session: Session, payment_id: int, name: str) -> bool:
    """Tell whether a payment is booked to a claim of a debtor with the payer's name."""
    allocated = select(PaymentAllocation.claim_reference).where(
        PaymentAllocation.payment_id == payment_id
    )
    booked = select(Payment.claim_reference).where(Payment.id == payment_id)
    owners = db_session.scalars(
        select(Debtor.name)
        .join(Claim, Claim.debtor_id == Debtor.id)
        .where(or_(Claim.reference.in_(allocated), Claim.reference.in_(booked)))
    )
    return any(normalised_name(owner) == name for owner in owners)


def paid_by_someone_else(db_session: Session, payment: Payment, holdings: Holdings) -> bool:
    """Tell whether a payment of the person's is also another person's record, as payer.

    So it is when its payer is not the person and it also pays another debtor's
    claims (a split payment), or another debtor bears the payer's name (a payment of
    theirs booked to this person's claim by mistake). The export leaves that payer's
    name and words out; the erasure leaves them to the payer.
    """
    payer = normalised_name(payment.payer)
    if not payer or payer == normalised_name(holdings.debtor.name):
        return False
    booked = {payment.claim_reference, *(a.claim_reference for a in payment.allocations)}
    if any(ref is not None and ref not in holdings.references for ref in booked):
        return True
    # Narrowed in SQL by the name's plain letters (case-blind on every backend), then
    # compared as names are.
    words = _PLAIN_WORD.findall(payment.payer or "")
    namesakes = db_session.scalars(
        select(Debtor.name)
        .where(Debtor.id != holdings.debtor.id)
        .where(*(Debtor.name.icontains(word, autoescape=True) for word in words))
    ).all()
    return any(normalised_name(name) == payer for name in namesakes)


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
