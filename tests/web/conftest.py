"""Web chat fixtures: the real stack (Rasa, actions, gateway) and socket.io debtors on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio

from api.launcher import Stack

ANSWER_TIMEOUT = 60.0


@dataclass
class WebDebtor:
    """A rasa-webchat-like client: one socket.io connection speaking Rasa's channel protocol."""

    base_url: str
    language: str = "de"
    client: socketio.AsyncClient = field(init=False)
    session_id: str | None = None
    uttered: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    confirmed: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    typing: list[bool] = field(default_factory=list)
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("bot_uttered", self._on_uttered)
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_typing", self._on_typing)

    async def _on_uttered(self, data: dict[str, Any]) -> None:
        """Queue a bot turn."""
        await self.uttered.put(data)

    async def _on_confirm(self, data: Any) -> None:
        """Queue a session confirmation."""
        await self.confirmed.put(data)

    async def _on_typing(self, data: dict[str, Any]) -> None:
        """Record the typing indicator; `typing: false` ends an answer."""
        self.typing.append(bool(data.get("typing")))
        if not data.get("typing"):
            self.idle.set()

    async def connect(self, session_id: str | None = None, **request: Any) -> str:
        """Connect over WebSocket, ask for a session and return the confirmed id."""
        await self.client.connect(
            self.base_url, socketio_path="/socket.io/", transports=["websocket"]
        )
        await self.client.emit("session_request", {"session_id": session_id, **request})
        confirmed = await asyncio.wait_for(self.confirmed.get(), ANSWER_TIMEOUT)
        assert isinstance(confirmed, str), confirmed
        self.session_id = confirmed
        return confirmed

    async def say(self, text: str, **custom: Any) -> list[dict[str, Any]]:
        """Send a message as the widget does and return the bot turns of the answer."""
        self.idle.clear()
        await self.client.emit(
            "user_uttered",
            {
                "message": text,
                "session_id": self.session_id,
                "customData": {"language": self.language, **custom},
            },
        )
        await asyncio.wait_for(self.idle.wait(), ANSWER_TIMEOUT)
        return self.drain()

    async def texts(self, text: str) -> str:
        """Send a message and return the answer as one text."""
        return "\n".join(m.get("text", "") for m in await self.say(text))

    def drain(self) -> list[dict[str, Any]]:
        """Return every bot turn received so far."""
        turns = []
        while not self.uttered.empty():
            turns.append(self.uttered.get_nowait())
        return turns

    async def next_turn(self, timeout: float = ANSWER_TIMEOUT) -> dict[str, Any]:
        """Wait for the next bot turn."""
        return await asyncio.wait_for(self.uttered.get(), timeout)

    async def close(self) -> None:
        """Disconnect."""
        if self.client.connected:
            await self.client.disconnect()


@pytest.fixture
def base_url(stack: Stack) -> str:
    """Return the running gateway's URL."""
    return f"http://127.0.0.1:{stack.gateway_port}"


@pytest.fixture
async def web_debtors(base_url: str) -> AsyncIterator[list[WebDebtor]]:
    """Hand out a list that tests fill with debtors; disconnect all of them at the end."""
    made: list[WebDebtor] = []
    yield made
    for debtor in made:
        await debtor.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the socket.io protocol tests as integration tests (they start the stack)."""
    for item in items:
        if Path(str(item.fspath)).name == "test_socketio.py":
            item.add_marker(pytest.mark.integration)
