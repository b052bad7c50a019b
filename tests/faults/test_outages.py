"""Outages of Redis and of the database: the gateway degrades, answers clearly, recovers alone.

Redis: a `redis-server` of the test's own (never the shared one) is killed and
started again on the same port. The database: PostgreSQL is reached through a
TCP forwarder the test cuts and mends (the shared server keeps running).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from api.events.bus import CONSOLE, RedisBus
from api.launcher import Stack
from api.main import create_app
from domain.agents import service as agents_service
from domain.config import get_settings
from domain.conversations.models import Message
from domain.db import make_engine, session_scope
from domain.db.core import get_engine
from tests.badinput.processes import (
    GatewayProcess,
    RedisServer,
    TcpCut,
    stack_gateway_env,
    wait_until,
)
from tests.support.stack import AGENT_EMAIL, AGENT_PASSWORD

EVENT_TIMEOUT = 10.0


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """Run a Redis server of this test's own."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


async def _next(queue: asyncio.Queue[Any], timeout: float = EVENT_TIMEOUT) -> Any:
    return await asyncio.wait_for(queue.get(), timeout)


async def _collect(events: AsyncIterator[dict[str, Any]], queue: asyncio.Queue[Any]) -> None:
    async for event in events:
        await queue.put(event)


async def test_bus_stays_in_process_while_redis_is_down_and_crosses_again_after(
    redis_server: RedisServer,
) -> None:
    here, there = RedisBus(redis_server.url), RedisBus(redis_server.url)  # two processes
    received: asyncio.Queue[Any] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    try:
        async with here.subscribe(CONSOLE) as events:
            collector = asyncio.create_task(_collect(events, received))
            await asyncio.sleep(0.3)  # the background subscription is in place
            await there.publish(CONSOLE, {"n": 1})
            assert await _next(received) == {"n": 1}
            assert await here.healthy() is True

            redis_server.stop()
            assert await here.healthy() is False
            await here.publish(CONSOLE, {"n": 2})  # no error: delivered in this process
            assert await _next(received) == {"n": 2}
            await there.publish(CONSOLE, {"n": 3})  # the other process cannot reach us now
            with pytest.raises(TimeoutError):
                await _next(received, timeout=1.0)

            redis_server.start()  # same port, no restart of either bus
            deadline = loop.time() + 20
            while not await here.healthy():
                assert loop.time() < deadline, "Redis never came back"
                await asyncio.sleep(0.2)
            # The subscriber re-subscribes by itself; then events cross processes again.
            crossed = None
            while crossed is None and loop.time() < deadline:
                await there.publish(CONSOLE, {"n": 4})
                with contextlib.suppress(TimeoutError):
                    crossed = await _next(received, timeout=0.5)
            assert crossed == {"n": 4}
            assert not here.degraded
            collector.cancel()
    finally:
        await here.close()
        await there.close()


@pytest.fixture(scope="module")
def redis_gateway(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, RedisServer]]:
    """Run one more real gateway, on the session stack's Rasa, with a Redis of its own."""
    redis = RedisServer()
    redis.start()
    gateway = GatewayProcess(
        env=stack_gateway_env(stack, QUITT_REDIS_URL=redis.url),
        log=tmp_path_factory.mktemp("redis-gateway") / "gateway.log",
    )
    try:
        gateway.start()
        yield gateway, redis
    finally:
        gateway.stop()
        redis.stop()


def _health(base_url: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{base_url}/health", timeout=10)
    return response.status_code, response.json()


async def _console_socket(base_url: str, token: str) -> Any:
    socket = await websockets.connect(base_url.replace("http", "ws") + "/api/console/ws")
    await socket.send(json.dumps({"token": token}))
    ready = json.loads(await asyncio.wait_for(socket.recv(), EVENT_TIMEOUT))
    assert ready["type"] == "ready"
    return socket


async def _console_event_for(socket: Any, sender: str) -> dict[str, Any]:
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), EVENT_TIMEOUT))
        if event.get("type") == "message" and event.get("conversation_id") == sender:
            return dict(event)


@pytest.mark.integration
async def test_gateway_reports_degraded_health_serves_on_and_recovers_without_redis(
    redis_gateway: tuple[GatewayProcess, RedisServer],
) -> None:
    gateway, redis = redis_gateway
    pid = gateway.process.pid if gateway.process else None
    status, body = await asyncio.to_thread(_health, gateway.base_url)
    assert (status, body) == (200, {"status": "ok", "database": "ok", "rasa": "ok", "redis": "ok"})
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as http:
        login = await http.post(
            "/api/auth/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
        )
        token = login.json()["access_token"]
        redis.stop()
        try:
            status, body = await asyncio.to_thread(_health, gateway.base_url)
            assert status == 200
            assert body == {
                "status": "degraded",
                "database": "ok",
                "rasa": "ok",
                "redis": "unavailable",
            }
            # Serving on as one process: the bot answers, this gateway's console sees it live.
            console = await _console_socket(gateway.base_url, token)
            sender = f"redis-down-{uuid.uuid4().hex[:8]}"
            answer = await http.post(
                "/webhooks/rest/webhook", json={"sender": sender, "message": "Hallo"}
            )
            assert answer.status_code == 200, answer.text
            assert any(turn.get("text") for turn in answer.json())
            event = await _console_event_for(console, sender)
            assert event["text"] == "Hallo"
            await console.close()
        finally:
            redis.start()
    await asyncio.to_thread(
        wait_until,
        lambda: _health(gateway.base_url) == (200, {**body, "status": "ok", "redis": "ok"}),
    )
    assert gateway.process is not None and gateway.process.pid == pid  # never restarted


# The database outage: the app on PostgreSQL through a TCP cut, Rasa from the session stack.


def _clear_caches() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def cut_database(
    postgres_url: str, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TcpCut, str]]:
    """Point the app at the PostgreSQL test schema through a TCP cut; yield (cut, direct URL)."""
    real = make_url(postgres_url)
    cut = TcpCut(real.port or 5432, real.host or "127.0.0.1")
    cut.open()
    proxied = real.set(port=cut.port).render_as_string(hide_password=False)
    for key, value in stack_gateway_env(stack, QUITT_DATABASE_URL=proxied).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
    _clear_caches()
    try:
        yield cut, postgres_url
    finally:
        _clear_caches()
        cut.close()


def _count_messages(url: str, sender: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as db_session:
            return int(
                db_session.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.conversation_id == sender)
                )
                or 0
            )
    finally:
        engine.dispose()


@pytest.mark.integration
@pytest.mark.postgres
def test_database_outage_gives_clear_503s_no_partial_writes_and_recovers(
    cut_database: tuple[TcpCut, str],
) -> None:
    cut, direct_url = cut_database
    email = f"outage-{uuid.uuid4().hex[:8]}@quitt.test"
    engine = make_engine(direct_url)
    with session_scope(engine) as db_session:
        agents_service.create_agent(
            db_session=db_session, email=email, password=AGENT_PASSWORD, role="supervisor"
        )
    engine.dispose()
    sender = f"db-down-{uuid.uuid4().hex[:8]}"
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        first = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "Hallo"})
        assert first.status_code == 200, first.text
        login = client.post("/api/auth/login", json={"email": email, "password": AGENT_PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        stored = _count_messages(direct_url, sender)
        assert stored >= 2  # the debtor's message and the bot's answer

        cut.cut()
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["database"] == "unavailable"
        for response in (
            client.post(
                "/webhooks/rest/webhook", json={"sender": sender, "message": "Ich will zahlen"}
            ),
            client.get("/api/handoffs", params={"state": "queued"}, headers=headers),
            client.post("/api/auth/login", json={"email": email, "password": AGENT_PASSWORD}),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/json")
            assert response.json() == {
                "detail": "the database is unavailable, please try again shortly"
            }
            assert response.headers["retry-after"] == "5"
            assert "Traceback" not in response.text
        assert _count_messages(direct_url, sender) == stored  # nothing half-written

        cut.open()  # the same app and engine: the pool's pre-ping replaces dead connections
        assert client.get("/health").status_code == 200
        again = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": "Hallo"})
        assert again.status_code == 200, again.text
        assert _count_messages(direct_url, sender) > stored
        assert (
            client.get("/api/handoffs", params={"state": "queued"}, headers=headers).status_code
            == 200
        )


def test_an_outage_is_logged_for_operators_without_a_stack_trace_to_the_client(
    cut_database: tuple[TcpCut, str], caplog: pytest.LogCaptureFixture
) -> None:
    cut, _ = cut_database
    cut.cut()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = client.post(
            "/webhooks/rest/webhook", json={"sender": "db-log", "message": "Hallo"}
        )
    assert response.status_code == 503
    assert "database unavailable on POST /webhooks/rest/webhook: OperationalError" in caplog.text
    assert "Traceback" not in response.text
