"""The reminders outbox: plan rows from promises, claim them, decide, record what happened.

Plain functions on an explicit session; `sweeper.py` runs each in its own short
transaction in a worker thread and does the sending in between.

Several sweepers (gateway processes, `quitt reminders run`) share the table safely:

1. `plan` inserts the reminders whose moment has come, once per key (INSERT … ON
   CONFLICT DO NOTHING: two planners cannot both add one).
2. `claim` takes a batch of due pending rows and marks them `sending` with the
   sweeper's token. On PostgreSQL the rows are selected `FOR UPDATE SKIP LOCKED`,
   so concurrent sweepers take different rows without waiting; on SQLite the unit
   of work holds the write lock (BEGIN IMMEDIATE) and the UPDATE's own
   `state = 'pending'` condition makes the claim atomic.
3. `prepare` decides (policy.reminders) and either settles the row (skipped, or
   back to pending until a later moment) or renders the message and notes
   `send_started_at` — committed before the message leaves.
4. `record` writes the outcome (sent with the provider's id, or failed, or pending
   again for a retry that is safe) and its audit entries in one transaction.

At most once: a sweeper that dies between 3 and 4 leaves a `sending` row with
`send_started_at`; `recover` marks it failed (`outcome_unknown`) after the lease
instead of sending it again. A row claimed but never started goes back to pending.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from api.reminders import optout, texts
from api.reminders.channels import Email, Outgoing, SendError, Senders, Sms, WhatsAppTemplate
from domain.audit import service as audit_service
from domain.claims.models import Claim, Debtor
from domain.config import Settings
from domain.conversations.models import Conversation, Message
from domain.db.columns import utcnow
from domain.disputes.models import Dispute
from domain.handoffs.models import ACTIVE_STATES, Handoff
from domain.paydetails import links
from domain.paydetails.accounts import agency_account
from domain.paydetails.details import for_promise
from domain.payments.sweep import policy_of
from domain.privacy import suppression
from domain.promises.models import Instalment, Promise
from domain.reminders.models import Reminder, ReminderOptOut
from domain.whatsapp import service as whatsapp_service
from domain.whatsapp.models import WhatsAppContact
from policy import reminders as rules
from policy.config import CreditorPolicy, PolicyBook

# A payment is looked at from this long before its due date (the before-due reminder)
# until the longest grace of any creditor has passed, so planning reads few rows.
LOOK_AHEAD: Final = timedelta(days=rules.DAYS_BEFORE_DUE + 1)
# A sweeper that has not finished a claimed row in this long has died.
CLAIM_LEASE: Final = timedelta(minutes=10)
# How soon a reminder held by a dispute or an agent is looked at again.
HOLD_RECHECK: Final = timedelta(minutes=10)
# Waits between retries that are safe (no connection, the provider's own trouble).
RETRY_BASE: Final = timedelta(minutes=5)
RETRY_CAP: Final = timedelta(hours=6)
_E164: Final = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_token() -> str:
    """Return a fresh sweeper token (names one claim of rows)."""
    return uuid.uuid4().hex


# --- planning -------------------------------------------------------------------------------


def _policies(book: PolicyBook, claims: Sequence[Claim]) -> tuple[CreditorPolicy, ...]:
    """Return the creditors' policies of a promise's claims, oldest claim first, once each."""
    found: dict[str, CreditorPolicy] = {}
    for claim in sorted(claims, key=lambda c: (c.due_date, c.reference)):
        policy = policy_of(book, claim)
        found.setdefault(policy.name, policy)
    return tuple(found.values())


def _payments(promise: Promise, first: date, last: date) -> list[rules.DuePayment]:
    """Return the promise's payments due between two days."""
    if promise.instalments:
        return [
            rules.DuePayment(
                promise_id=promise.id,
                instalment=instalment.number,
                due_date=instalment.due_date,
                promised_at=promise.created_at,
                status=instalment.status,
            )
            for instalment in promise.instalments
            if first <= instalment.due_date <= last
        ]
    if first <= promise.due_date <= last:
        return [
            rules.DuePayment(
                promise_id=promise.id,
                instalment=None,
                due_date=promise.due_date,
                promised_at=promise.created_at,
                status=promise.status,
            )
        ]
    return []


def plan(*, db_session: Session, now: datetime, policies: PolicyBook) -> int:
    """Add the reminders whose moment has come at `now`; return how many are new.

    Only open payments in the window that still lack one of their reminders are read,
    so a sweep every minute stays cheap however many promises there are.
    """
    today = now.date()
    grace = max(policies.get(name).broken_promise_grace_days for name in policies.names)
    first = today - timedelta(days=grace + rules.DAYS_AFTER_DUE + 1)
    last = today + LOOK_AHEAD

    def lacks_a_reminder(number: Any) -> Any:
        return or_(
            *(
                ~exists().where(
                    Reminder.promise_id == Promise.id,
                    Reminder.kind == kind,
                    Reminder.instalment_number.is_(None)
                    if number is None
                    else Reminder.instalment_number == number,
                )
                for kind in rules.KINDS
            )
        )

    open_instalment = exists().where(
        Instalment.promise_id == Promise.id,
        Instalment.status == "pending",
        Instalment.due_date.between(first, last),
        lacks_a_reminder(Instalment.number),
    )
    open_one_off = and_(
        ~exists().where(Instalment.promise_id == Promise.id),
        Promise.due_date.between(first, last),
        lacks_a_reminder(None),
    )
    promises = db_session.scalars(
        select(Promise)
        .where(Promise.status == "pending", or_(open_instalment, open_one_off))
        .options(
            selectinload(Promise.instalments),
            selectinload(Promise.claims).selectinload(Claim.creditor),
        )
        .order_by(Promise.id)
    )
    rows: list[dict[str, Any]] = []
    for promise in promises:
        claims = list(promise.claims)
        if not claims:
            continue
        found = rules.due_reminders(
            _payments(promise, first, last), now=now, policies=_policies(policies, claims)
        )
        numbers = {i.number: i.id for i in promise.instalments}
        rows += [
            {
                "key": reminder.key,
                "kind": reminder.kind,
                "promise_id": promise.id,
                "instalment_id": numbers.get(reminder.instalment or 0),
                "instalment_number": reminder.instalment,
                "debtor_id": claims[0].debtor_id,
                "payment_due_date": reminder.due_date,
                "due_at": reminder.planned_for,
                "next_attempt_at": reminder.planned_for,
                "state": "pending",
                "attempts": 0,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for reminder in found
        ]
    if not rows:
        return 0
    known = set(
        db_session.scalars(select(Reminder.key).where(Reminder.key.in_([r["key"] for r in rows])))
    )
    rows = [row for row in rows if row["key"] not in known]
    if not rows:
        return 0
    dialect = db_session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Another sweeper may plan the same reminder at the same moment: one row wins.
    table = cast(Table, Reminder.__table__)
    statement = (
        insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )
    return len(db_session.execute(statement).all())


# --- claiming -------------------------------------------------------------------------------


def claim(*, db_session: Session, now: datetime, limit: int, token: str) -> list[int]:
    """Take up to `limit` due pending reminders for this sweeper; return their ids."""
    due = (
        select(Reminder.id)
        .where(Reminder.state == "pending", Reminder.next_attempt_at <= now)
        .order_by(Reminder.next_attempt_at, Reminder.id)
        .limit(limit)
        # PostgreSQL: other sweepers skip these rows instead of waiting for them.
        # SQLite has no row locks; its write lock and the UPDATE's condition do the job.
        .with_for_update(skip_locked=True)
    )
    ids = list(db_session.scalars(due))
    if not ids:
        return []
    db_session.execute(
        update(Reminder)
        .where(Reminder.id.in_(ids), Reminder.state == "pending")
        .values(state="sending", claimed_by=token, claimed_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return list(
        db_session.scalars(
            select(Reminder.id)
            .where(Reminder.claimed_by == token, Reminder.state == "sending")
            .order_by(Reminder.id)
        )
    )


def recover(*, db_session: Session, policies: PolicyBook) -> int:
    """Settle rows of sweepers that died: never started, pending again; started, failed."""
    stale = db_session.scalars(
        select(Reminder).where(
            Reminder.state == "sending", Reminder.claimed_at < utcnow() - CLAIM_LEASE
        )
    )
    count = 0
    for reminder in list(stale):
        count += 1
        if reminder.send_started_at is None:
            _release(reminder)
        else:
            reminder.last_error = "outcome_unknown"
            _finish(
                db_session, reminder, "failed", "reminder_failed", ["outcome_unknown"], policies
            )
    db_session.flush()
    return count


def _release(reminder: Reminder) -> None:
    reminder.state = "pending"
    reminder.claimed_by = None
    reminder.claimed_at = None
    reminder.send_started_at = None


# --- deciding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A reminder ready to go: the message, on which channel."""

    reminder_id: int
    channel: str
    message: Outgoing


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
        # A STOP said before an erasure outlives it (domain/privacy/suppression.py).
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
) -> Prepared | str:
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
        _finish(db_session, reminder, "skipped", "reminder_skipped", ["promise_gone"], policies)
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
    decision = rules.decide(planned, facts, now=now, policies=_policies(policies, claims))
    if decision.action == "skip":
        _finish(db_session, reminder, "skipped", "reminder_skipped", decision.reasons, policies)
        return "skipped"
    if decision.action == "defer":
        _release(reminder)
        reminder.reasons = list(decision.reasons)
        reminder.next_attempt_at = decision.not_before or now + HOLD_RECHECK
        return "deferred"
    channel = rules.choose_channel(last_used=who.last_used, reachable=_reachable(who, senders))
    if channel is None:
        _finish(db_session, reminder, "skipped", "reminder_skipped", [rules.NO_CHANNEL], policies)
        return "skipped"
    content = _content(db_session, reminder, promise, who, settings, email=channel == rules.EMAIL)
    message = _message(channel, content, who, settings, claims[0].creditor_id)
    reminder.channel = channel
    reminder.reasons = list(decision.reasons)
    reminder.send_started_at = utcnow()
    return Prepared(reminder_id=reminder.id, channel=channel, message=message)


# --- outcomes -------------------------------------------------------------------------------


def record_sent(
    *,
    db_session: Session,
    prepared: Prepared,
    token: str,
    external_id: str,
    policies: PolicyBook,
) -> None:
    """Mark a reminder sent, with the provider's id, and audit it (one transaction)."""
    reminder = db_session.get(Reminder, prepared.reminder_id, with_for_update=True)
    if reminder is None or reminder.claimed_by != token:
        return
    reminder.attempts += 1
    reminder.sent_at = utcnow()
    reminder.external_id = external_id[:255]
    reminder.last_error = None
    message = prepared.message
    if isinstance(message, WhatsAppTemplate):
        # The agents see it in the conversation; the debtor's last message time stays.
        db_session.add(
            Message(
                conversation_id=message.to,
                direction="out",
                author="system",
                text=message.rendered.text,
                data={
                    "reminder": {
                        "id": reminder.id,
                        "kind": reminder.kind,
                        "template": message.rendered.name,
                        "content_sid": message.rendered.content_sid,
                        "twilio_sid": external_id,
                    }
                },
                delivered_at=utcnow(),
            )
        )
    _finish(
        db_session,
        reminder,
        "sent",
        "reminder_sent",
        reminder.reasons or [rules.REMINDER_ALLOWED],
        policies,
        {"external_id": external_id},
    )


def record_failed(
    *,
    db_session: Session,
    prepared: Prepared,
    token: str,
    error: SendError,
    now: datetime,
    max_attempts: int,
    policies: PolicyBook,
) -> str:
    """Record a send that did not work: retry later when safe, else failed (or opted out)."""
    reminder = db_session.get(Reminder, prepared.reminder_id, with_for_update=True)
    if reminder is None or reminder.claimed_by != token:
        return "lost"
    reminder.attempts += 1
    reminder.last_error = error.code
    if error.opted_out:
        _opt_out(db_session, reminder.debtor_id, prepared.channel, reminder.promise_id)
        _finish(db_session, reminder, "skipped", "reminder_skipped", [rules.OPTED_OUT], policies)
        return "skipped"
    if error.retry and reminder.attempts < max_attempts:
        _release(reminder)
        wait = min(RETRY_BASE * 2 ** (reminder.attempts - 1), RETRY_CAP)
        reminder.next_attempt_at = now + wait
        return "retry"
    _finish(db_session, reminder, "failed", "reminder_failed", [error.code], policies)
    return "failed"


def _opt_out(db_session: Session, debtor_id: int, channel: str, promise_id: int | None) -> None:
    """Record that a debtor wants no more reminders (once) and audit it."""
    if db_session.get(ReminderOptOut, debtor_id) is not None:
        return
    db_session.add(ReminderOptOut(debtor_id=debtor_id, channel=channel, opted_out_at=utcnow()))
    audit_service.record(
        db_session=db_session,
        kind="reminder_opt_out",
        reasons=[rules.OPTED_OUT],
        data={"debtor_id": debtor_id, "channel": channel, "promise_id": promise_id},
    )


def opt_out(*, db_session: Session, debtor_id: int, channel: str) -> bool:
    """Record a debtor's opt-out of reminders; False when there was one already."""
    if db_session.get(Debtor, debtor_id) is None:
        return False
    known = db_session.get(ReminderOptOut, debtor_id) is not None
    _opt_out(db_session, debtor_id, channel, None)
    db_session.flush()
    return not known


def _finish(
    db_session: Session,
    reminder: Reminder,
    state: str,
    kind: str,
    reasons: Sequence[str],
    policies: PolicyBook,
    extra: dict[str, Any] | None = None,
) -> None:
    """Settle a reminder for good and audit it once per claim, with each creditor's version."""
    reminder.state = state
    reminder.reasons = list(reasons)
    promise = db_session.get(Promise, reminder.promise_id)
    claims = list(promise.claims) if promise is not None else []
    data: dict[str, Any] = {
        "reminder_id": reminder.id,
        "key": reminder.key,
        "kind": reminder.kind,
        "promise_id": reminder.promise_id,
        "instalment": reminder.instalment_number,
        "due_date": reminder.payment_due_date.isoformat(),
        "channel": reminder.channel,
        "attempts": reminder.attempts,
        **(extra or {}),
    }
    conversation_id = promise.conversation_id if promise is not None else None
    targets: list[Claim | None] = [*claims] or [None]
    for claim in targets:
        audit_service.record(
            db_session=db_session,
            kind=kind,
            conversation_id=conversation_id,
            claim_reference=claim.reference if claim is not None else None,
            reasons=list(reasons),
            policy_version=policy_of(policies, claim).version if claim is not None else None,
            data=data,
        )
    db_session.flush()
