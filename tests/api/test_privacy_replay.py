"""Web chat history replay: only while verified, and no older than an identity check lasts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.channels import socketio
from domain.conversations import service as conversations_service
from domain.db.columns import utcnow
from domain.privacy import replay
from policy.config import DEFAULT_POLICY, PolicyBook
from tests.api.privacy_people import People, seed

SENDER = "web:0123456789abcdef0123456789abcdef"
OLD_TURN = "Ihre Forderung: 196,60 €, IBAN DE89 3704 0044 0532 0130 00"
NEW_TURN = "Möchten Sie in Raten zahlen?"


@pytest.fixture
def people(db_session: Session) -> People:
    """Seed Erika (and Otto) in the test transaction."""
    return seed(db_session)


@pytest.fixture
def chat(db_session: Session, people: People) -> str:
    """A verified web chat with a bot turn two hours old and one a minute old."""
    conversations_service.get_or_create(db_session=db_session, sender_id=SENDER, channel="web")
    conversations_service.mark_verified(
        db_session=db_session, sender_id=SENDER, claim_reference="PRIV-A-2",
        debtor_id=people.erika.debtor_id,
    )  # fmt: skip
    now = utcnow()
    for age, author, direction, text in (
        (timedelta(hours=2), "debtor", "in", "Wie hoch ist meine Forderung?"),
        (timedelta(hours=2), "bot", "out", OLD_TURN),
        (timedelta(minutes=1), "bot", "out", NEW_TURN),
    ):
        message = conversations_service.add_message(
            db_session=db_session, sender_id=SENDER, direction=direction, author=author, text=text
        )
        message.created_at = now - age
    db_session.flush()
    return SENDER


def _texts(messages: list[Any]) -> list[str]:
    return [m.text for m in messages]


def test_only_turns_younger_than_an_identity_check_are_replayed(
    db_session: Session, chat: str
) -> None:
    turns = replay.replayable_turns(db_session=db_session, sender_id=chat, limit=30)
    assert _texts(turns) == [NEW_TURN]
    longer = replace(DEFAULT_POLICY, verification_ttl_minutes=180)
    book = PolicyBook({"default": longer}, "test")
    turns = replay.replayable_turns(db_session=db_session, sender_id=chat, limit=30, book=book)
    assert _texts(turns) == ["Wie hoch ist meine Forderung?", OLD_TURN, NEW_TURN]


def test_nothing_is_replayed_once_identity_has_expired(db_session: Session, chat: str) -> None:
    conversations_service.forget_verification(db_session=db_session, sender_id=chat)
    assert replay.replayable_turns(db_session=db_session, sender_id=chat, limit=30) == []
    assert replay.replayable_turns(db_session=db_session, sender_id="web:nobody", limit=30) == []


def test_the_web_chat_replays_through_the_same_rule(
    db_session: Session, chat: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def the_test_session(*_: Any, **__: Any) -> Iterator[Session]:
        yield db_session

    monkeypatch.setattr(socketio, "session_scope", the_test_session)
    assert [t["text"] for t in socketio._recent_turns(chat, socketio.HISTORY_TURNS)] == [NEW_TURN]
    conversations_service.forget_verification(db_session=db_session, sender_id=chat)
    assert socketio._recent_turns(chat, socketio.HISTORY_TURNS) == []
