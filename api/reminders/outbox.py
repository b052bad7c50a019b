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
3. `decision.prepare` decides (policy.reminders) and either settles the row (skipped, or
   back to pending until a later moment) or renders the message and notes
   `send_started_at` — committed before the message leaves.
4. `record` writes the outcome (sent with the provider's id, or failed, or pending
   again for a retry that is safe) and its audit entries in one transaction.

At most once: a sweeper that dies between 3 and 4 leaves a `sending` row with
`send_started_at`; `recover` marks it failed (`outcome_unknown`) after the lease
instead of sending it again. A row claimed but never started goes back to pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from api.reminders.channels import Outgoing, SendError, WhatsAppTemplate
from domain.audit import service as audit_service
from domain.claims.models import Claim, Debtor
from domain.conversations.models import Message
from domain.db.columns import utcnow
from domain.payments.sweep import policy_of
from domain.promises.models import Instalment, Promise
from domain.reminders.models import Reminder, ReminderOptOut
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


def new_token() -> str:
    """Return a fresh sweeper token (names one claim of rows)."""
    return uuid.uuid4().hex


# --- planning -------------------------------------------------------------------------------


def creditor_policies(book: PolicyBook, claims: Sequence[Claim]) -> tuple[CreditorPolicy, ...]:
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
            _payments(promise, first, last), now=now, policies=creditor_policies(policies, claims)
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
            release(reminder)
        else:
            reminder.last_error = "outcome_unknown"
            finish(db_session, reminder, "failed", "reminder_failed", ["outcome_unknown"], policies)
    db_session.flush()
    return count


def release(reminder: Reminder) -> None:
    reminder.state = "pending"
    reminder.claimed_by = None
    reminder.claimed_at = None
    reminder.send_started_at = None


# --- the decision's result (`decision.prepare` makes it) ------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A reminder ready to go: the message, on which channel."""

    reminder_id: int
    channel: str
    message: Outgoing


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
    finish(
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
        finish(db_session, reminder, "skipped", "reminder_skipped", [rules.OPTED_OUT], policies)
        return "skipped"
    if error.retry and reminder.attempts < max_attempts:
        release(reminder)
        wait = min(RETRY_BASE * 2 ** (reminder.attempts - 1), RETRY_CAP)
        reminder.next_attempt_at = now + wait
        return "retry"
    finish(db_session, reminder, "failed", "reminder_failed", [error.code], policies)
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


def finish(
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
