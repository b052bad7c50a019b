"""FastAPI dependencies: the authenticated agent and the login rate limiter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.db import SessionDep
from domain.agents import service as agent_service
from domain.agents.models import Agent
from domain.agents.security import LoginRateLimiter, decode_access_token
from domain.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False)


def get_current_agent(
    db_session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Agent:
    """Return the active agent named by the bearer token, or refuse with 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("not authenticated")
    claims = decode_access_token(credentials.credentials)
    agent = agent_service.get(db_session=db_session, agent_id=claims.agent_id)
    if agent is None or not agent.active:
        raise Unauthorized("invalid token")
    return agent


def get_login_limiter(request: Request) -> LoginRateLimiter:
    """Return the app's login rate limiter (one per app, created on first use)."""
    limiter: LoginRateLimiter | None = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = LoginRateLimiter()
        request.app.state.login_limiter = limiter
    return limiter


CurrentAgent = Annotated[Agent, Depends(get_current_agent)]
LoginLimiter = Annotated[LoginRateLimiter, Depends(get_login_limiter)]
