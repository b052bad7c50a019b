"""Two gateway processes serve one console through Redis pub/sub."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import websockets

from api.launcher import Stack
from tests.integration.conftest import AGENT_EMAIL, AGENT_PASSWORD, _free_port, seed_database

REDIS = ("127.0.0.1", 6379)


@pytest.fixture(scope="module")
def two_gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """Run Rasa, actions and two gateways sharing one database and Redis."""
    try:
        socket.create_connection(REDIS, timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis not reachable: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")
    workdir = tmp_path_factory.mktemp("two-gateways")
    url = f"sqlite:///{workdir / 'quitt.db'}"
    seed_database(url)
    stack = Stack(
        database_url=url,
        redis_url=f"redis://{REDIS[0]}:{REDIS[1]}/0",
        gateway_port=_free_port(),
        rasa_port=_free_port(),
        action_port=_free_port(),
        log_dir=workdir / "logs",
        extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
    )
    second = _free_port()
    stack.start()
    stack.add_gateway(second)
    try:
        stack.wait_ready(timeout=300)
        for _ in range(60):
            try:
                if httpx.get(f"http://127.0.0.1:{second}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield stack.gateway_port, second
    finally:
        stack.stop()


async def _first_message_event(console_port: int, debtor_port: int, who: str) -> dict:
    token = httpx.post(
        f"http://127.0.0.1:{console_port}/api/auth/login",
        json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD},
    ).json()["access_token"]
    async with websockets.connect(f"ws://127.0.0.1:{console_port}/api/console/ws") as socket_:
        await socket_.send(json.dumps({"token": token}))
        await asyncio.sleep(0.5)  # the subscription is open once the token is accepted
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{debtor_port}") as debtor:
            response = await debtor.post(
                "/webhooks/rest/webhook", json={"sender": who, "message": "Hallo"}, timeout=60
            )
            assert response.status_code == 200
        async with asyncio.timeout(20):
            while True:
                event = json.loads(await socket_.recv())
                if event.get("type") == "message" and event.get("conversation_id") == who:
                    return event


def test_a_debtor_message_on_one_gateway_reaches_a_console_on_the_other(
    two_gateways: tuple[int, int],
) -> None:
    first, second = two_gateways
    who = f"two-{uuid.uuid4().hex[:8]}"
    event = asyncio.run(_first_message_event(console_port=first, debtor_port=second, who=who))
    assert event["author"] == "debtor" and event["text"] == "Hallo"
