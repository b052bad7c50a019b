"""Handoffs: idempotent opening, state changes and the console list."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from domain.claims import service as claim_service
from domain.conversations import service as conversation_service
from domain.errors import Conflict, ValidationFailed
from domain.handoffs import service as handoff_service


def test_open_is_idempotent_and_queues_the_conversation(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    conversation_service.get_or_create(
        db_session=db_session, sender_id="web-7", channel="web", language="en"
    )
    first = handoff_service.open_handoff(
        db_session=db_session,
        conversation_id="web-7",
        channel="web",
        reason="human_request",
        sentiment_trail=[{"score": -0.4}],
    )
    second = handoff_service.open_handoff(
        db_session=db_session, conversation_id="web-7", channel="web", reason="crisis"
    )
    assert second.id == first.id
    assert first.reason == "human_request"
    assert first.language == "en"
    assert first.sentiment_trail == [{"score": -0.4}]
    conversation = conversation_service.get(db_session=db_session, sender_id="web-7")
    assert conversation is not None and conversation.state == "queued"
    assert handoff_service.active_for(db_session=db_session, conversation_id="web-7") == first
    assert len(handoff_service.list_handoffs(db_session=db_session)) == 1


def test_open_creates_missing_conversation_and_takes_verified_claim(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    conversation_service.get_or_create(db_session=db_session, sender_id="wa", channel="whatsapp")
    claim = claim_service.get_by_reference(db_session=db_session, reference="260000141")
    assert claim is not None
    conversation_service.mark_verified(
        db_session=db_session,
        sender_id="wa",
        claim_reference="260000141",
        debtor_id=claim.debtor_id,
    )
    handoff = handoff_service.open_handoff(
        db_session=db_session, conversation_id="wa", channel="whatsapp", reason="dispute"
    )
    assert handoff.claim_reference == "260000141"
    fresh = handoff_service.open_handoff(
        db_session=db_session, conversation_id="new-sender", channel="web", reason="bot_failure"
    )
    assert fresh.state == "queued"


def test_unknown_reason_is_refused(db_session: Session) -> None:
    with pytest.raises(ValidationFailed):
        handoff_service.open_handoff(
            db_session=db_session, conversation_id="x", channel="web", reason="bored"
        )


def test_assign_close_and_reopen(db_session: Session, agent: object) -> None:
    from domain.agents.models import Agent

    assert isinstance(agent, Agent)
    handoff = handoff_service.open_handoff(
        db_session=db_session, conversation_id="c1", channel="web", reason="human_request"
    )
    handoff_service.assign(db_session=db_session, handoff_id=handoff.id, agent_id=agent.id)
    conversation = conversation_service.get(db_session=db_session, sender_id="c1")
    assert conversation is not None and conversation.state == "assigned"
    handoff_service.close(db_session=db_session, handoff_id=handoff.id, outcome="resolved")
    assert handoff.state == "closed" and handoff.closed_at is not None
    assert conversation.state == "bot"
    with pytest.raises(Conflict):
        handoff_service.assign(db_session=db_session, handoff_id=handoff.id, agent_id=agent.id)
    again = handoff_service.open_handoff(
        db_session=db_session, conversation_id="c1", channel="web", reason="negative_sentiment"
    )
    assert again.id != handoff.id
    handoff_service.add_sentiment(db_session=db_session, handoff_id=again.id, entry={"s": -1})
    db_session.expire_all()
    assert handoff_service.get(db_session=db_session, handoff_id=again.id).sentiment_trail == [  # type: ignore[union-attr]
        {"s": -1}
    ]


def test_handoffs_api_filters_by_state(
    client: TestClient, auth_headers: dict[str, str], db_session: Session
) -> None:
    queued = handoff_service.open_handoff(
        db_session=db_session, conversation_id="q", channel="web", reason="human_request"
    )
    closed = handoff_service.open_handoff(
        db_session=db_session, conversation_id="z", channel="whatsapp", reason="crisis"
    )
    handoff_service.close(db_session=db_session, handoff_id=closed.id)

    everything = client.get("/api/handoffs", headers=auth_headers)
    assert everything.status_code == 200
    assert {h["id"] for h in everything.json()} == {queued.id, closed.id}

    only_queued = client.get("/api/handoffs?state=queued", headers=auth_headers).json()
    assert [h["id"] for h in only_queued] == [queued.id]
    item = only_queued[0]
    assert set(item) == {
        "id",
        "sender",
        "channel",
        "reason",
        "state",
        "claim_reference",
        "language",
        "created_at",
        "sentiment_trail",
        "statement",
    }
    assert (item["sender"], item["channel"], item["state"]) == ("q", "web", "queued")
    assert item["sentiment_trail"] == [] and item["statement"] is None

    only_closed = client.get("/api/handoffs?state=closed", headers=auth_headers).json()
    assert [h["sender"] for h in only_closed] == ["z"]
    assert client.get("/api/handoffs?state=assigned", headers=auth_headers).json() == []
    assert client.get("/api/handoffs?state=bogus", headers=auth_headers).status_code == 422
    assert client.get("/api/handoffs").status_code == 401


def test_a_statement_for_the_agent_goes_on_the_handoff(
    client: TestClient, auth_headers: dict[str, str], db_session: Session
) -> None:
    statement = {"kind": "affordability", "net_income": "1500.00", "affordable": "0.00"}
    plain = handoff_service.open_handoff(
        db_session=db_session, conversation_id="s", channel="rest", reason="human_request"
    )
    assert plain.statement is None
    # The conversation's active handoff takes a statement it does not have yet.
    same = handoff_service.open_handoff(
        db_session=db_session,
        conversation_id="s",
        channel="rest",
        reason="policy_limit",
        statement=statement,
    )
    assert same.id == plain.id
    other = handoff_service.open_handoff(
        db_session=db_session,
        conversation_id="t",
        channel="rest",
        reason="policy_limit",
        statement={**statement, "net_income": "999.00"},
    )
    db_session.expire_all()
    listed = {h["sender"]: h for h in client.get("/api/handoffs", headers=auth_headers).json()}
    assert listed["s"]["statement"] == statement
    assert listed["t"]["statement"]["net_income"] == "999.00"
    assert handoff_service.get(db_session=db_session, handoff_id=other.id).statement == {  # type: ignore[union-attr]
        **statement,
        "net_income": "999.00",
    }
