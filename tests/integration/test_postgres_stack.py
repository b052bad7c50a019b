"""The same stack on PostgreSQL (data and Rasa tracker) with the Redis lock store."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.db import make_engine
from api.launcher import Stack
from tests.integration.conftest import Gateway, _free_port, seed_database

POSTGRES_URL = os.environ.get(
    "QUITT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = ("127.0.0.1", 6379)


def _reachable() -> str | None:
    try:
        with socket.create_connection(REDIS, timeout=2):
            pass
        engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not here"
        return f"PostgreSQL or Redis not reachable: {exc}"
    return None


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """Run the stack on a fresh PostgreSQL database and Redis."""
    problem = _reachable()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"quitt_it_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        seed_database(url)
        stack = Stack(
            database_url=url,
            redis_url=f"redis://{REDIS[0]}:{REDIS[1]}/0",
            gateway_port=_free_port(),
            rasa_port=_free_port(),
            action_port=_free_port(),
            log_dir=tmp_path_factory.mktemp("pg-stack") / "logs",
            extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
        )
        stack.start()
        try:
            stack.wait_ready(timeout=300)
            yield stack, url
        finally:
            stack.stop()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_promise_lands_in_postgresql(pg_stack: tuple[Stack, str]) -> None:
    stack, url = pg_stack
    gateway = Gateway(f"http://127.0.0.1:{stack.gateway_port}")
    who = f"pg-{uuid.uuid4().hex[:8]}"
    for message in ("Hallo", "260000125", "28203"):
        gateway.texts(who, message)
    offer = gateway.texts(who, "ich zahle alles sofort").replace("\u00a0", " ")
    assert "54,92 €" in offer, offer
    gateway.texts(who, "ja")
    promises = gateway.claim("260000125")["promises"]
    assert [(p["kind"], p["amount"]) for p in promises] == [("full", "54.92")]
    engine = make_engine(url)
    with engine.connect() as conn:
        # Rasa keeps its tracker in the same PostgreSQL database.
        events = conn.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :who"), {"who": who}
        ).scalar_one()
    engine.dispose()
    assert events > 10
