"""Conversations: one row per sender, verification state and the transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.claims.models import LANGUAGES
from domain.conversations.models import (
    AUTHORS,
    CONVERSATION_STATES,
    DIRECTIONS,
    Conversation,
    Message,
)
from domain.db.columns import utcnow
from domain.errors import NotFound, ValidationFailed

DEFAULT_LANGUAGE = "de"


def get(*, db_session: Session, sender_id: str) -> Conversation | None:
    """Get a conversation by its sender id."""
    return db_session.get(Conversation, sender_id)


def get_or_raise(*, db_session: Session, sender_id: str) -> Conversation:
    """Get a conversation by its sender id or raise NotFound."""
    conversation = db_session.get(Conversation, sender_id)
    if conversation is None:
        raise NotFound(f"conversation {sender_id} not found")
    return conversation


def _check_language(language: str) -> None:
    """Refuse languages the assistant does not speak."""
    if language not in LANGUAGES:
        raise ValidationFailed(f"language: unsupported language {language!r}")


def get_or_create(
    *, db_session: Session, sender_id: str, channel: str, language: str | None = None
) -> Conversation:
    """Get the sender's conversation, creating it (in German unless told) if new."""
    conversation = db_session.get(Conversation, sender_id)
    if conversation is not None:
        return conversation
    language = language or DEFAULT_LANGUAGE
    _check_language(language)
    conversation = Conversation(sender_id=sender_id, channel=channel, language=language)
    try:
        # Two first messages from one sender may race; the loser reads the winner's row.
        with db_session.begin_nested():
            db_session.add(conversation)
            db_session.flush()
    except IntegrityError:
        existing = db_session.get(Conversation, sender_id)
        if existing is None:
            raise
        return existing
    return conversation


def record_failed_verification(
    *, db_session: Session, sender_id: str, now: datetime | None = None
) -> Conversation:
    """Count one failed identity check; the policy decides when to lock."""
    conversation = get_or_raise(db_session=db_session, sender_id=sender_id)
    conversation.failed_verifications += 1
    conversation.last_message_at = now or utcnow()
    db_session.flush()
    return conversation


def lock(*, db_session: Session, sender_id: str, until: datetime) -> Conversation:
    """Lock identity checks until the given time; the failure count starts over after it."""
    conversation = get_or_raise(db_session=db_session, sender_id=sender_id)
    conversation.locked_until = until
    conversation.failed_verifications = 0
    db_session.flush()
    return conversation


def is_locked(*, db_session: Session, sender_id: str, now: datetime) -> bool:
    """Tell whether identity checks are locked at `now`."""
    conversation = get(db_session=db_session, sender_id=sender_id)
    return bool(conversation and conversation.locked_until and conversation.locked_until > now)


def mark_verified(
    *, db_session: Session, sender_id: str, claim_reference: str, debtor_id: int
) -> Conversation:
    """Record a passed identity check and reset the failure count."""
    conversation = get_or_raise(db_session=db_session, sender_id=sender_id)
    conversation.verified_claim_reference = claim_reference
    conversation.debtor_id = debtor_id
    conversation.failed_verifications = 0
    conversation.locked_until = None
    db_session.flush()
    return conversation


def forget_verification(*, db_session: Session, sender_id: str) -> None:
    """The identity check no longer holds (a new session, or silence): forget the claim.

    `debtor_id` stays, as who the earlier messages concerned (privacy export, erasure);
    only `verified_claim_reference` says that the conversation is verified now, and
    handoffs, the console and privacy requests read that.
    """
    query = select(Conversation).where(Conversation.sender_id == sender_id)
    conversation = db_session.scalar(query)
    if conversation is not None and conversation.verified_claim_reference is not None:
        conversation.verified_claim_reference = None
        db_session.flush()


def set_language(*, db_session: Session, sender_id: str, language: str) -> Conversation:
    """Switch the conversation's language."""
    _check_language(language)
    conversation = get_or_raise(db_session=db_session, sender_id=sender_id)
    conversation.language = language
    db_session.flush()
    return conversation


def set_state(*, db_session: Session, sender_id: str, state: str) -> Conversation:
    """Move the conversation to bot, queued, assigned or closed."""
    if state not in CONVERSATION_STATES:
        raise ValidationFailed(f"state: unknown conversation state {state!r}")
    conversation = get_or_raise(db_session=db_session, sender_id=sender_id)
    conversation.state = state
    db_session.flush()
    return conversation


def add_message(
    *,
    db_session: Session,
    sender_id: str,
    direction: str,
    author: str,
    text: str,
    data: dict[str, Any] | None = None,
) -> Message:
    """Append one turn to the transcript."""
    _check_turn(direction, author)
    conversation = get_or_raise(db_session=db_session, sender_id=sender_id)
    message = Message(
        conversation_id=sender_id, direction=direction, author=author, text=text, data=data
    )
    db_session.add(message)
    conversation.last_message_at = utcnow()
    db_session.flush()
    return message


def _check_turn(direction: str, author: str) -> None:
    """Refuse a direction or an author the transcript does not know."""
    if direction not in DIRECTIONS:
        raise ValidationFailed(f"direction: must be one of {DIRECTIONS}, not {direction!r}")
    if author not in AUTHORS:
        raise ValidationFailed(f"author: must be one of {AUTHORS}, not {author!r}")


def add_messages(
    *,
    db_session: Session,
    sender_id: str,
    direction: str,
    author: str,
    turns: list[tuple[str, dict[str, Any] | None]],
) -> list[Message]:
    """Append (text, data) turns of one author in one write, without reading the conversation.

    The conversation row is only touched (`last_message_at`), not loaded: after a
    Rasa turn the action server may have changed it, and nothing here needs it.
    """
    _check_turn(direction, author)
    if not turns:
        return []
    touched = db_session.execute(
        update(Conversation)
        .where(Conversation.sender_id == sender_id)
        .values(last_message_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(touched, "rowcount", 0) != 1:
        raise NotFound(f"conversation {sender_id} not found")
    messages = [
        Message(conversation_id=sender_id, direction=direction, author=author, text=text, data=data)
        for text, data in turns
    ]
    db_session.add_all(messages)
    db_session.flush()
    return messages


def transcript(*, db_session: Session, sender_id: str, limit: int | None = None) -> list[Message]:
    """Return the conversation's messages in order (the last `limit` ones if given)."""
    stmt = select(Message).where(Message.conversation_id == sender_id)
    if limit is None:
        return list(db_session.scalars(stmt.order_by(Message.id)))
    latest = list(db_session.scalars(stmt.order_by(Message.id.desc()).limit(limit)))
    return latest[::-1]


def window(
    *, db_session: Session, sender_id: str, limit: int
) -> tuple[list[Message], list[Message]]:
    """Return the last `limit` messages and the agent replies not delivered yet, in one read."""
    latest = (
        select(Message.id)
        .where(Message.conversation_id == sender_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    undelivered = (Message.author == "agent") & Message.delivered_at.is_(None)
    stmt = (
        select(Message)
        .where(Message.conversation_id == sender_id, or_(Message.id.in_(latest), undelivered))
        .order_by(Message.id)
    )
    found = list(db_session.scalars(stmt))
    # The latest messages are the highest ids, so they close the list; older rows are
    # undelivered agent replies.
    pending = [m for m in found if m.author == "agent" and m.delivered_at is None]
    return found[-limit:] if limit else [], pending
