"""Agents: creation, log-in, tokens and the log-in rate limit."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from domain.agents import service as agent_service
from domain.agents.models import Agent
from domain.agents.security import LoginRateLimiter, create_access_token, decode_access_token
from domain.config import get_settings
from domain.db.columns import utcnow
from domain.errors import Conflict, RateLimited, Unauthorized, ValidationFailed

from .conftest import PASSWORD


def test_create_agent_stores_lowercase_email_and_argon2_hash(agent: Agent) -> None:
    assert agent.email == "agent@quitt.example"
    assert agent.password_hash.startswith("$argon2")
    assert PASSWORD not in agent.password_hash
    assert agent.role == "agent" and agent.active


def test_create_agent_refuses_duplicates_short_passwords_and_bad_roles(
    db_session: Session, agent: Agent
) -> None:
    with pytest.raises(Conflict, match="already exists"):
        agent_service.create_agent(
            db_session=db_session, email="AGENT@quitt.example", password="another long one"
        )
    with pytest.raises(ValidationFailed, match="at least 10"):
        agent_service.create_agent(db_session=db_session, email="b@q.example", password="short")
    with pytest.raises(ValidationFailed, match="role"):
        agent_service.create_agent(
            db_session=db_session, email="c@q.example", password="long enough!", role="root"
        )


def test_authenticate(db_session: Session, agent: Agent) -> None:
    found = agent_service.authenticate(
        db_session=db_session, email=" AGENT@quitt.example ", password=PASSWORD
    )
    assert found is agent
    assert (
        agent_service.authenticate(db_session=db_session, email=agent.email, password="x") is None
    )
    assert agent_service.authenticate(db_session=db_session, email="no@x.de", password="x") is None
    agent.active = False
    assert (
        agent_service.authenticate(db_session=db_session, email=agent.email, password=PASSWORD)
        is None
    )


def test_login_ok_gives_a_bearer_token(client: TestClient, agent: Agent) -> None:
    response = client.post(
        "/api/auth/login", json={"email": "AGENT@quitt.example", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(
        body["access_token"], get_settings().secret_key.get_secret_value(), algorithms=["HS256"]
    )
    assert claims["sub"] == str(agent.id) and claims["role"] == "agent"
    assert claims["exp"] - claims["iat"] == get_settings().access_token_minutes * 60


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: TestClient, agent: Agent
) -> None:
    wrong = client.post("/api/auth/login", json={"email": agent.email, "password": "nope"})
    unknown = client.post("/api/auth/login", json={"email": "ghost@x.de", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "invalid email or password"}


def test_login_is_rate_limited_per_email_and_client(client: TestClient, agent: Agent) -> None:
    for _ in range(5):
        response = client.post("/api/auth/login", json={"email": agent.email, "password": "x"})
        assert response.status_code == 401
    blocked = client.post("/api/auth/login", json={"email": agent.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # Another email from the same client is not affected.
    other = client.post("/api/auth/login", json={"email": "other@x.de", "password": "x"})
    assert other.status_code == 401


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = LoginRateLimiter(limit=2, window=60, clock=lambda: now[0])
    limiter.hit("k")
    limiter.hit("k")
    with pytest.raises(RateLimited) as caught:
        limiter.hit("k")
    assert caught.value.retry_after == 60
    now[0] = 60.5
    limiter.hit("k")
    limiter.reset("k")
    limiter.hit("k")


def test_expired_token_is_refused(client: TestClient, agent: Agent) -> None:
    minutes = get_settings().access_token_minutes
    token = create_access_token(
        agent_id=agent.id, role=agent.role, now=utcnow() - timedelta(minutes=minutes + 1)
    )
    with pytest.raises(Unauthorized, match="expired"):
        decode_access_token(token)
    response = client.get("/api/handoffs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "token expired"}


def test_token_signed_with_another_key_is_refused(client: TestClient, agent: Agent) -> None:
    forged = jwt.encode(
        {"sub": str(agent.id), "role": "supervisor", "exp": 4102444800},
        "not-the-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    response = client.get("/api/handoffs", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_token_of_a_deactivated_agent_is_refused(
    client: TestClient, agent: Agent, auth_headers: dict[str, str], app: FastAPI
) -> None:
    assert client.get("/api/handoffs", headers=auth_headers).status_code == 200
    agent.active = False
    assert client.get("/api/handoffs", headers=auth_headers).status_code == 401
