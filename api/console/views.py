"""The console's JSON API under `/api/console`: every route needs a valid bearer token."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from api.agents.dependencies import CurrentAgent
from api.channels.whatsapp.runtime import WhatsAppRuntime
from api.db import SessionDep
from api.dialogue import agents as agent_ops
from api.events.bus import EventBus
from api.rasa.client import RasaClient
from domain.db import session_scope

from . import access as console_access
from . import attachments as console_attachments
from . import service as console_service
from . import whatsapp as whatsapp_console
from .dependencies import ActingAgent, RequestTime
from .schemas import (
    CannedReplyOut,
    CloseIn,
    HandoffDetailOut,
    HandoffEventOut,
    MeOut,
    MessageOut,
    NoteEventOut,
    QueueItemOut,
    TemplateIn,
    TextIn,
)

# Row ids are 32-bit positive integers on every backend; larger ones name nothing (404
# from the lookup would need the database to accept them first, and SQLite cannot).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]

router = APIRouter(prefix="/api/console", tags=["console"])


def _bus(request: Request) -> EventBus:
    """Return the app's event bus."""
    bus: EventBus = request.app.state.bus
    return bus


def _whatsapp(request: Request) -> WhatsAppRuntime:
    """Return the WhatsApp channel's runtime (its Twilio client)."""
    runtime: WhatsAppRuntime = request.app.state.whatsapp
    return runtime


def _refused(exc: whatsapp_console.ChannelRefused) -> JSONResponse:
    """Answer a refusal of the channel with its reason code and details."""
    return JSONResponse(exc.body(), status_code=exc.status_code)


@router.get("/me")
def me(agent: CurrentAgent) -> MeOut:
    """Tell the console who is logged in."""
    return MeOut(id=agent.id, email=agent.email, role=agent.role)


@router.get("/queue")
def queue(db_session: SessionDep, agent: ActingAgent) -> list[QueueItemOut]:
    """List the open handoffs the agent may see, longest waiting first."""
    return console_service.queue(db_session=db_session, agent=agent)


@router.get("/handoffs/{handoff_id}")
def read_handoff(
    handoff_id: RowId, db_session: SessionDep, agent: ActingAgent, now: RequestTime
) -> HandoffDetailOut:
    """Show a handoff with transcript, notes, the verified claim, attachments and alerts."""
    return console_service.detail(
        db_session=db_session, handoff_id=handoff_id, agent=agent, now=now
    )


@router.post("/handoffs/{handoff_id}/take")
async def take(handoff_id: RowId, request: Request, agent: ActingAgent) -> HandoffEventOut:
    """Take a queued handoff; of two agents racing for it, one gets 409."""
    event = await agent_ops.take(bus=_bus(request), handoff_id=handoff_id, agent=agent)
    return HandoffEventOut.model_validate(event)


@router.post(
    "/handoffs/{handoff_id}/reply",
    response_model=MessageOut,
    responses={409: {"description": "the channel refuses free text now (reason code inside)"}},
)
async def reply(
    handoff_id: RowId, body: TextIn, request: Request, agent: ActingAgent, now: RequestTime
) -> MessageOut | JSONResponse:
    """Write to the debtor on their channel (only the agent holding the handoff).

    On WhatsApp, free text is refused (409) outside the 24-hour window and after
    an opt-out, before anything is stored; the agent's text stays in their box.
    """
    try:
        await whatsapp_console.check_free_text(
            bus=_bus(request), handoff_id=handoff_id, agent=agent, now=now
        )
    except whatsapp_console.ChannelRefused as exc:
        return _refused(exc)
    view = await agent_ops.reply(
        bus=_bus(request), handoff_id=handoff_id, agent=agent, text=body.text
    )
    return MessageOut.model_validate(view)


@router.post("/handoffs/{handoff_id}/notes")
async def add_note(
    handoff_id: RowId, body: TextIn, request: Request, agent: ActingAgent
) -> NoteEventOut:
    """Add a private note to a handoff the agent may see."""

    def check() -> None:
        """Refuse handoffs the agent may not see."""
        with session_scope() as db_session:
            console_access.visible_handoff(
                db_session=db_session, handoff_id=handoff_id, agent=agent
            )

    # Visibility first: an agent must not annotate another agent's conversation.
    await asyncio.to_thread(check)
    event = await agent_ops.note(
        bus=_bus(request), handoff_id=handoff_id, agent=agent, text=body.text
    )
    return NoteEventOut.model_validate(event)


@router.post("/handoffs/{handoff_id}/handback")
async def hand_back(handoff_id: RowId, request: Request, agent: ActingAgent) -> HandoffEventOut:
    """Give the conversation back to the bot, with the agent's turns in its history."""
    rasa: RasaClient = request.app.state.rasa
    event = await agent_ops.hand_back(
        bus=_bus(request), rasa=rasa, handoff_id=handoff_id, agent=agent
    )
    return HandoffEventOut.model_validate(event)


@router.post("/handoffs/{handoff_id}/close")
async def close(
    handoff_id: RowId, body: CloseIn, request: Request, agent: ActingAgent
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


@router.post(
    "/handoffs/{handoff_id}/whatsapp/template",
    response_model=MessageOut,
    responses={
        409: {"description": "the template may not go out now (reason code inside)"},
        502: {"description": "Twilio refused the template"},
    },
)
async def send_template(
    handoff_id: RowId, body: TemplateIn, request: Request, agent: ActingAgent, now: RequestTime
) -> MessageOut | JSONResponse:
    """Send an approved WhatsApp template once the 24-hour window has closed (audited)."""
    try:
        view = await whatsapp_console.send_template(
            bus=_bus(request),
            client=_whatsapp(request).client,
            handoff_id=handoff_id,
            agent=agent,
            name=body.template,
            now=now,
        )
    except whatsapp_console.ChannelRefused as exc:
        return _refused(exc)
    return MessageOut.model_validate(view)


@router.get("/handoffs/{handoff_id}/attachments/{attachment_id}", response_class=Response)
async def open_attachment(
    handoff_id: RowId, attachment_id: RowId, request: Request, agent: ActingAgent
) -> Response:
    """Hand over a debtor's file, fetched from Twilio by the gateway (audited)."""
    media, described = await console_attachments.open_attachment(
        client=_whatsapp(request).client,
        handoff_id=handoff_id,
        attachment_id=attachment_id,
        agent=agent,
    )
    return Response(
        media.content,
        media_type=described.content_type,
        headers=console_attachments.attachment_headers(described),
    )
