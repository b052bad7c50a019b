"""Payment reminders (CONTRACT §4): which are due at a moment, and whether one may go now.

Every payment a promise expects (an instalment of a plan, or the one payment of a
full payment, settlement or deferral) gets at most two reminders:

- `before_due`: 3 days before the due date, at 10:00 in the creditor's time zone.
  A payment promised less than that ahead gets none: its confirmation has just
  given the debtor the payment details. Worth sending up to the due date itself
  ("is due on 21.12.2026" is still true that morning); later it is dropped.
- `after_miss`: the day after the due date, at 10:00, when the payment is still
  open. A transfer takes a day or two, so the text thanks those who have paid
  already. Worth sending while the promise can still be kept, that is up to the
  end of the grace days (`broken_promise_grace_days`); after that the promise is
  broken and the debtor is offered a new plan when they next write.

A reminder whose moment falls outside contact hours (Mon–Sat 08:00–20:00, never
on a Sunday or public holiday) waits for the next allowed moment; it is not
dropped. A reminder is never sent after an opt-out or while the debtor is in
insolvency (it is skipped), and not while a claim of the promise is disputed or
an agent holds the debtor's conversation (it waits, and goes once that ends if
it is still worth sending). Each reminder has a key, so it exists, and is sent,
once.

Pure: today and now are parameters; the outbox (api/reminders) gathers the facts.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from policy import reasons as r
from policy.config import CreditorPolicy
from policy.contact import may_contact, next_contact_window
from policy.errors import InvalidRequest, PolicyError

BEFORE_DUE: Final = "before_due"
AFTER_MISS: Final = "after_miss"
KINDS: Final = (BEFORE_DUE, AFTER_MISS)
DAYS_BEFORE_DUE: Final = 3
DAYS_AFTER_DUE: Final = 1
# Mid-morning: inside every day's contact hours, after the morning's bank statements.
PLANNED_TIME: Final = time(10, 0)

# Channels a reminder can go out on.
WHATSAPP: Final = "whatsapp"
SMS: Final = "sms"
EMAIL: Final = "email"
CHANNELS: Final = (WHATSAPP, SMS, EMAIL)

# Reason codes (stable: the audit log keys on them). Contact hours add policy.reasons'
# own (sunday, public_holiday:<name>, outside_contact_hours, outside_contact_days).
REMINDER_ALLOWED: Final = "reminder_allowed"
PAYMENT_KEPT: Final = "payment_kept"
PROMISE_NOT_PENDING: Final = "promise_not_pending"
NOTHING_OWED: Final = r.CLAIM_PAID
REMINDER_TOO_LATE: Final = "reminder_too_late"
OPTED_OUT: Final = "opted_out"
INSOLVENCY: Final = r.CLAIM_INSOLVENCY
DISPUTED: Final = r.CLAIM_DISPUTED
HELD_BY_AGENT: Final = "held_by_agent"
NO_CHANNEL: Final = "no_channel"

Action = Literal["send", "defer", "skip"]
_CONTACT_SEARCH: Final = 32


@dataclass(frozen=True)
class DuePayment:
    """One payment a promise expects: an instalment, or the promise's only payment."""

    promise_id: int
    instalment: int | None  # the instalment's number; None for a one-off promise
    due_date: date
    promised_at: datetime  # when the promise was recorded (timezone-aware)
    status: str = "pending"  # the instalment's (or a one-off promise's) status


@dataclass(frozen=True)
class Reminder:
    """A reminder of one payment, planned for a moment (in the creditor's time zone)."""

    kind: str
    promise_id: int
    instalment: int | None
    due_date: date
    planned_for: datetime

    @property
    def key(self) -> str:
        """Return the reminder's unique key: one per kind and payment of a promise."""
        return reminder_key(self.kind, self.promise_id, self.instalment)


def reminder_key(kind: str, promise_id: int, instalment: int | None) -> str:
    """Return the unique key of a reminder ("before_due:42:3"; 0 for a one-off promise)."""
    if kind not in KINDS:
        raise InvalidRequest(f"unknown reminder kind {kind!r}")
    return f"{kind}:{promise_id}:{instalment or 0}"


@dataclass(frozen=True)
class Facts:
    """What is true of the payment, its claims and the debtor at the moment of sending."""

    payment_status: str  # pending / kept / broken
    promise_status: str  # pending / kept / broken / cancelled
    claim_statuses: tuple[str, ...]  # of the promise's claims
    debtor_in_insolvency: bool = False  # any claim of the debtor in insolvency
    open_dispute: bool = False  # an open dispute on a claim of the promise
    opted_out: bool = False  # the debtor opted out of messages (any channel)
    held_by_agent: bool = False  # an active handoff for the debtor or a claim of the promise


@dataclass(frozen=True)
class ReminderDecision:
    """Send now, wait (until `not_before`, or the next sweep when None) or skip for good."""

    action: Action
    reasons: tuple[str, ...]
    policy_version: str
    not_before: datetime | None = None

    @property
    def send(self) -> bool:
        """Tell whether the reminder may go out now."""
        return self.action == "send"


def _zone(policies: Sequence[CreditorPolicy]) -> ZoneInfo:
    return ZoneInfo(policies[0].contact_hours.timezone)


def _check(policies: Sequence[CreditorPolicy]) -> None:
    if not policies:
        raise InvalidRequest("a reminder needs the policy of at least one creditor")


def planned_moment(kind: str, due_date: date, policies: Sequence[CreditorPolicy]) -> datetime:
    """Return when a reminder of a payment due on `due_date` is planned (before deferral)."""
    _check(policies)
    if kind not in KINDS:
        raise InvalidRequest(f"unknown reminder kind {kind!r}")
    offset = -DAYS_BEFORE_DUE if kind == BEFORE_DUE else DAYS_AFTER_DUE
    day = due_date + timedelta(days=offset)
    return datetime.combine(day, PLANNED_TIME, tzinfo=_zone(policies))


def grace_days(policies: Sequence[CreditorPolicy]) -> int:
    """Return the longest grace among the creditors (as the payments sweep does)."""
    _check(policies)
    return max(policy.broken_promise_grace_days for policy in policies)


def last_useful_day(kind: str, due_date: date, policies: Sequence[CreditorPolicy]) -> date:
    """Return the last day a reminder is still worth sending."""
    if kind == BEFORE_DUE:
        return due_date
    return due_date + timedelta(days=grace_days(policies))


def plan(payment: DuePayment, *, policies: Sequence[CreditorPolicy]) -> tuple[Reminder, ...]:
    """Return the reminders a payment gets (before its due date, and after a miss)."""
    _check(policies)
    if payment.promised_at.tzinfo is None:
        raise InvalidRequest("promised_at must be timezone-aware")
    promised_on = payment.promised_at.astimezone(_zone(policies)).date()
    reminders = []
    for kind in KINDS:
        moment = planned_moment(kind, payment.due_date, policies)
        if kind == BEFORE_DUE and promised_on >= moment.date():
            continue  # promised within the last days: the confirmation just said it all
        reminders.append(
            Reminder(kind, payment.promise_id, payment.instalment, payment.due_date, moment)
        )
    return tuple(reminders)


def due_reminders(
    payments: Sequence[DuePayment], *, now: datetime, policies: Sequence[CreditorPolicy]
) -> list[Reminder]:
    """Return the reminders whose moment has come at `now` and that are still worth sending.

    Only open (pending) payments get reminders; the outbox keeps each one once by its key.
    """
    today = _local(now, policies).date()
    found = []
    for payment in payments:
        if payment.status != "pending":
            continue
        for reminder in plan(payment, policies=policies):
            useful = today <= last_useful_day(reminder.kind, reminder.due_date, policies)
            if reminder.planned_for <= now and useful:
                found.append(reminder)
    return found


def decide(
    reminder: Reminder, facts: Facts, *, now: datetime, policies: Sequence[CreditorPolicy]
) -> ReminderDecision:
    """Decide whether a reminder goes out at `now`, waits, or is skipped for good.

    Skipped: paid, promise no longer pending, nothing owed, too late, opted out,
    insolvency. Waits: a dispute or an agent's hold (until it ends), and outside
    contact hours (until the next allowed moment of every creditor concerned).
    """
    _check(policies)
    version = policies[0].version
    today = _local(now, policies).date()
    skip = [
        reason
        for reason, applies in (
            (PAYMENT_KEPT, facts.payment_status == "kept"),
            (PROMISE_NOT_PENDING, facts.promise_status != "pending"),
            (
                NOTHING_OWED,
                bool(facts.claim_statuses) and all(s == "paid" for s in facts.claim_statuses),
            ),
            (
                REMINDER_TOO_LATE,
                today > last_useful_day(reminder.kind, reminder.due_date, policies),
            ),
            (OPTED_OUT, facts.opted_out),
            (
                INSOLVENCY,
                facts.debtor_in_insolvency or "insolvency" in facts.claim_statuses,
            ),
        )
        if applies
    ]
    if skip:
        return ReminderDecision("skip", tuple(skip), version)
    wait = [
        reason
        for reason, applies in (
            (DISPUTED, facts.open_dispute or "disputed" in facts.claim_statuses),
            (HELD_BY_AGENT, facts.held_by_agent),
        )
        if applies
    ]
    closed = contact_reasons(now, policies)
    if closed:
        return ReminderDecision(
            "defer", (*wait, *closed), version, next_allowed_moment(now, policies)
        )
    if wait:
        return ReminderDecision("defer", tuple(wait), version)
    return ReminderDecision("send", (REMINDER_ALLOWED,), version)


def contact_reasons(now: datetime, policies: Sequence[CreditorPolicy]) -> tuple[str, ...]:
    """Return why no creditor-concerned message may go out at `now` (empty: it may)."""
    _check(policies)
    found: list[str] = []
    for policy in policies:
        decision = may_contact(at=now, policy=policy)
        if not decision.allowed:
            found.extend(reason for reason in decision.reasons if reason not in found)
    return tuple(found)


def next_allowed_moment(after: datetime, policies: Sequence[CreditorPolicy]) -> datetime:
    """Return the earliest moment at or after `after` that every creditor's hours allow."""
    _check(policies)
    moment = after
    for _ in range(_CONTACT_SEARCH):
        later = max(next_contact_window(after=moment, policy=policy) for policy in policies)
        if later == moment or not contact_reasons(later, policies):
            return later
        moment = later
    raise PolicyError(f"the creditors' contact hours never meet after {after.isoformat()}")


# Which reachable channel a reminder takes, by the channel the debtor last used.
_PREFERENCE: Final = {
    "whatsapp": (WHATSAPP, SMS, EMAIL),
    "voice": (SMS, WHATSAPP, EMAIL),
    "web": (EMAIL, WHATSAPP, SMS),
    "rest": (EMAIL, WHATSAPP, SMS),
}
_DEFAULT_PREFERENCE: Final = (EMAIL, WHATSAPP, SMS)


def choose_channel(*, last_used: str | None, reachable: Collection[str]) -> str | None:
    """Pick the channel a reminder goes out on: the debtor's own first, else the next reachable.

    The channel they last wrote on comes first (WhatsApp, or SMS after a phone call);
    after the web chat, e-mail. None: the debtor cannot be reached.
    """
    order = _PREFERENCE.get(last_used or "", _DEFAULT_PREFERENCE)
    return next((channel for channel in order if channel in reachable), None)


def _local(now: datetime, policies: Sequence[CreditorPolicy]) -> datetime:
    _check(policies)
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidRequest("reminder times must be timezone-aware")
    return now.astimezone(_zone(policies))
