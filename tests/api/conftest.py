"""Fixtures for the gateway's data layer and HTTP API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.db import get_session
from api.main import create_app
from domain.agents import service as agent_service
from domain.agents.models import Agent
from domain.claims import service as claim_service

# The reminder tests' own databases and stand-ins (they commit, so no rolled-back session).
from tests.api.reminders_support import (  # noqa: F401
    mail_server,
    outbox_engine,
    outbox_url,
    postgres_schema,
    reminders_template_db,
    standin,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def demo_data(demo_claims_path: Path) -> dict[str, Any]:
    """Return the demo claims file as parsed JSON (a fresh copy per test)."""
    data: dict[str, Any] = json.loads(demo_claims_path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def imported(db_session: Session, demo_data: dict[str, Any]) -> claim_service.ImportReport:
    """Import the demo claims into the test transaction."""
    return claim_service.import_claims(db_session=db_session, data=demo_data)


@pytest.fixture
def agent(db_session: Session) -> Agent:
    """Create a console agent."""
    return agent_service.create_agent(
        db_session=db_session, email="Agent@Quitt.example", password=PASSWORD
    )


@pytest.fixture
def app(db_session: Session) -> FastAPI:
    """Build the gateway app on the test session."""
    application = create_app()

    def _session() -> Iterator[Session]:
        yield db_session

    application.dependency_overrides[get_session] = _session
    return application


async def rasa_up() -> bool:
    """Stand in for a reachable Rasa server."""
    return True


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """Return an HTTP client for the app; server errors become 500 answers.

    Not entered as a context manager: the app's lifespan would connect to a real
    Rasa server, which these tests replace with the `rasa_check` hook.
    """
    app.state.rasa_check = rasa_up
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def auth_headers(client: TestClient, agent: Agent) -> dict[str, str]:
    """Log the agent in and return the bearer header."""
    response = client.post("/api/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
