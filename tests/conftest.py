"""Shared fixtures: migrated SQLite and PostgreSQL databases, rolled-back sessions, the app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.config import ROOT
from api.db import make_engine
from api.db.migrate import upgrade

# `stack`, `gateway` and `database_url`: one real stack per pytest run, for every directory.
pytest_plugins = ["tests.support.stack"]

# Tests read the environment directly: these knobs are for the test run, not the app.
POSTGRES_URL = os.environ.get(
    "QUITT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEMO_CLAIMS = ROOT / "data" / "demo_claims.json"


def _in_ci() -> bool:
    """Tell whether we run in CI, where PostgreSQL must be there."""
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def demo_claims_path() -> Path:
    """Return the path of the demo claims file (`quitt-claims/1`)."""
    return DEMO_CLAIMS


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of a migrated SQLite database file, one per test session."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'quitt.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """Return an engine on the migrated SQLite database."""
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Create a fresh schema, migrate it, hand out its URL and drop it at the end."""
    admin = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {make_url(POSTGRES_URL).host}: {exc.orig}"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    schema = f"quitt_test_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = (
        make_url(POSTGRES_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_engine(postgres_url: str) -> Iterator[Engine]:
    """Return an engine on the migrated PostgreSQL test schema."""
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Return a migrated engine: every data-layer test runs on SQLite and PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """Yield a session inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            if transaction.is_active:
                transaction.rollback()
