"""What a test needs from the machine: skipped here when it is missing, failed in CI.

CI (`CI=true`) always has PostgreSQL, Redis, Debian's Chromium, the Rasa runtime and
the test voices, so a missing one there fails the test instead of skipping it
silently; on a developer's machine the test is skipped with the reason. This is the
one place that rule is written.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from domain.db import make_engine

# Tests read the environment directly: these knobs are for the test run, not the app.
POSTGRES_URL = os.environ.get(
    "QUITT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("QUITT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    """Tell whether we run in CI, where nothing a test needs may be missing."""
    return os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> NoReturn:
    """Skip the test for want of something, or fail it in CI."""
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def skip_unless_ci(absent: bool, reason: str) -> pytest.MarkDecorator:
    """Mark a module to skip when something is absent, except in CI (where it fails)."""
    return pytest.mark.skipif(absent and not in_ci(), reason=f"{reason} (in CI this test fails)")


def postgres_problem() -> str | None:
    """Say why the test PostgreSQL server cannot be used, or None when it answers."""
    engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"PostgreSQL not reachable at {make_url(POSTGRES_URL).host}: {exc.orig}"
    finally:
        engine.dispose()
    return None


def redis_problem() -> str | None:
    """Say why the test Redis server cannot be used, or None when it answers."""
    url = make_url(REDIS_URL.replace("redis://", "redis+x://", 1))
    try:
        socket.create_connection((url.host or "127.0.0.1", url.port or 6379), timeout=2).close()
    except OSError as exc:
        return f"Redis not reachable: {exc}"
    return None


def require_postgres() -> None:
    """Skip without the PostgreSQL server, but fail in CI."""
    problem = postgres_problem()
    if problem:
        missing(problem)


def require_redis() -> None:
    """Skip without the Redis server, but fail in CI."""
    problem = redis_problem()
    if problem:
        missing(problem)


def require_servers() -> None:
    """Skip without PostgreSQL and Redis, but fail in CI, where they must be there."""
    problem = redis_problem() or postgres_problem()
    if problem:
        missing(problem)
