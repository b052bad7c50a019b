"""`/api/console/ws`: live console events for one authenticated agent.

The token travels in the first frame, never in the URL, so it stays out of
access logs. After that the socket carries every console event the agent may
see, plus a ping now and then so idle sockets survive proxies and timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from api.dialogue.agents import Acting
from api.events.bus import CONSOLE, EventBus
from domain.agents import service as agent_service
from domain.agents.security import decode_access_token
from domain.db import session_scope
from domain.errors import Unauthorized

from . import service as console_service

logger = logging.getLogger(__name__)

router = APIRouter(tags=["console"])

AUTH_TIMEOUT_SECONDS = 5.0
PING_INTERVAL_SECONDS = 25.0
CLOSE_UNAUTHORIZED = 4401


def _dumps(event: dict[str, Any]) -> str:
    """Serialise an event; anything unusual (dates, decimals) becomes a string."""
    return json.dumps(event, default=str, ensure_ascii=False)


def _agent_for(token: str) -> Acting:
    """Return the active agent named by a token, or raise Unauthorized (blocking)."""
    claims = decode_access_token(token)
    with session_scope() as db_session:
        agent = agent_service.get(db_session=db_session, agent_id=claims.agent_id)
        if agent is None or not agent.active:
            raise Unauthorized("invalid token")
        return Acting(id=agent.id, role=agent.role)


async def _authenticate(websocket: WebSocket) -> tuple[Acting, str]:
    """Read `{"token": …}` as the first frame within the time limit and check it."""
    message = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_SECONDS)
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(int(message.get("code") or 1000))
    try:
        frame = json.loads(message.get("text") or "")
    except ValueError:
        raise Unauthorized("the first frame must be JSON with a token") from None
    token = frame.get("token") if isinstance(frame, dict) else None
    if not isinstance(token, str) or not token:
        raise Unauthorized("the first frame must carry a token")
    return await asyncio.to_thread(_agent_for, token), token


def _visible(event: dict[str, Any], agent: Acting) -> bool:
    """Tell whether the event may go to the agent (blocking: may read the database)."""
    with session_scope() as db_session:
        return console_service.event_visible(db_session=db_session, event=event, agent=agent)


class _Socket:
    """One console socket: sends are serialised, since three tasks share it."""

    def __init__(self, websocket: WebSocket, agent: Acting, token: str) -> None:
        self.websocket = websocket
        self.agent = agent
        self.token = token
        self._send_lock = asyncio.Lock()
        self.expired = False
        self.gone = False

    async def send(self, event: dict[str, Any]) -> None:
        """Send one JSON frame."""
        async with self._send_lock:
            await self.websocket.send_text(_dumps(event))

    async def forward(self, events: AsyncIterator[dict[str, Any]]) -> None:
        """Pass every visible bus event to the client."""
        async for event in events:
            if not isinstance(event, dict):
                continue
            if self.agent.supervisor or await asyncio.to_thread(_visible, event, self.agent):
                await self.send(event)

    async def listen(self) -> None:
        """Read client frames until it goes away; answer pings with pongs."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.gone = True
                return
            with contextlib.suppress(ValueError, TypeError):
                frame = json.loads(message.get("text") or "")
                if isinstance(frame, dict) and frame.get("type") == "ping":
                    await self.send({"type": "pong"})

    async def keepalive(self) -> None:
        """Ping the client now and then; end when the token has expired."""
        while True:
            await asyncio.sleep(PING_INTERVAL_SECONDS)
            try:
                decode_access_token(self.token)
            except Unauthorized:
                self.expired = True
                return
            await self.send({"type": "ping"})


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close the socket unless it is closed already."""
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.close(code=code, reason=reason)


@router.websocket("/api/console/ws")
async def console_socket(websocket: WebSocket) -> None:
    """Authenticate with the first frame, then stream console events until either side ends."""
    await websocket.accept()
    try:
        agent, token = await _authenticate(websocket)
    except WebSocketDisconnect:
        return
    except TimeoutError:
        await _close(websocket, CLOSE_UNAUTHORIZED, "no token within 5 seconds")
        return
    except Unauthorized as exc:
        await _close(websocket, CLOSE_UNAUTHORIZED, exc.message)
        return

    bus: EventBus = websocket.app.state.bus
    socket = _Socket(websocket, agent, token)
    async with bus.subscribe(CONSOLE) as events:
        # Subscribed before "ready": nothing published after it is missed.
        await socket.send({"type": "ready", "agent_id": agent.id, "role": agent.role})
        # anyio, not bare asyncio tasks: the server's cancel scopes (shutdown, test
        # clients) then cancel all three cleanly.
        async with anyio.create_task_group() as group:

            async def run(part: Awaitable[None]) -> None:
                """Run one part; when it ends, for whatever reason, end the others."""
                try:
                    await part
                except (WebSocketDisconnect, RuntimeError, OSError):
                    pass  # the client is gone; sending to it failed
                except Exception:
                    logger.exception("console socket of agent %s failed", agent.id)
                finally:
                    group.cancel_scope.cancel()

            group.start_soon(run, socket.forward(events))
            group.start_soon(run, socket.listen())
            group.start_soon(run, socket.keepalive())
    if socket.expired:
        await _close(websocket, CLOSE_UNAUTHORIZED, "token expired")
    elif not socket.gone:
        await _close(websocket, 1000, "bye")
