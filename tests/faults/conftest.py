"""Fault tests run on PostgreSQL and Redis, which CI always has.

`fresh_database` gives a test module a new, seeded PostgreSQL database of its own
(skipped only outside CI when the servers are absent); `scaled_stack` runs the
production shape on it: two Rasa replicas sharing the tracker store and the
Redis lock store, the action balancer, and two gateways, all supervised.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.config import ROOT
from api.db import make_engine
from api.launcher import Stack
from tests.support.stack import _free_port, seed_database

POSTGRES_URL = os.environ.get(
    "QUITT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("QUITT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def servers_missing() -> str | None:
    """Return why PostgreSQL or Redis cannot be used, or None when both answer."""
    redis = make_url(REDIS_URL.replace("redis://", "redis+x://", 1))
    try:
        with socket.create_connection((redis.host or "127.0.0.1", redis.port or 6379), timeout=2):
            pass
        engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not here"
        return f"PostgreSQL or Redis not reachable: {exc}"
    return None


def require_servers() -> None:
    """Skip without PostgreSQL and Redis, but fail in CI, where they must be there."""
    problem = servers_missing()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="module")
def fresh_database() -> Iterator[str]:
    """Create, migrate and seed a PostgreSQL database for one module; drop it afterwards."""
    require_servers()
    name = f"quitt_faults_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        seed_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _print_logs(log_dir: Path) -> None:
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace")[-3000:]
        print(f"\n--- {log.name} (tail) ---\n{tail}", file=sys.stderr)


@pytest.fixture(scope="module")
def scaled_stack(fresh_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run 2 Rasa replicas, 1 supervised action server behind the balancer, 2 gateways."""
    model = ROOT / "models" / "quitt.tar.gz"
    if not model.exists():
        pytest.fail(f"no trained model at {model}: `make test` trains it first")
    log_dir = tmp_path_factory.mktemp("scaled-stack") / "logs"
    stack = Stack(
        database_url=fresh_database,
        redis_url=REDIS_URL,
        gateway_port=_free_port(),
        rasa_ports=[_free_port(), _free_port()],
        action_port=_free_port(),
        action_ports=[_free_port()],
        model=model,
        log_dir=log_dir,
        extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
        # A replica killed mid-turn holds its conversation's lock this long.
        lock_lifetime_seconds=8,
    )
    stack.start()
    try:
        stack.add_gateway(_free_port())
        stack.wait_ready(timeout=300)
        yield stack
    finally:
        stack.stop()
        _print_logs(log_dir)
