"""Who may see which handoff: supervisors every one; agents the open queue (queued
handoffs) and the handoffs they hold or held.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.dialogue.agents import Acting
from domain.errors import Forbidden, NotFound
from domain.handoffs import service as handoff_service
from domain.handoffs.models import Handoff


def can_see(handoff: Handoff, agent: Acting) -> bool:
    """Tell whether the agent may see this handoff and its conversation."""
    return agent.supervisor or handoff.state == "queued" or handoff.assigned_agent_id == agent.id


def visible_handoff(*, db_session: Session, handoff_id: int, agent: Acting) -> Handoff:
    """Get a handoff the agent may see, or raise NotFound / Forbidden."""
    handoff = handoff_service.get(db_session=db_session, handoff_id=handoff_id)
    if handoff is None:
        raise NotFound(f"handoff {handoff_id} not found")
    if not can_see(handoff, agent):
        raise Forbidden(f"handoff {handoff_id} is held by another agent")
    return handoff
