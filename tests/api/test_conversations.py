"""Conversations, verification state and transcripts; disputes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from domain.claims import service as claim_service
from domain.conversations import service as conversation_service
from domain.disputes import service as dispute_service
from domain.errors import NotFound, ValidationFailed

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def test_get_or_create_returns_the_same_row(db_session: Session) -> None:
    first = conversation_service.get_or_create(
        db_session=db_session, sender_id="web-1", channel="web"
    )
    again = conversation_service.get_or_create(
        db_session=db_session, sender_id="web-1", channel="web", language="en"
    )
    assert again is first
    assert (first.language, first.state, first.failed_verifications) == ("de", "bot", 0)
    assert conversation_service.get(db_session=db_session, sender_id="other") is None


def test_failed_verifications_lock_and_verify(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    conversation_service.get_or_create(db_session=db_session, sender_id="s", channel="web")
    for expected in (1, 2, 3):
        conversation = conversation_service.record_failed_verification(
            db_session=db_session, sender_id="s", now=NOW
        )
        assert conversation.failed_verifications == expected
    conversation_service.lock(
        db_session=db_session, sender_id="s", until=NOW + timedelta(minutes=30)
    )
    assert conversation_service.is_locked(db_session=db_session, sender_id="s", now=NOW)
    assert not conversation_service.is_locked(
        db_session=db_session, sender_id="s", now=NOW + timedelta(minutes=31)
    )
    db_session.expire_all()
    stored = conversation_service.get(db_session=db_session, sender_id="s")
    assert stored is not None and stored.locked_until == NOW + timedelta(minutes=30)

    claim = claim_service.get_by_reference(db_session=db_session, reference="260000117")
    assert claim is not None
    verified = conversation_service.mark_verified(
        db_session=db_session, sender_id="s", claim_reference="260000117", debtor_id=claim.debtor_id
    )
    assert verified.verified_claim_reference == "260000117"
    assert verified.failed_verifications == 0 and verified.locked_until is None


def test_language_and_state(db_session: Session) -> None:
    conversation_service.get_or_create(db_session=db_session, sender_id="s", channel="voice")
    assert (
        conversation_service.set_language(
            db_session=db_session, sender_id="s", language="en"
        ).language
        == "en"
    )
    assert (
        conversation_service.set_state(db_session=db_session, sender_id="s", state="closed").state
        == "closed"
    )
    with pytest.raises(ValidationFailed):
        conversation_service.set_language(db_session=db_session, sender_id="s", language="fr")
    with pytest.raises(ValidationFailed):
        conversation_service.set_state(db_session=db_session, sender_id="s", state="sleeping")
    with pytest.raises(NotFound):
        conversation_service.set_state(db_session=db_session, sender_id="nobody", state="bot")


def test_transcript_keeps_order_and_data(db_session: Session) -> None:
    conversation_service.get_or_create(db_session=db_session, sender_id="s", channel="web")
    conversation_service.add_message(
        db_session=db_session, sender_id="s", direction="in", author="debtor", text="Hallo"
    )
    conversation_service.add_message(
        db_session=db_session,
        sender_id="s",
        direction="out",
        author="bot",
        text="Ich bin ein automatischer Assistent.",
        data={"buttons": [{"title": "Ja", "payload": "/affirm"}]},
    )
    conversation_service.add_message(
        db_session=db_session, sender_id="s", direction="out", author="agent", text="Hier Anna."
    )
    messages = conversation_service.transcript(db_session=db_session, sender_id="s")
    assert [m.author for m in messages] == ["debtor", "bot", "agent"]
    assert messages[1].data == {"buttons": [{"title": "Ja", "payload": "/affirm"}]}
    last_two = conversation_service.transcript(db_session=db_session, sender_id="s", limit=2)
    assert [m.text for m in last_two] == ["Ich bin ein automatischer Assistent.", "Hier Anna."]
    conversation = conversation_service.get(db_session=db_session, sender_id="s")
    assert conversation is not None and conversation.last_message_at is not None
    with pytest.raises(ValidationFailed):
        conversation_service.add_message(
            db_session=db_session, sender_id="s", direction="sideways", author="bot", text="?"
        )


def test_disputes(db_session: Session, imported: claim_service.ImportReport) -> None:
    assert not dispute_service.has_open(db_session=db_session, claim_reference="260000125")
    dispute = dispute_service.create(
        db_session=db_session,
        claim_reference="260000125",
        conversation_id="web-2",
        reason_text="Ware zurückgeschickt",
    )
    assert dispute.status == "open"
    assert dispute_service.has_open(db_session=db_session, claim_reference="260000125")
    assert not dispute_service.has_open(db_session=db_session, claim_reference="260000117")
    with pytest.raises(NotFound):
        dispute_service.create(
            db_session=db_session, claim_reference="0", conversation_id=None, reason_text="x"
        )
