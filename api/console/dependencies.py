"""The acting agent, as the console's operations want it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends

from api.agents.dependencies import CurrentAgent
from api.db.columns import utcnow
from api.dialogue.agents import Acting


def get_acting(agent: CurrentAgent) -> Acting:
    """Return the authenticated agent's id and role (401 without a valid token)."""
    return Acting(id=agent.id, role=agent.role)


ActingAgent = Annotated[Acting, Depends(get_acting)]


def request_time() -> datetime:
    """Return the moment a request acts at (service window, contact hours)."""
    return utcnow()


# Tests override `request_time` to pin the clock (contact hours depend on the weekday).
RequestTime = Annotated[datetime, Depends(request_time)]
