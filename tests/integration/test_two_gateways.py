"""Two gateway processes serve one console through Redis pub/sub."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.integration.conftest import AGENT_EMAIL, AGENT_PASSWORD
from tests.support.required import REDIS_URL, require_redis
from tests.support.stack import _free_port, running_stack, seeded_sqlite, wait_healthy


@pytest.fixture(scope="module")
def two_gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """Run Rasa, actions and two gateways sharing one database and Redis."""
    require_redis()
    workdir = tmp_path_factory.mktemp("two-gateways")
    second = _free_port()
    with running_stack(
        seeded_sqlite(workdir),
        workdir / "logs",
        redis_url=REDIS_URL,
        more_gateways=[second],
        extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
    ) as stack:
        wait_healthy(f"http://127.0.0.1:{second}", "the second gateway", timeout=60)
        yield stack.gateway_port, second


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
