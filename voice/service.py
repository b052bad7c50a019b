"""The voice line's data: calls taken once, their language, transfer and end.

One conversation per call, with the sender id "voice:<CallSid>": a caller proves
who they are on every call (a phone number alone is never proof), and Twilio's
CallSid is unique and never a phone number, so ids and logs carry no number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.calls.models import VoiceCall
from domain.claims.models import Debtor
from domain.conversations import service as conversations_service
from domain.conversations.models import Message
from domain.db.columns import utcnow
from domain.handoffs import service as handoffs_service

CHANNEL: Final = "voice"
GERMAN_PREFIXES: Final = ("+49", "+43", "+41")
ENDED_STATUSES: Final = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})


def sender_id(call_sid: str) -> str:
    """Return the conversation id of a call."""
    return f"{CHANNEL}:{call_sid}"


def likely_language(*, db_session: Session, caller: str) -> str:
    """Guess the caller's language: a known debtor's, else the number's country."""
    if caller:
        known = db_session.scalar(
            select(Debtor.language).where(Debtor.phone == caller).order_by(Debtor.id).limit(1)
        )
        if known in ("de", "en"):
            return str(known)
    return "de" if caller.startswith(GERMAN_PREFIXES) else "en"


@dataclass(frozen=True)
class Taken:
    """A call as the webhook sees it: whether it is new, and its state."""

    new: bool
    call_sid: str
    conversation_id: str
    language: str
    answer: str


def get_call(*, db_session: Session, call_sid: str) -> VoiceCall | None:
    """Get a call by its CallSid."""
    return db_session.get(VoiceCall, call_sid)


def take_call(*, db_session: Session, call_sid: str, caller: str, language: str) -> Taken:
    """Record an incoming call once; a retry of the webhook gets the first call's row."""
    existing = db_session.get(VoiceCall, call_sid)
    if existing is not None:
        return Taken(False, call_sid, existing.conversation_id, existing.language, existing.answer)
    call = VoiceCall(
        call_sid=call_sid,
        conversation_id=sender_id(call_sid),
        caller=caller,
        language=language,
        status="answered",
        answer="",
    )
    try:
        with db_session.begin_nested():
            db_session.add(call)
            db_session.flush()
    except IntegrityError:
        raced = db_session.get(VoiceCall, call_sid)
        if raced is None:
            raise
        return Taken(False, call_sid, raced.conversation_id, raced.language, raced.answer)
    conversations_service.get_or_create(
        db_session=db_session, sender_id=call.conversation_id, channel=CHANNEL, language=language
    )
    audit_service.record(
        db_session=db_session,
        kind="voice_call_started",
        conversation_id=call.conversation_id,
        data={"language": language},
    )
    return Taken(True, call_sid, call.conversation_id, language, "")


def store_answer(*, db_session: Session, call_sid: str, answer: str) -> None:
    """Keep the TwiML answer, so that a retry of the webhook gets the very same one."""
    call = db_session.get(VoiceCall, call_sid)
    if call is not None:
        call.answer = answer
        db_session.flush()


def is_live(*, db_session: Session, call_sid: str) -> bool:
    """Tell whether a call was answered and has not ended."""
    call = db_session.get(VoiceCall, call_sid)
    return call is not None and call.ended_at is None


def set_language(*, db_session: Session, call_sid: str, language: str) -> None:
    """Switch a call (and its conversation) to another language."""
    call = db_session.get(VoiceCall, call_sid)
    if call is None:
        return
    call.language = language
    conversations_service.set_language(
        db_session=db_session, sender_id=call.conversation_id, language=language
    )


def conversation_language(*, db_session: Session, call_sid: str) -> str | None:
    """Return the language the conversation is in now (the bot may have switched it)."""
    call = db_session.get(VoiceCall, call_sid)
    if call is None:
        return None
    conversation = conversations_service.get(db_session=db_session, sender_id=call.conversation_id)
    return conversation.language if conversation else call.language


def handed_off(*, db_session: Session, call_sid: str) -> bool:
    """Tell whether the call's conversation waits for, or is held by, a person."""
    return (
        handoffs_service.active_for(db_session=db_session, conversation_id=sender_id(call_sid))
        is not None
    )


def mark_transferred(*, db_session: Session, call_sid: str, target: str) -> None:
    """Note that the call went to a person (a number or the queue)."""
    call = db_session.get(VoiceCall, call_sid)
    if call is None:
        return
    call.status = "transferred"
    call.transferred_at = utcnow()
    audit_service.record(
        db_session=db_session,
        kind="voice_call_transferred",
        conversation_id=call.conversation_id,
        data={"target": target},
    )


def end_call(*, db_session: Session, call_sid: str, reason: str) -> bool:
    """End a call once; the conversation closes unless a person has it. False if ended before."""
    call = db_session.get(VoiceCall, call_sid)
    if call is None or call.ended_at is not None:
        return False
    call.ended_at = utcnow()
    call.end_reason = reason[:32]
    call.status = "ended"
    conversation = conversations_service.get(db_session=db_session, sender_id=call.conversation_id)
    if conversation is not None and not handed_off(db_session=db_session, call_sid=call_sid):
        conversation.state = "closed"
    audit_service.record(
        db_session=db_session,
        kind="voice_call_ended",
        conversation_id=call.conversation_id,
        reasons=[reason[:32]],
    )
    db_session.flush()
    return True


def record_line(
    *,
    db_session: Session,
    call_sid: str,
    author: str,
    text: str,
    data: dict[str, Any] | None = None,
) -> Message:
    """Put a turn the dialogue pipeline does not see in the transcript (e.g. after hang-up)."""
    conversation_id = sender_id(call_sid)
    conversations_service.get_or_create(
        db_session=db_session, sender_id=conversation_id, channel=CHANNEL
    )
    return conversations_service.add_message(
        db_session=db_session,
        sender_id=conversation_id,
        direction="in" if author == "debtor" else "out",
        author=author,
        text=text,
        data=data,
    )
