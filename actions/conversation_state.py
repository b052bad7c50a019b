"""The conversation's identity-check state as the actions see it (gateway tables).

Failed checks, the lock after too many, the verified claim, the conversation's language
and the debtor's recorded one: each call is one unit of work (`actions.unit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from actions.unit import run_unit as _run
from domain.claims.models import Debtor
from domain.conversations import service as conversations_service


@dataclass(frozen=True)
class ConversationView:
    """The gateway-side state of a conversation that the dialogue relies on."""

    failed_verifications: int
    locked_until: datetime | None
    verified_claim_reference: str | None


async def conversation(sender_id: str, channel: str) -> ConversationView:
    """Return (creating it if new) the conversation's verification state."""

    def work(db_session: Session) -> ConversationView:
        row = conversations_service.get_or_create(
            db_session=db_session, sender_id=sender_id, channel=channel
        )
        return ConversationView(
            failed_verifications=row.failed_verifications,
            locked_until=row.locked_until,
            verified_claim_reference=row.verified_claim_reference,
        )

    return await _run(work)


async def record_failed_verification(sender_id: str, channel: str, now: datetime) -> int:
    """Count a failed identity check and return the failures so far."""

    def work(db_session: Session) -> int:
        conversations_service.get_or_create(
            db_session=db_session, sender_id=sender_id, channel=channel
        )
        row = conversations_service.record_failed_verification(
            db_session=db_session, sender_id=sender_id, now=now
        )
        return row.failed_verifications

    return await _run(work)


async def lock(sender_id: str, until: datetime) -> None:
    """Lock verification for the conversation until the given time."""
    await _run(lambda s: conversations_service.lock(db_session=s, sender_id=sender_id, until=until))


async def forget_verification(sender_id: str) -> None:
    """Record that the conversation's identity check no longer holds."""
    await _run(
        lambda s: conversations_service.forget_verification(db_session=s, sender_id=sender_id)
    )


async def mark_verified(sender_id: str, channel: str, reference: str, debtor_id: int) -> None:
    """Remember that the conversation proved the identity behind `reference`."""

    def work(db_session: Session) -> None:
        conversations_service.get_or_create(
            db_session=db_session, sender_id=sender_id, channel=channel
        )
        conversations_service.mark_verified(
            db_session=db_session,
            sender_id=sender_id,
            claim_reference=reference,
            debtor_id=debtor_id,
        )

    await _run(work)


async def set_language(sender_id: str, channel: str, language: str) -> None:
    """Store the conversation's language (the gateway and console read it)."""

    def work(db_session: Session) -> None:
        conversations_service.get_or_create(
            db_session=db_session, sender_id=sender_id, channel=channel
        )
        conversations_service.set_language(
            db_session=db_session, sender_id=sender_id, language=language
        )

    await _run(work)


async def debtor_language(debtor_id: int) -> str | None:
    """Return the language recorded for a debtor (the claims file's), if any."""

    def work(db_session: Session) -> str | None:
        debtor = db_session.get(Debtor, debtor_id)
        return None if debtor is None else debtor.language

    return await _run(work)
