"""The steps that anonymise records: shared by erasure and the retention job.

Bulk statements run with `synchronize_session=False`; callers expire the session's
objects afterwards if they read them again.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, func, inspect, null, or_, select, update
from sqlalchemy.orm import Session

from domain.audit.models import AuditEvent
from domain.calls.models import VoiceCall
from domain.conversations.models import Conversation, Message
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff, HandoffNote
from domain.privacy.models import PrivacyRequest
from domain.promises.models import Promise
from domain.whatsapp import suppression
from domain.whatsapp.models import Attachment, WhatsAppContact

ANONYMISED_TEXT = ""
# Conversation ids (and the audit log's) of erased people start with it.
PSEUDONYM_PREFIX: Final = "erased:"
# Audit entries of the privacy domain itself: their data is never rewritten (0007).
PRIVACY_KINDS: Final = "privacy_"
_NO_SYNC = {"synchronize_session": False}
_audit = cast(Table, AuditEvent.__table__)


def anonymise_transcript(
    *, db_session: Session, conversation_id: str, now: datetime
) -> Counter[str]:
    """Blank what a conversation holds in words, the agents' included.

    Messages, attachment transcripts, dispute texts, call answers, and the notes,
    outcomes and statements of its handoffs (agents write down there what the debtor
    told them; the bot's affordability statement holds their income and outgoings).
    Who wrote when stays (direction, author, time), so counts and timings still add up.
    """
    counts: Counter[str] = Counter()
    counts["messages"] = int(
        db_session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conversation_id)
            .where(Message.text != ANONYMISED_TEXT)
        )
        or 0
    )
    # SQL NULL, not JSON null: "no data" must read as NULL in the retention job's query.
    db_session.execute(
        update(Message)
        .where(Message.conversation_id == conversation_id)
        .where(or_(Message.text != ANONYMISED_TEXT, Message.data.is_not(None)))
        .values(text=ANONYMISED_TEXT, data=null()),
        execution_options=_NO_SYNC,
    )
    counts["attachments"] = _changed(
        db_session,
        update(Attachment)
        .where(Attachment.conversation_id == conversation_id)
        .where(or_(Attachment.transcript.is_not(None), Attachment.media_url != ""))
        .values(transcript=None, media_url=""),
    )
    counts["disputes"] = _changed(
        db_session,
        update(Dispute)
        .where(Dispute.conversation_id == conversation_id)
        .where(Dispute.reason_text != ANONYMISED_TEXT)
        .values(reason_text=ANONYMISED_TEXT),
    )
    handoffs = select(Handoff.id).where(Handoff.conversation_id == conversation_id)
    counts["notes"] = _changed(
        db_session,
        update(HandoffNote)
        .where(HandoffNote.handoff_id.in_(handoffs))
        .where(HandoffNote.text != ANONYMISED_TEXT)
        .values(text=ANONYMISED_TEXT),
    )
    _changed(
        db_session,
        update(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .where(or_(Handoff.outcome.is_not(None), Handoff.statement.is_not(None)))
        .values(outcome=None, statement=null()),
    )
    # A call's TwiML answer carries the bot's spoken words.
    _changed(
        db_session,
        update(VoiceCall).where(VoiceCall.conversation_id == conversation_id).values(answer=""),
    )
    db_session.execute(
        update(Conversation)
        .where(Conversation.sender_id == conversation_id)
        .values(anonymised_at=now),
        execution_options=_NO_SYNC,
    )
    return counts


def rename_conversation(*, db_session: Session, old_id: str, new_id: str) -> None:
    """Move a conversation and everything that names it to a new (pseudonymous) id."""
    conversation = db_session.get(Conversation, old_id)
    if conversation is not None:
        values = {
            attribute.key: getattr(conversation, attribute.key)
            for attribute in inspect(Conversation).column_attrs
        }
        db_session.add(Conversation(**{**values, "sender_id": new_id}))
        db_session.flush()
    for model in (Message, Handoff, Attachment, Promise, Dispute, PrivacyRequest, VoiceCall):
        db_session.execute(
            update(model).where(model.conversation_id == old_id).values(conversation_id=new_id),
            execution_options=_NO_SYNC,
        )
    contact = db_session.get(WhatsAppContact, old_id)
    if contact is not None:
        # The number goes; a STOP must not go with it.
        suppression.keep(db_session=db_session, address=old_id, opted_out_at=contact.opted_out_at)
        db_session.delete(contact)
        db_session.flush()
    if conversation is not None:
        db_session.delete(conversation)
        db_session.flush()


def pseudonymise_audit(
    *, db_session: Session, old_id: str, new_id: str, needles: Iterable[str]
) -> int:
    """Give a conversation's audit entries the pseudonym, scrubbing `needles` from their data.

    The only change the audit log's triggers let through (migration 0007), once per
    entry; the privacy domain's own entries (`privacy_…`: requests, erasures, exports
    opened) keep their data, which names no one. Run on the connection, past the ORM's
    own append-only guard, which knows no exceptions.
    """
    if old_id.startswith(PSEUDONYM_PREFIX):
        return 0
    replacements = [(old_id, new_id), *((n, "[erased]") for n in needles if n)]
    connection = db_session.connection()
    rows = connection.execute(
        select(_audit.c.id, _audit.c.kind, _audit.c.data).where(_audit.c.conversation_id == old_id)
    ).all()
    for entry_id, kind, data in rows:
        values: dict[str, Any] = {"conversation_id": new_id}
        if not kind.startswith(PRIVACY_KINDS):
            values["data"] = _scrubbed(data, replacements)
        connection.execute(update(_audit).where(_audit.c.id == entry_id).values(**values))
    return len(rows)


def scrubbed_text(text: str, needles: Iterable[str]) -> str:
    """Return a text with every needle replaced (any case) by "[erased]"."""
    scrubbed = _scrubbed(text, [(n, "[erased]") for n in needles if n])
    return cast(str, scrubbed)


def _scrubbed(value: Any, replacements: list[tuple[str, str]]) -> Any:
    """Return JSON data with every needle replaced (any case) in its texts, at any depth."""
    if isinstance(value, dict):
        return {k: _scrubbed(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, replacements) for item in value]
    if isinstance(value, str):
        for needle, replacement in replacements:
            value = re.sub(re.escape(needle), replacement, value, flags=re.IGNORECASE)
    return value


def _changed(db_session: Session, statement: Any) -> int:
    """Run a bulk UPDATE and return how many rows it changed."""
    result = db_session.execute(statement, execution_options=_NO_SYNC)
    return int(getattr(result, "rowcount", 0) or 0)
