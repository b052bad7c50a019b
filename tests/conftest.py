"""Shared fixtures: migrated SQLite and PostgreSQL databases, rolled-back sessions, the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.db.migrate import upgrade
from domain.config import ROOT
from domain.db import make_engine
from tests.support.postgres import fresh_schema
from tests.support.required import POSTGRES_URL

__all__ = ["POSTGRES_URL"]

# `stack`, `gateway` and `database_url`: one real stack per pytest run, for every directory.
pytest_plugins = ["tests.support.stack"]

DEMO_CLAIMS = ROOT / "data" / "demo_claims.json"


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
    with fresh_schema("quitt_test") as url:
        upgrade(url)
        yield url


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
