"""A claimed reminder decided: the message to send on which channel, or why not.

`prepare` reads what the rules need (the debtor's conversations and channels, any
dispute, insolvency, agent or opt-out), lets `policy.reminders` decide, and renders
the reminder for its channel; `outbox` claims the row before and records the outcome
after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from api.reminders import optout, outbox, texts
from api.reminders.channels import Email, Outgoing, Senders, Sms, WhatsAppTemplate
from domain.claims.models import Claim, Debtor
from domain.config import Settings
from domain.conversations.models import Conversation
from domain.db.columns import utcnow
from domain.disputes.models import Dispute
from domain.handoffs.models import ACTIVE_STATES, Handoff
from domain.paydetails import links
from domain.paydetails.accounts import agency_account
from domain.paydetails.details import for_promise
from domain.promises.models import Instalment, Promise
from domain.reminders.models import Reminder, ReminderOptOut
from domain.whatsapp import service as whatsapp_service
from domain.whatsapp import suppression
from domain.whatsapp.models import WhatsAppContact
from policy import reminders as rules
from policy.config import PolicyBook

_E164: Final = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class _Debtor:
    """What the outbox reads about a debtor: their conversations and reachable channels."""

    debtor: Debtor
    conversations: list[Conversation]
    language: str
    last_used: str | None
    whatsapp: WhatsAppContact | None


def _debtor(db_session: Session, debtor: Debtor, promise: Promise) -> _Debtor:
    """Gather the debtor's conversations (theirs, and the promise's own) and channels."""
    conditions = [Conversation.debtor_id == debtor.id]
    if promise.conversation_id:
        conditions.append(Conversation.sender_id == promise.conversation_id)
    conversations = list(db_session.scalars(select(Conversation).where(or_(*conditions))))
    conversations.sort(key=lambda c: (c.last_message_at or c.created_at, c.sender_id), reverse=True)
    latest = conversations[0] if conversations else None
    # WhatsApp only where this debtor passed the identity check: whoever holds that phone
    # has shown who they are, so a template naming the amount reaches the right person.
    verified = [
        c
        for c in conversations
        if c.channel == whatsapp_service.CHANNEL and c.debtor_id == debtor.id
    ]
    contact = None
    for conversation in verified:
        contact = whatsapp_service.get_contact(
            db_session=db_session, address=conversation.sender_id
        )
        if contact is not None:
            break
    return _Debtor(
        debtor=debtor,
        conversations=conversations,
        language=latest.language if latest else debtor.language,
        last_used=latest.channel if latest else None,
        whatsapp=contact,
    )


def _opted_out(db_session: Session, who: _Debtor) -> bool:
    """Tell whether the debtor opted out anywhere: a reminder opt-out, or WhatsApp's STOP."""
    if db_session.get(ReminderOptOut, who.debtor.id) is not None:
        return True
    addresses = {c.sender_id for c in who.conversations if c.channel == whatsapp_service.CHANNEL}
    if who.debtor.phone:
        addresses.add(f"{whatsapp_service.CHANNEL}:{who.debtor.phone}")
    if not addresses:
        return False
    if any(suppression.opted_out_at(db_session=db_session, address=a) for a in addresses):
        # A STOP said before an erasure outlives it (domain/whatsapp/suppression.py).
        return True
    return bool(
        db_session.scalar(
            select(
                exists().where(
                    WhatsAppContact.address.in_(addresses),
                    WhatsAppContact.opted_out_at.is_not(None),
                )
            )
        )
    )


def _facts(
    db_session: Session, reminder: Reminder, promise: Promise, claims: list[Claim], who: _Debtor
) -> rules.Facts:
    """Read what the rules need at this moment."""
    references = [claim.reference for claim in claims]
    instalment = (
        db_session.get(Instalment, reminder.instalment_id) if reminder.instalment_id else None
    )
    conversation_ids = [c.sender_id for c in who.conversations]
    insolvency = db_session.scalar(
        select(exists().where(Claim.debtor_id == who.debtor.id, Claim.status == "insolvency"))
    )
    dispute = db_session.scalar(
        select(exists().where(Dispute.claim_reference.in_(references), Dispute.status == "open"))
    )
    held = db_session.scalar(
        select(
            exists().where(
                Handoff.state.in_(ACTIVE_STATES),
                or_(
                    Handoff.claim_reference.in_(references),
                    Handoff.conversation_id.in_(conversation_ids),
                ),
            )
        )
    ) or any(c.state in ACTIVE_STATES for c in who.conversations)
    return rules.Facts(
        payment_status=instalment.status if instalment is not None else promise.status,
        promise_status=promise.status,
        claim_statuses=tuple(claim.status for claim in claims),
        debtor_in_insolvency=bool(insolvency),
        open_dispute=bool(dispute),
        opted_out=_opted_out(db_session, who),
        held_by_agent=bool(held),
    )


def _reachable(who: _Debtor, senders: Senders) -> set[str]:
    """Return the channels this debtor can get a reminder on now."""
    found = set()
    contact = who.whatsapp
    if senders.whatsapp_ready and contact is not None and contact.opted_out_at is None:
        found.add(rules.WHATSAPP)
    if senders.sms_ready and _E164.match(who.debtor.phone or ""):
        found.add(rules.SMS)
    if senders.email_ready and _EMAIL.match(who.debtor.email or ""):
        found.add(rules.EMAIL)
    return found


def _content(
    db_session: Session,
    reminder: Reminder,
    promise: Promise,
    who: _Debtor,
    settings: Settings,
    *,
    email: bool,
) -> texts.Content:
    """Gather what the reminder says: the payment, whom to pay, the links."""
    details = for_promise(
        db_session=db_session, promise_id=promise.id, agency=agency_account(settings)
    )
    index = (reminder.instalment_number or 0) - 1
    instalment = promise.instalments[index] if reminder.instalment_number else None
    payees = []
    for block in details.blocks if details else ():
        part = block.instalments[index] if instalment is not None else block.first_amount
        if part > 0:
            payees.append(
                texts.Payee(
                    holder=block.account.holder,
                    iban=block.account.iban,
                    bic=block.account.bic,
                    amount=part,
                    reference=block.remittance,
                )
            )
    agreement = unsubscribe = None
    if email:
        token = links.make_token(
            links.link_key(settings),
            links.Link(
                purpose="agreement",
                promise_id=promise.id,
                language=who.language,
                block=0,
                expires=links.expiry(settings, utcnow()),
            ),
        )
        agreement = links.agreement_url(settings, token, "html")
        unsubscribe = optout.unsubscribe_url(settings, who.debtor.id)
    return texts.Content(
        kind=reminder.kind,
        language=who.language,
        instalment=reminder.instalment_number,
        amount=instalment.amount if instalment is not None else promise.amount,
        currency=details.currency if details else "EUR",
        due_date=reminder.payment_due_date,
        payees=tuple(payees),
        references=tuple(promise.claim_references),
        sender=settings.data_controller,
        chat_url=settings.public_url.rstrip("/") + "/",
        agreement_url=agreement,
        unsubscribe_url=unsubscribe,
    )


def _message(
    channel: str, content: texts.Content, who: _Debtor, settings: Settings, creditor_id: str
) -> Outgoing:
    """Render the reminder for its channel."""
    if channel == rules.WHATSAPP:
        assert who.whatsapp is not None
        catalogue = texts.catalogue(settings.reminder_templates_file)
        rendered = texts.whatsapp(catalogue, content, creditor_id=creditor_id)
        return WhatsAppTemplate(
            from_=who.whatsapp.our_address, to=who.whatsapp.address, rendered=rendered
        )
    if channel == rules.SMS:
        return Sms(to=str(who.debtor.phone), body=texts.sms(content))
    subject, body = texts.email(content)
    return Email(
        to=str(who.debtor.email),
        subject=subject,
        body=body,
        language=content.language,
        unsubscribe_url=content.unsubscribe_url,
    )


def prepare(
    *,
    db_session: Session,
    reminder_id: int,
    token: str,
    now: datetime,
    settings: Settings,
    policies: PolicyBook,
    senders: Senders,
) -> outbox.Prepared | str:
    """Decide a claimed reminder: return the message to send, or what was done instead.

    What was done instead is "skipped" or "deferred" (settled in this transaction).
    A reminder to send has `send_started_at` set: commit before sending.
    """
    reminder = db_session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None or reminder.state != "sending" or reminder.claimed_by != token:
        return "lost"  # recovered by another sweeper after the lease
    promise = db_session.get(Promise, reminder.promise_id)
    debtor = db_session.get(Debtor, reminder.debtor_id)
    claims = list(promise.claims) if promise is not None else []
    if promise is None or debtor is None or not claims:
        outbox.finish(
            db_session, reminder, "skipped", "reminder_skipped", ["promise_gone"], policies
        )
        return "skipped"
    who = _debtor(db_session, debtor, promise)
    facts = _facts(db_session, reminder, promise, claims, who)
    planned = rules.Reminder(
        kind=reminder.kind,
        promise_id=promise.id,
        instalment=reminder.instalment_number,
        due_date=reminder.payment_due_date,
        planned_for=reminder.due_at,
    )
    decision = rules.decide(
        planned, facts, now=now, policies=outbox.creditor_policies(policies, claims)
    )
    if decision.action == "skip":
        outbox.finish(
            db_session, reminder, "skipped", "reminder_skipped", decision.reasons, policies
        )
        return "skipped"
    if decision.action == "defer":
        outbox.release(reminder)
        reminder.reasons = list(decision.reasons)
        reminder.next_attempt_at = decision.not_before or now + outbox.HOLD_RECHECK
        return "deferred"
    channel = rules.choose_channel(last_used=who.last_used, reachable=_reachable(who, senders))
    if channel is None:
        outbox.finish(
            db_session, reminder, "skipped", "reminder_skipped", [rules.NO_CHANNEL], policies
        )
        return "skipped"
    content = _content(db_session, reminder, promise, who, settings, email=channel == rules.EMAIL)
    message = _message(channel, content, who, settings, claims[0].creditor_id)
    reminder.channel = channel
    reminder.reasons = list(decision.reasons)
    reminder.send_started_at = utcnow()
    return outbox.Prepared(reminder_id=reminder.id, channel=channel, message=message)
