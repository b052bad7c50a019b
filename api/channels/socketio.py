"""Rasa's socket.io channel at `/socket.io/`, served by the gateway for the `rasa-webchat` widget.

The protocol is the one `rasa/core/channels/socketio.py` speaks, so the widget
works unchanged: the client sends `session_request` {session_id}, the server
answers `session_confirm` with the id; each `user_uttered` {message,
session_id, customData} is answered with one `bot_uttered` per bot turn
({text}, or {text, quick_replies}). Every message goes through `handle_inbound`
(sentiment, handoff hold, transcript, audit), never straight to Rasa.

Sessions. A widget session is the conversation `web:<session_id>`. Every
socket of a session joins that session's room, and answers go to the room:
after a reload (the widget keeps the id in its storage) or in a second tab the
same conversation goes on. The session id is the only credential of the
conversation, so only ids the server could have issued (16-64 URL-safe
characters) are accepted; anything else gets a fresh one.

History on reconnect. rasa-webchat keeps the conversation in its own storage
and shows it again after a reload; replaying the transcript as `bot_uttered`
would show every turn twice. So a reconnect replays only what the widget
cannot have seen: agent replies written while no socket was connected, and bot
turns that were ready while the page was reloading. A client without storage
asks for the recent transcript with `session_request` {session_id,
"history": true}; those turns come as `bot_uttered` marked
`metadata.history`: only while the conversation is verified, and only turns
younger than an identity check lasts (`domain.privacy.replay`).

Typing. rasa-webchat shows its typing dots only while it delays a message it
has already received, not while the server works. So the gateway also emits
`bot_typing` {typing: true|false} around each answer (an extension the widget
ignores); the demo page shows an indicator from it (`onSocketEvent`).

Duplicates. A frame delivered twice (a reconnecting transport, a double-clicked
quick reply) is answered once (`api.channels.dedup`): by its `message_id` (in
the frame or in `customData`) when the client names its messages (rasa-webchat
does not), else by the rule for unnamed messages: the same text of the same
session while the first copy is being answered. A duplicate gets no second
answer; the first one reaches the session's room.

Agent replies. While a session has a socket here, this process listens on the
conversation's bus topic and emits agent replies live, marking them delivered
first with a conditional UPDATE, so the REST-style outbox (`take_undelivered`)
and a second gateway never send them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Final

import socketio
from fastapi import FastAPI
from sqlalchemy import update

from api.channels import dedup, widget
from api.dialogue.agents import take_undelivered
from api.dialogue.service import (
    MAX_MESSAGE_CHARS,
    Gateway,
    Inbound,
    agent_turns,
    clean_text,
    handle_inbound,
)
from api.events.bus import conversation_topic
from api.web import texts
from domain.conversations.models import Message
from domain.db import session_scope
from domain.db.columns import utcnow
from domain.privacy import replay
from domain.ratelimit import METADATA_KEY, ip_key

logger = logging.getLogger(__name__)

SOCKETIO_PATH: Final = "socket.io"
CHANNEL: Final = "web"
HISTORY_TURNS: Final = 30
# A user_uttered frame carries at most one message plus a little custom data. A client
# may send the message JSON-escaped: up to 12 bytes a character ("\\ud83d\\ude21").
MAX_FRAME_BYTES: Final = 16 * 1024 + 12 * MAX_MESSAGE_CHARS
LISTEN_READY_SECONDS: Final = 5.0
RESUBSCRIBE_SECONDS: Final = 1.0
# Turns kept for sessions without a socket (a page reloading), bounded against abandonment.
MAX_PENDING_TURNS: Final = 50
MAX_PENDING_SESSIONS: Final = 1000
# Lone UTF-16 surrogates cannot be stored or sent on as UTF-8.
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")


def _claim_agent_message(message_id: int) -> bool:
    """Mark an agent message delivered unless another channel took it first (blocking)."""
    with session_scope() as db_session:
        result = db_session.execute(
            update(Message)
            .where(
                Message.id == message_id,
                Message.author == "agent",
                Message.delivered_at.is_(None),
            )
            .values(delivered_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0))


def _take_undelivered(sender: str) -> list[dict[str, Any]]:
    """Take the agent replies the debtor has not seen yet (blocking)."""
    with session_scope() as db_session:
        return [{"text": m.text} for m in take_undelivered(db_session=db_session, sender_id=sender)]


def _recent_turns(sender: str, limit: int) -> list[widget.BotUttered]:
    """Return the conversation's latest bot and agent turns, oldest first (blocking)."""
    with session_scope() as db_session:
        return [
            widget.transcript_turn(
                m.author, m.text, (m.data or {}).get("buttons"), (m.data or {}).get("image")
            )
            # Verified now, and no older than an identity check lasts (domain.privacy.replay).
            for m in replay.replayable_turns(db_session=db_session, sender_id=sender, limit=limit)
            if m.direction == "out"
        ]


def _claim(delivery: dedup.Delivery | None) -> bool:
    """Take a named delivery for processing (blocking); False for a duplicate."""
    if delivery is None:
        return True
    with session_scope() as db_session:
        return dedup.claim(db_session=db_session, delivery=delivery)


def _settle(delivery: dedup.Delivery | None, *, done: bool) -> None:
    """Mark a named delivery answered, or release it after a failure (blocking)."""
    if delivery is None:
        return
    with session_scope() as db_session:
        if done:
            dedup.answered(db_session=db_session, delivery=delivery, response="")
        else:
            dedup.release(db_session=db_session, delivery=delivery)


@dataclass
class _Session:
    """The sockets of one widget session in this process, and its agent-reply listener."""

    sids: set[str] = field(default_factory=set)
    listener: asyncio.Task[None] | None = None
    # Bot turns that were ready while no socket was connected (page reloading).
    pending: list[widget.BotUttered] = field(default_factory=list)


class WebChat:
    """The socket.io server of the website chat, bound to one gateway app."""

    def __init__(self, app: FastAPI) -> None:
        """Create the server; handlers read the gateway from `app.state` when called."""
        self.app = app
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=widget.allowed_origin,
            max_http_buffer_size=MAX_FRAME_BYTES,
            logger=False,
            engineio_logger=False,
        )
        self._sid_session: dict[str, str] = {}
        self._sessions: dict[str, _Session] = {}
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("session_request", self._on_session_request)
        self.sio.on("user_uttered", self._on_user_uttered)

    def asgi_app(self) -> socketio.ASGIApp:
        """Return the ASGI app to mount at `/socket.io`."""
        return socketio.ASGIApp(self.sio, socketio_path=SOCKETIO_PATH)

    @property
    def gateway(self) -> Gateway:
        """Return the message pipeline the app's lifespan built."""
        gateway: Gateway = self.app.state.gateway
        return gateway

    def sessions(self) -> dict[str, int]:
        """Return the connected sessions and their socket counts (for tests and metrics)."""
        return {sid: len(s.sids) for sid, s in self._sessions.items() if s.sids}

    async def close(self) -> None:
        """Stop every agent-reply listener (call on shutdown, before the bus closes)."""
        listeners = [s.listener for s in self._sessions.values() if s.listener is not None]
        for listener in listeners:
            listener.cancel()
        for listener in listeners:
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        self._sessions.clear()
        self._sid_session.clear()

    async def _on_connect(self, sid: str, *_: Any) -> bool:
        """Accept every socket; a conversation starts with `session_request`."""
        return True

    async def _on_disconnect(self, sid: str, *_: Any) -> None:
        """Leave the session; stop its agent-reply listener when it was the last socket."""
        await self._leave(sid)

    async def _on_session_request(self, sid: str, *args: Any) -> None:
        """Confirm the session (the client's id if valid, else a new one) and catch up."""
        data = args[0] if args and isinstance(args[0], dict) else {}
        session_id = widget.valid_session_id(data.get("session_id")) or widget.new_session_id()
        await self._join(sid, session_id)
        # Rasa confirms with the bare id; rasa-webchat accepts that or {session_id}.
        await self.sio.emit("session_confirm", session_id, to=sid)
        await self._catch_up(sid, session_id, history=data.get("history") is True)

    async def _on_user_uttered(self, sid: str, *args: Any) -> None:
        """Hand a debtor message to the gateway and emit its answer to the session."""
        data = args[0] if args and isinstance(args[0], dict) else None
        if data is None:
            return
        message = data.get("message")
        if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
            logger.info("web chat: dropped a user_uttered frame without a usable message")
            return
        text = clean_text(_SURROGATE.sub("", message))
        if not text:
            return
        session_id = self._sid_session.get(sid)
        if session_id is None:
            # No session_request first: adopt the frame's id as Rasa does, or issue one.
            session_id = widget.valid_session_id(data.get("session_id")) or widget.new_session_id()
            await self._join(sid, session_id)
            await self.sio.emit("session_confirm", session_id, to=sid)
        custom = data.get("customData")
        language = custom.get("language") if isinstance(custom, dict) else None
        metadata: dict[str, Any] = {"language": language} if language in texts.LANGUAGES else {}
        room = widget.sender_of(session_id)
        client = ip_key(widget.client_ip(self.sio.get_environ(sid) or {}))
        if client:
            # The verification rate limit counts per client; only a keyed hash travels.
            metadata[METADATA_KEY] = client
        message_id = widget.message_id(data)
        delivery = (
            dedup.Delivery.of(channel=CHANNEL, sender=room, message_id=message_id)
            if message_id
            else None
        )
        with dedup.IN_FLIGHT_MESSAGES.hold(room, text) as first:
            try:
                fresh = first and await asyncio.to_thread(_claim, delivery)
            except Exception:
                logger.exception("web chat: could not record a message of %s", room)
                await self._emit(session_id, {"text": texts.text(language, "chat_unavailable")})
                return
            if not fresh:
                logger.info("web chat: dropped a duplicate message of %s", room)
                return
            await self._answer(session_id, room, text, metadata, language, delivery)

    async def _answer(
        self,
        session_id: str,
        room: str,
        text: str,
        metadata: dict[str, Any],
        language: Any,
        delivery: dedup.Delivery | None,
    ) -> None:
        """Pass a fresh message to the gateway and emit its answer to the session's sockets."""
        await self.sio.emit("bot_typing", {"typing": True}, room=room)
        done = False
        try:
            replies = await handle_inbound(
                Inbound(sender=room, channel=CHANNEL, text=text, metadata=metadata),
                gateway=self.gateway,
            )
            done = True
        except Exception:
            logger.exception("web chat: the gateway could not answer %s", room)
            replies = [{"text": texts.text(language, "chat_unavailable")}]
        with contextlib.suppress(Exception):
            await asyncio.to_thread(_settle, delivery, done=done)
        try:
            for reply in replies:
                await self._emit(session_id, widget.to_bot_uttered(reply))
        finally:
            await self.sio.emit("bot_typing", {"typing": False}, room=room)

    async def _join(self, sid: str, session_id: str) -> None:
        """Put the socket in the session's room and make sure agent replies reach it."""
        previous = self._sid_session.get(sid)
        if previous == session_id:
            return
        if previous is not None:
            await self._leave(sid)
        self._sid_session[sid] = session_id
        await self.sio.enter_room(sid, widget.sender_of(session_id))
        session = self._sessions.setdefault(session_id, _Session())
        session.sids.add(sid)
        if session.listener is None or session.listener.done():
            ready = asyncio.Event()
            session.listener = asyncio.create_task(
                self._listen(session_id, ready), name=f"webchat-listen-{session_id}"
            )
            # Subscribed before the catch-up reads the outbox: no reply falls in between.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), LISTEN_READY_SECONDS)

    async def _leave(self, sid: str) -> None:
        """Take the socket out of its session; the last one out stops the listener."""
        session_id = self._sid_session.pop(sid, None)
        if session_id is None:
            return
        await self.sio.leave_room(sid, widget.sender_of(session_id))
        session = self._sessions.get(session_id)
        if session is None:
            return
        session.sids.discard(sid)
        if session.sids:
            return
        listener = session.listener
        session.listener = None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        if not session.pending:
            self._sessions.pop(session_id, None)

    async def _catch_up(self, sid: str, session_id: str, *, history: bool) -> None:
        """Send the socket what it asked for or missed while no socket was connected."""
        sender = widget.sender_of(session_id)
        if history:
            for message in await asyncio.to_thread(_recent_turns, sender, HISTORY_TURNS):
                await self.sio.emit("bot_uttered", message, to=sid)
        session = self._sessions.get(session_id)
        pending: list[widget.BotUttered] = []
        if session is not None:
            pending, session.pending = session.pending, []
        for message in pending:
            await self._emit(session_id, message)
        async with self.gateway.lock(sender):
            missed = await asyncio.to_thread(_take_undelivered, sender)
        for reply in agent_turns(sender, missed):
            await self._emit(session_id, widget.to_bot_uttered(reply))

    async def _emit(self, session_id: str, message: widget.BotUttered) -> None:
        """Emit a bot turn to the session's sockets, or keep it until one reconnects."""
        session = self._sessions.get(session_id)
        if session is None or not session.sids:
            self._keep_pending(session_id, message)
            return
        await self.sio.emit("bot_uttered", message, room=widget.sender_of(session_id))

    def _keep_pending(self, session_id: str, message: widget.BotUttered) -> None:
        """Keep a turn for the session's next socket; forget the oldest abandoned sessions."""
        session = self._sessions.get(session_id)
        if session is None:
            waiting = [k for k, s in self._sessions.items() if not s.sids]
            for stale in waiting[: max(0, len(waiting) - MAX_PENDING_SESSIONS + 1)]:
                del self._sessions[stale]
            session = self._sessions[session_id] = _Session()
        session.pending = [*session.pending, message][-MAX_PENDING_TURNS:]

    async def _listen(self, session_id: str, ready: asyncio.Event) -> None:
        """Emit agent replies published for the conversation, each exactly once.

        A broken subscription (Redis restarting) is opened again; replies published
        in between wait in the outbox for the debtor's next message or reconnect.
        """
        sender = widget.sender_of(session_id)
        try:
            while True:
                try:
                    async with self.gateway.bus.subscribe(conversation_topic(sender)) as events:
                        ready.set()
                        async for event in events:
                            await self._deliver_agent_event(session_id, event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("web chat: lost the bus for %s; subscribing again", sender)
                    await asyncio.sleep(RESUBSCRIBE_SECONDS)
        finally:
            ready.set()

    async def _deliver_agent_event(self, session_id: str, event: dict[str, Any]) -> None:
        """Claim an agent message in the database, then emit it (skipped if taken)."""
        if event.get("type") != "message" or event.get("author") != "agent":
            return
        message_id, text = event.get("id"), event.get("text")
        if not isinstance(message_id, int) or not isinstance(text, str):
            return
        session = self._sessions.get(session_id)
        if session is None or not session.sids:
            return  # nobody here to show it to: it waits in the outbox
        # The lock keeps a debtor message (which takes the outbox) from racing the claim.
        async with self.gateway.lock(widget.sender_of(session_id)):
            claimed = await asyncio.to_thread(_claim_agent_message, message_id)
        if claimed:
            [reply] = agent_turns(widget.sender_of(session_id), [{"text": text}])
            await self._emit(session_id, widget.to_bot_uttered(reply))


def mount_webchat(app: FastAPI) -> WebChat:
    """Mount the website chat's socket.io server at `/socket.io/` on the app."""
    chat = WebChat(app)
    app.state.webchat = chat
    app.mount(f"/{SOCKETIO_PATH}", chat.asgi_app())
    return chat
