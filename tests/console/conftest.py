"""Console API fixtures: the real app on a migrated, seeded SQLite file; no Rasa.

The console's operations open their own sessions (`session_scope()`), so the app
is pointed at a fresh copy of a migrated database per test instead of a
rolled-back test session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from domain.agents import service as agents_service
from domain.agents.security import create_access_token
from domain.claims import service as claims_service
from domain.config import ROOT
from domain.conversations import service as conversations_service
from domain.db import session_scope
from domain.db.columns import utcnow
from domain.disputes import service as disputes_service
from domain.handoffs import service as handoffs_service
from domain.promises import service as promises_service
from tests.support.databases import app_database, sqlite_copy, sqlite_template

DEMO_CLAIMS = ROOT / "data" / "demo_claims.json"
PASSWORD = "correct horse battery staple"
VERIFIED_REFERENCE = "260000117"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate a SQLite file and import the demo claims, once per session."""
    return sqlite_template(tmp_path_factory.mktemp("console-template"))


@pytest.fixture
def database(template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app at a fresh copy of the seeded database."""
    url = sqlite_copy(template_db, tmp_path / "quitt.db")
    with app_database(monkeypatch, url, without_redis=True):
        yield url


@dataclass(frozen=True)
class Agents:
    """The console users of a test, with bearer headers."""

    alice: int
    bob: int
    sue: int

    @staticmethod
    def headers(agent_id: int, role: str = "agent") -> dict[str, str]:
        """Return a bearer header for an agent."""
        return {"Authorization": f"Bearer {create_access_token(agent_id=agent_id, role=role)}"}

    @property
    def alice_h(self) -> dict[str, str]:
        """Alice's header (agent)."""
        return self.headers(self.alice)

    @property
    def bob_h(self) -> dict[str, str]:
        """Bob's header (agent)."""
        return self.headers(self.bob)

    @property
    def sue_h(self) -> dict[str, str]:
        """Sue's header (supervisor)."""
        return self.headers(self.sue, "supervisor")


@pytest.fixture
def agents(database: str) -> Agents:
    """Create two agents and a supervisor."""
    with session_scope() as db_session:
        ids = [
            agents_service.create_agent(
                db_session=db_session, email=f"{name}@quitt.test", password=PASSWORD, role=role
            ).id
            for name, role in (("alice", "agent"), ("bob", "agent"), ("sue", "supervisor"))
        ]
    return Agents(*ids)


def seed_handoff(
    *,
    sender: str,
    reason: str = "human_request",
    language: str = "de",
    waited: timedelta = timedelta(minutes=5),
    messages: list[tuple[str, str, dict[str, Any] | None]] | None = None,
    verified: str | None = None,
    state: str = "queued",
    agent_id: int | None = None,
) -> int:
    """Create a conversation with messages and a handoff in a given state; return its id."""
    with session_scope() as db_session:
        conversations_service.get_or_create(
            db_session=db_session, sender_id=sender, channel="rest", language=language
        )
        for author, text, sentiment in messages or []:
            conversations_service.add_message(
                db_session=db_session,
                sender_id=sender,
                direction="in" if author == "debtor" else "out",
                author=author,
                text=text,
                data={"sentiment": sentiment} if sentiment else None,
            )
        if verified:
            claim = claims_service.get_by_reference(db_session=db_session, reference=verified)
            assert claim is not None
            conversations_service.mark_verified(
                db_session=db_session,
                sender_id=sender,
                claim_reference=verified,
                debtor_id=claim.debtor_id,
            )
        handoff = handoffs_service.open_handoff(
            db_session=db_session, conversation_id=sender, channel="rest", reason=reason
        )
        handoff.created_at = utcnow() - waited
        if state == "assigned":
            assert agent_id is not None
            handoffs_service.assign(db_session=db_session, handoff_id=handoff.id, agent_id=agent_id)
        elif state == "closed":
            handoffs_service.close(db_session=db_session, handoff_id=handoff.id, outcome="done")
        db_session.flush()
        return handoff.id


def seed_claim_history(reference: str, sender: str) -> None:
    """Give a claim a promise and a dispute."""
    with session_scope() as db_session:
        promises_service.create(
            db_session=db_session,
            claim_references=[reference],
            kind="deferral",
            amount=Decimal("475.68"),
            due_date=(utcnow() + timedelta(days=20)).date(),
            channel="rest",
            conversation_id=sender,
            policy_version="test",
            idempotency_key=None,
        )
        disputes_service.create(
            db_session=db_session,
            claim_reference=reference,
            conversation_id=sender,
            reason_text="Rechnung nie erhalten",
        )


@dataclass(frozen=True)
class Seeded:
    """The handoffs of the standard scene."""

    queued: int
    alices: int
    bobs: int
    closed: int


@pytest.fixture
def scene(agents: Agents) -> Seeded:
    """Four handoffs: one queued (verified, with history), one held by each agent, one closed."""
    angry = {"label": "negative_angry", "score": 0.91}
    calm = {"label": "neutral", "score": 0.62}
    queued = seed_handoff(
        sender="web-queued",
        waited=timedelta(minutes=3),
        verified=VERIFIED_REFERENCE,
        messages=[
            ("bot", "Hallo, ich bin ein automatischer Assistent.", None),
            ("debtor", "Das ist eine Frechheit!", angry),
            ("bot", "Das tut mir leid.", None),
            ("debtor", "Ich möchte mit einem Mitarbeiter sprechen", calm),
            ("bot", "Ich verbinde Sie mit einem Mitarbeiter.", None),
        ],
    )
    seed_claim_history(VERIFIED_REFERENCE, "web-queued")
    alices = seed_handoff(
        sender="web-alice",
        reason="dispute",
        language="en",
        waited=timedelta(minutes=20),
        messages=[("debtor", "I never got this bill", angry)],
        state="assigned",
        agent_id=agents.alice,
    )
    bobs = seed_handoff(
        sender="web-bob",
        reason="crisis",
        waited=timedelta(minutes=10),
        messages=[("debtor", "Ich kann nicht mehr", None)],
        state="assigned",
        agent_id=agents.bob,
    )
    closed = seed_handoff(
        sender="web-closed", waited=timedelta(hours=2), state="closed", messages=[]
    )
    return Seeded(queued=queued, alices=alices, bobs=bobs, closed=closed)


@pytest.fixture
def app(database: str) -> FastAPI:
    """Build the real gateway app on the test database."""
    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """Run the app (lifespan included) in one event loop shared by HTTP and WebSockets.

    The lifespan only creates the Rasa HTTP client; nothing here calls Rasa.
    """
    with TestClient(app) as test_client:
        yield test_client
