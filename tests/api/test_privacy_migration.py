"""Migration 0007 goes up and down on SQLite and PostgreSQL, audit triggers included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from api.db.migrate import downgrade, upgrade
from domain.db import make_engine
from tests.support.postgres import fresh_schema

PRIVACY_TABLES = {"privacy_requests", "privacy_erasures", "whatsapp_suppressions"}
INSERT = text(
    "INSERT INTO audit_events (created_at, kind, conversation_id, reasons) "
    "VALUES (CURRENT_TIMESTAMP, 'test', 'whatsapp:+4917000000000', '[]')"
)
PSEUDONYMISE = text(
    "UPDATE audit_events SET conversation_id = 'erased:0:1' "
    "WHERE conversation_id = 'whatsapp:+4917000000000'"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Return the URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'privacy-migration.db'}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """Return the URL of a fresh PostgreSQL schema, dropped afterwards."""
    with fresh_schema("quitt_privacy") as url:
        yield url


def _pseudonymisation_passes(engine: Engine) -> bool:
    """Tell whether the audit log lets an erasure's pseudonym in (and roll it back)."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(INSERT)
            conn.execute(PSEUDONYMISE)
            return True
        except DBAPIError:
            return False
        finally:
            transaction.rollback()


def _privacy_tables_differ_from_models(engine: Engine) -> list[object]:
    """Return how the migrated privacy tables differ from their models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from domain.tables import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return [d for d in diff if any(table in repr(d) for table in PRIVACY_TABLES)]


def _roundtrip(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            columns = {c["name"] for c in inspect(conn).get_columns("conversations")}
        assert tables >= PRIVACY_TABLES and "anonymised_at" in columns
        assert _privacy_tables_differ_from_models(engine) == []
        assert _pseudonymisation_passes(engine)

        downgrade(url, "0006")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            columns = {c["name"] for c in inspect(conn).get_columns("conversations")}
        assert not tables & PRIVACY_TABLES and "anonymised_at" not in columns
        assert not _pseudonymisation_passes(engine)  # append-only without exception again

        upgrade(url)
        assert _pseudonymisation_passes(engine)
    finally:
        engine.dispose()


def test_sqlite_goes_down_to_0006_and_up_again(sqlite_url: str) -> None:
    _roundtrip(sqlite_url)


@pytest.mark.postgres
def test_postgresql_goes_down_to_0006_and_up_again(postgres_schema_url: str) -> None:
    _roundtrip(postgres_schema_url)
