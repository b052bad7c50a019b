"""The same stack on PostgreSQL (data and Rasa tracker) with the Redis lock store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from api.launcher import Stack
from domain.db import make_engine
from tests.integration.conftest import Gateway
from tests.support import postgres
from tests.support.required import REDIS_URL, require_servers
from tests.support.stack import running_stack, seed_database


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """Run the stack on a fresh PostgreSQL database and Redis."""
    require_servers()
    with postgres.fresh_database("quitt_it") as url:
        seed_database(url)
        with running_stack(
            url,
            tmp_path_factory.mktemp("pg-stack") / "logs",
            redis_url=REDIS_URL,
            extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
        ) as stack:
            yield stack, url


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
