"""`POST /api/auth/login`."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.agents.dependencies import LoginLimiter
from api.db import SessionDep
from domain.agents import service as agent_service
from domain.agents.schemas import LoginIn, TokenOut
from domain.agents.security import create_access_token
from domain.errors import Unauthorized

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login")
def login(
    body: LoginIn, request: Request, db_session: SessionDep, limiter: LoginLimiter
) -> TokenOut:
    """Exchange email and password for a bearer token."""
    client = request.client.host if request.client else "unknown"
    key = f"{agent_service.normalise_email(body.email)}|{client}"
    limiter.hit(key)
    agent = agent_service.authenticate(
        db_session=db_session, email=body.email, password=body.password
    )
    if agent is None:
        # One message for unknown email and wrong password.
        raise Unauthorized("invalid email or password")
    limiter.reset(key)
    return TokenOut(access_token=create_access_token(agent_id=agent.id, role=agent.role))
