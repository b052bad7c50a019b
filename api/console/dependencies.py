"""The acting agent and the request's clock, as the console's operations want them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.agents.dependencies import get_current_agent
from api.dialogue.agents import Acting
from domain.db import session_scope
from domain.db.columns import utcnow

_bearer = HTTPBearer(auto_error=False)


def get_acting(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Acting:
    """Return the authenticated agent's id and role (401 without a valid token).

    The agent is read in a session of its own that ends here: a request-long
    transaction would hold SQLite's write lock (taken at BEGIN) while the console's
    actions write from worker threads, which would then wait for it in vain.
    """
    with session_scope() as db_session:
        agent = get_current_agent(db_session, credentials)
        return Acting(id=agent.id, role=agent.role)


ActingAgent = Annotated[Acting, Depends(get_acting)]


def request_time() -> datetime:
    """Return the moment a request acts at (service window, contact hours)."""
    return utcnow()


# Tests override `request_time` to pin the clock (contact hours depend on the weekday).
RequestTime = Annotated[datetime, Depends(request_time)]
