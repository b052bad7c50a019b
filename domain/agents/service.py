"""Agents: console users, their passwords and log-in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.agents.models import AGENT_ROLES, Agent
from domain.agents.security import hash_password, verify_password
from domain.errors import Conflict, ValidationFailed

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    """Return the email as stored: trimmed and lower-cased."""
    return email.strip().lower()


def get(*, db_session: Session, agent_id: int) -> Agent | None:
    """Get an agent by id."""
    return db_session.get(Agent, agent_id)


def get_by_email(*, db_session: Session, email: str) -> Agent | None:
    """Get an agent by email, case-insensitively."""
    return db_session.scalar(select(Agent).where(Agent.email == normalise_email(email)))


def create_agent(*, db_session: Session, email: str, password: str, role: str = "agent") -> Agent:
    """Create a console user with an argon2-hashed password."""
    address = normalise_email(email)
    if "@" not in address or len(address) > 254:
        raise ValidationFailed(f"email: not an email address: {email!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
    if role not in AGENT_ROLES:
        raise ValidationFailed(f"role: must be one of {', '.join(AGENT_ROLES)}, not {role!r}")
    if get_by_email(db_session=db_session, email=address) is not None:
        raise Conflict(f"an agent with email {address} already exists")
    agent = Agent(email=address, password_hash=hash_password(password), role=role)
    try:
        with db_session.begin_nested():
            db_session.add(agent)
            db_session.flush()
    except IntegrityError:
        raise Conflict(f"an agent with email {address} already exists") from None
    return agent


def authenticate(*, db_session: Session, email: str, password: str) -> Agent | None:
    """Return the active agent with these credentials, or None."""
    agent = get_by_email(db_session=db_session, email=email)
    valid = verify_password(password, agent.password_hash if agent else None)
    if agent is None or not valid or not agent.active:
        return None
    return agent
