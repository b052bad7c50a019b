"""The console WebSocket: first-frame authentication, visibility, keepalive, live events."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from api.console import ws as console_ws
from api.events.bus import CONSOLE

from .conftest import Agents, Seeded

WS = "/api/console/ws"


def token(headers: dict[str, str]) -> str:
    """Return the token of a bearer header."""
    return headers["Authorization"].removeprefix("Bearer ")


def connect(socket: WebSocketTestSession, headers: dict[str, str]) -> dict[str, Any]:
    """Authenticate with the first frame and return the `ready` frame."""
    socket.send_json({"token": token(headers)})
    ready: dict[str, Any] = socket.receive_json()
    assert ready["type"] == "ready"
    return ready


def publish(client: TestClient, app: FastAPI, event: dict[str, Any]) -> None:
    """Publish an event on the app's bus, inside the app's event loop."""
    assert client.portal is not None
    client.portal.call(app.state.bus.publish, CONSOLE, event)


def close_code(socket: WebSocketTestSession) -> int:
    """Wait for the server to close the socket and return the close code."""
    with pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_json()
    return closed.value.code


def test_first_frame_token_authenticates(client: TestClient, agents: Agents) -> None:
    with client.websocket_connect(WS) as socket:
        ready = connect(socket, agents.alice_h)
        assert ready == {"type": "ready", "agent_id": agents.alice, "role": "agent"}


@pytest.mark.parametrize(
    "frame",
    [
        '{"token": "not-a-token"}',
        '{"nothing": "here"}',
        "not json",
        '["token"]',
        b'{"token": "binary frames are not read"}',
    ],
)
def test_bad_first_frame_closes_4401(
    client: TestClient, agents: Agents, frame: str | bytes
) -> None:
    with client.websocket_connect(WS) as socket:
        if isinstance(frame, bytes):
            socket.send_bytes(frame)
        else:
            socket.send_text(frame)
        assert close_code(socket) == 4401


def test_no_token_in_time_closes_4401(
    client: TestClient, agents: Agents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_ws, "AUTH_TIMEOUT_SECONDS", 0.2)
    with client.websocket_connect(WS) as socket:
        assert close_code(socket) == 4401


def test_published_event_reaches_subscribed_socket(
    client: TestClient, app: FastAPI, agents: Agents, scene: Seeded
) -> None:
    event = {
        "type": "message",
        "id": 999,
        "conversation_id": "web-queued",
        "author": "debtor",
        "text": "Hallo?",
        "sentiment": None,
        "created_at": "2026-01-01T10:00:00+00:00",
    }
    with client.websocket_connect(WS) as socket:
        connect(socket, agents.alice_h)
        publish(client, app, event)
        assert socket.receive_json() == event


def test_agent_sockets_only_carry_what_the_agent_may_see(
    client: TestClient, app: FastAPI, agents: Agents, scene: Seeded
) -> None:
    bobs = {"type": "message", "id": 1, "conversation_id": "web-bob", "author": "debtor"}
    note = {"type": "note", "id": 2, "handoff_id": scene.bobs, "conversation_id": "web-bob"}
    unknown = {"type": "message", "id": 3, "conversation_id": "nobody", "author": "debtor"}
    state_change = {"type": "handoff_assigned", "handoff_id": scene.bobs, "state": "assigned"}
    queued = {"type": "message", "id": 4, "conversation_id": "web-queued", "author": "debtor"}
    with client.websocket_connect(WS) as alice, client.websocket_connect(WS) as sue:
        connect(alice, agents.alice_h)
        connect(sue, agents.sue_h)
        for event in (bobs, note, unknown, state_change, queued):
            publish(client, app, event)
        # Alice misses Bob's conversation, but sees queue movements and the open queue.
        assert alice.receive_json() == state_change
        assert alice.receive_json() == queued
        # The supervisor sees everything, in order.
        assert [sue.receive_json() for _ in range(5)] == [
            bobs,
            note,
            unknown,
            state_change,
            queued,
        ]


def test_console_actions_are_pushed_live(client: TestClient, agents: Agents, scene: Seeded) -> None:
    with client.websocket_connect(WS) as bob:
        connect(bob, agents.bob_h)
        taken = client.post(f"/api/console/handoffs/{scene.queued}/take", headers=agents.alice_h)
        assert taken.status_code == 200
        event = bob.receive_json()
        assert event["type"] == "handoff_assigned"
        assert event["handoff_id"] == scene.queued
        assert event["assigned_agent_id"] == agents.alice

    with client.websocket_connect(WS) as alice:
        connect(alice, agents.alice_h)
        client.post(
            f"/api/console/handoffs/{scene.queued}/reply",
            json={"text": "Guten Tag"},
            headers=agents.alice_h,
        )
        message = alice.receive_json()
        assert message["type"] == "message" and message["author"] == "agent"
        assert message["text"] == "Guten Tag" and message["conversation_id"] == "web-queued"


def test_keepalive_pings_and_pongs(
    client: TestClient, agents: Agents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_ws, "PING_INTERVAL_SECONDS", 0.05)
    with client.websocket_connect(WS) as socket:
        connect(socket, agents.alice_h)
        assert socket.receive_json() == {"type": "ping"}
        socket.send_json({"type": "ping"})
        frames = [socket.receive_json() for _ in range(3)]
        assert {"type": "pong"} in frames


def test_socket_closes_4401_when_the_token_expires(
    client: TestClient, agents: Agents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_ws, "PING_INTERVAL_SECONDS", 0.05)
    with client.websocket_connect(WS) as socket:
        connect(socket, agents.alice_h)
        assert socket.receive_json() == {"type": "ping"}
        # The token runs out while the socket is open: the next keepalive ends it.
        monkeypatch.setattr(console_ws, "decode_access_token", _expired)
        code = None
        for _ in range(5):
            try:
                socket.receive_json()
            except WebSocketDisconnect as closed:
                code = closed.code
                break
        assert code == 4401


def _expired(_token: str) -> None:
    """Stand in for the token check once the token has expired."""
    from domain.errors import Unauthorized

    raise Unauthorized("token expired")


def test_client_disconnect_unsubscribes(
    client: TestClient, app: FastAPI, agents: Agents, scene: Seeded
) -> None:
    with client.websocket_connect(WS) as socket:
        connect(socket, agents.alice_h)
    # Publishing after the client left must not fail or pile up.
    publish(client, app, {"type": "handoff_closed", "handoff_id": scene.queued})
    with client.websocket_connect(WS) as socket:
        connect(socket, agents.alice_h)
        publish(client, app, {"type": "handoff_closed", "handoff_id": scene.alices})
        assert socket.receive_json()["handoff_id"] == scene.alices
