"""The retention job: anonymise transcripts whose time is up (policy.retention decides).

Run by `quitt privacy retention` (daily, from cron or a scheduler); the clock is a
parameter, so tests move it. Each anonymised conversation gets an audit entry
(`transcript_anonymised`) with the policy version and reasons. Rasa's copy of the
conversation goes too, and so do the answers kept for channel retries once no retry
can come any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.audit.models import AuditEvent
from domain.claims.models import Claim
from domain.conversations.models import Conversation, Message
from domain.disputes.models import Dispute
from domain.handoffs.models import ACTIVE_STATES, Handoff
from domain.privacy import anonymise, tracker
from domain.privacy.models import PrivacyRequest
from domain.promises.models import Promise, PromiseClaim
from domain.whatsapp.models import ChannelEvent
from policy.config import DEFAULT_NAME, PolicyBook
from policy.errors import PolicyNotFound
from policy.retention import RetentionDecision, transcript_retention

AUDIT_KIND: Final = "transcript_anonymised"
# Channels keep their answers so that a retried delivery gets the same one; Twilio
# retries within hours, so a week later the copy only holds the bot's words.
REPLAY_WINDOW: Final = timedelta(days=7)


@dataclass(frozen=True)
class RetentionItem:
    """One conversation the job anonymised (or would, in a dry run)."""

    conversation_id: str
    claims: tuple[str, ...]
    messages: int
    decision: RetentionDecision


@dataclass(frozen=True)
class RetentionReport:
    """What one run of the job did."""

    now: datetime
    dry_run: bool
    anonymised: tuple[RetentionItem, ...]
    kept: int
    skipped: tuple[str, ...]
    replay_answers: int


def run_retention(
    *, db_session: Session, book: PolicyBook, now: datetime, dry_run: bool = False
) -> RetentionReport:
    """Anonymise every transcript that is due now; with `dry_run`, only say which."""
    shortest = min(book.get(name).transcript_retention_days for name in book)
    anonymised: list[RetentionItem] = []
    kept = 0
    skipped: list[str] = []
    for conversation in _candidates(db_session, now - timedelta(days=shortest)):
        claims = _claims_of(db_session, conversation)
        try:
            policies = [book.get(claim.creditor.policy) for claim in claims]
        except PolicyNotFound as error:
            skipped.append(f"{conversation.sender_id}: {error}")
            continue
        decision = transcript_retention(
            claim_statuses=[claim.status for claim in claims],
            policies=policies,
            default=book.get(DEFAULT_NAME),
            last_activity=conversation.last_message_at or conversation.created_at,
            settled_at=max((claim.updated_at for claim in claims), default=None),
            now=now,
            held_by_agent=_held(db_session, conversation.sender_id),
            request_pending=_request_pending(db_session, conversation),
        )
        if not decision.due:
            kept += 1
            continue
        item = RetentionItem(
            conversation_id=conversation.sender_id,
            claims=tuple(claim.reference for claim in claims),
            messages=_messages_with_text(db_session, conversation.sender_id),
            decision=decision,
        )
        anonymised.append(item)
        if not dry_run:
            _anonymise(db_session, item, now)
    outdated = ChannelEvent.received_at < now - REPLAY_WINDOW
    replayed = int(
        db_session.scalar(select(func.count()).select_from(ChannelEvent).where(outdated)) or 0
    )
    if not dry_run and replayed:
        db_session.execute(delete(ChannelEvent).where(outdated))
    return RetentionReport(
        now=now,
        dry_run=dry_run,
        anonymised=tuple(anonymised),
        kept=kept,
        skipped=tuple(skipped),
        replay_answers=replayed,
    )


def _candidates(db_session: Session, quiet_before: datetime) -> list[Conversation]:
    """Return conversations quiet since `quiet_before` whose transcript still has content."""
    has_content = exists().where(
        Message.conversation_id == Conversation.sender_id,
        or_(Message.text != anonymise.ANONYMISED_TEXT, Message.data.is_not(None)),
    )
    last_activity = func.coalesce(Conversation.last_message_at, Conversation.created_at)
    return list(
        db_session.scalars(
            select(Conversation)
            .where(last_activity <= quiet_before, has_content)
            .order_by(Conversation.sender_id)
        )
    )


def _claims_of(db_session: Session, conversation: Conversation) -> list[Claim]:
    """Return every claim a conversation concerns: verified, its debtor's, or recorded in it."""
    sender = conversation.sender_id
    references: set[str | None] = {conversation.verified_claim_reference}
    references.update(
        db_session.scalars(select(Handoff.claim_reference).where(Handoff.conversation_id == sender))
    )
    references.update(
        db_session.scalars(select(Dispute.claim_reference).where(Dispute.conversation_id == sender))
    )
    references.update(
        db_session.scalars(
            select(PromiseClaim.claim_reference)
            .join(Promise, Promise.id == PromiseClaim.promise_id)
            .where(Promise.conversation_id == sender)
        )
    )
    references.update(
        db_session.scalars(
            select(AuditEvent.claim_reference).where(AuditEvent.conversation_id == sender)
        )
    )
    named = [r for r in references if r]
    conditions: list[ColumnElement[bool]] = [Claim.reference.in_(named)]
    if conversation.debtor_id is not None:
        conditions.append(Claim.debtor_id == conversation.debtor_id)
    return list(db_session.scalars(select(Claim).where(or_(*conditions)).order_by(Claim.reference)))


def _held(db_session: Session, conversation_id: str) -> bool:
    """Tell whether a person waits for or holds the conversation."""
    return bool(
        db_session.scalar(
            select(
                exists().where(
                    Handoff.conversation_id == conversation_id, Handoff.state.in_(ACTIVE_STATES)
                )
            )
        )
    )


def _request_pending(db_session: Session, conversation: Conversation) -> bool:
    """Tell whether an open privacy request concerns the conversation or its debtor."""
    concerns: list[ColumnElement[bool]] = [PrivacyRequest.conversation_id == conversation.sender_id]
    if conversation.debtor_id is not None:
        concerns.append(PrivacyRequest.debtor_id == conversation.debtor_id)
    return bool(
        db_session.scalar(select(exists().where(PrivacyRequest.status == "open", or_(*concerns))))
    )


def _messages_with_text(db_session: Session, conversation_id: str) -> int:
    """Count the conversation's messages that still have text."""
    return int(
        db_session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.text != anonymise.ANONYMISED_TEXT,
            )
        )
        or 0
    )


def _anonymise(db_session: Session, item: RetentionItem, now: datetime) -> None:
    """Anonymise one conversation's transcript and audit it."""
    counts = anonymise.anonymise_transcript(
        db_session=db_session, conversation_id=item.conversation_id, now=now
    )
    counts["tracker_events"] = tracker.forget(
        db_session=db_session, sender_ids=[item.conversation_id]
    )
    audit_service.record(
        db_session=db_session,
        kind=AUDIT_KIND,
        conversation_id=item.conversation_id,
        claim_reference=item.claims[0] if item.claims else None,
        reasons=item.decision.reasons,
        policy_version=item.decision.policy_version,
        data={
            "claims": list(item.claims),
            "retention_days": item.decision.retention_days,
            "counts": dict(sorted(counts.items())),
        },
    )
