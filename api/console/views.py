"""The console's JSON API under `/api/console`: every route needs a valid bearer token."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request

from api.agents.dependencies import CurrentAgent
from api.db import SessionDep, session_scope
from api.dialogue import agents as agent_ops
from api.events.bus import EventBus
from api.rasa.client import RasaClient

from . import service as console_service
from .dependencies import ActingAgent
from .schemas import (
    CannedReplyOut,
    CloseIn,
    HandoffDetailOut,
    HandoffEventOut,
    MeOut,
    MessageOut,
    NoteEventOut,
    QueueItemOut,
    TextIn,
)

router = APIRouter(prefix="/api/console", tags=["console"])


def _bus(request: Request) -> EventBus:
    """Return the app's event bus."""
    bus: EventBus = request.app.state.bus
    return bus


@router.get("/me")
def me(agent: CurrentAgent) -> MeOut:
    """Tell the console who is logged in."""
    return MeOut(id=agent.id, email=agent.email, role=agent.role)


@router.get("/queue")
def queue(db_session: SessionDep, agent: ActingAgent) -> list[QueueItemOut]:
    """List the open handoffs the agent may see, longest waiting first."""
    return console_service.queue(db_session=db_session, agent=agent)


@router.get("/handoffs/{handoff_id}")
def read_handoff(handoff_id: int, db_session: SessionDep, agent: ActingAgent) -> HandoffDetailOut:
    """Show a handoff with transcript, private notes and the verified claim."""
    return console_service.detail(db_session=db_session, handoff_id=handoff_id, agent=agent)


@router.post("/handoffs/{handoff_id}/take")
async def take(handoff_id: int, request: Request, agent: ActingAgent) -> HandoffEventOut:
    """Take a queued handoff; of two agents racing for it, one gets 409."""
    event = await agent_ops.take(bus=_bus(request), handoff_id=handoff_id, agent=agent)
    return HandoffEventOut.model_validate(event)


@router.post("/handoffs/{handoff_id}/reply")
async def reply(handoff_id: int, body: TextIn, request: Request, agent: ActingAgent) -> MessageOut:
    """Write to the debtor on their channel (only the agent holding the handoff)."""
    view = await agent_ops.reply(
        bus=_bus(request), handoff_id=handoff_id, agent=agent, text=body.text
    )
    return MessageOut.model_validate(view)


@router.post("/handoffs/{handoff_id}/notes")
async def add_note(
    handoff_id: int, body: TextIn, request: Request, agent: ActingAgent
) -> NoteEventOut:
    """Add a private note to a handoff the agent may see."""

    def check() -> None:
        """Refuse handoffs the agent may not see."""
        with session_scope() as db_session:
            console_service.visible_handoff(
                db_session=db_session, handoff_id=handoff_id, agent=agent
            )

    # Visibility first: an agent must not annotate another agent's conversation.
    await asyncio.to_thread(check)
    event = await agent_ops.note(
        bus=_bus(request), handoff_id=handoff_id, agent=agent, text=body.text
    )
    return NoteEventOut.model_validate(event)


@router.post("/handoffs/{handoff_id}/handback")
async def hand_back(handoff_id: int, request: Request, agent: ActingAgent) -> HandoffEventOut:
    """Give the conversation back to the bot, with the agent's turns in its history."""
    rasa: RasaClient = request.app.state.rasa
    event = await agent_ops.hand_back(
        bus=_bus(request), rasa=rasa, handoff_id=handoff_id, agent=agent
    )
    return HandoffEventOut.model_validate(event)


@router.post("/handoffs/{handoff_id}/close")
async def close(
    handoff_id: int, body: CloseIn, request: Request, agent: ActingAgent
) -> HandoffEventOut:
    """Close the handoff with an outcome; the conversation stays with humans."""
    event = await agent_ops.close(
        bus=_bus(request), handoff_id=handoff_id, agent=agent, outcome=body.outcome
    )
    return HandoffEventOut.model_validate(event)


@router.get("/canned")
def canned(_agent: ActingAgent, language: Literal["de", "en"] = "de") -> list[CannedReplyOut]:
    """List the canned replies in the conversation's language."""
    return console_service.canned(language=language)
