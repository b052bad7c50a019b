"""Migrations, engine settings and column types, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from api.db.migrate import alembic_config, downgrade, upgrade
from domain.audit.models import AuditEvent
from domain.claims.models import Claim, Creditor, Debtor
from domain.db import make_engine, session_scope
from domain.tables import Base

TABLES = {
    "agents",
    "audit_events",
    "claims",
    "conversations",
    "creditors",
    "debtors",
    "disputes",
    "handoffs",
    "instalments",
    "messages",
    "promise_claims",
    "promises",
}


def test_migrations_reach_head_and_create_every_table(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        assert set(inspect(conn).get_table_names()) >= TABLES


def test_migrations_match_the_models(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_migrations_go_down_and_up_again(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/roundtrip.db"
    upgrade(url)
    downgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert not TABLES & set(inspect(conn).get_table_names())
    engine.dispose()
    upgrade(url)


def test_sqlite_engine_has_foreign_keys_wal_and_busy_timeout(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_foreign_keys_are_enforced(db_session: Session) -> None:
    db_session.add(
        Claim(
            reference="X1",
            creditor_id="nobody",
            debtor_id=999,
            subject="s",
            due_date=datetime(2026, 1, 1).date(),
            principal=Decimal("1.00"),
        )
    )
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        db_session.flush()


def test_money_keeps_two_places_and_timestamps_come_back_in_utc(db_session: Session) -> None:
    creditor = Creditor(id="c", name="C GmbH", address="Street 1")
    debtor = Debtor(name="Max Muster", date_of_birth=datetime(1980, 1, 2).date(), postcode="10115")
    db_session.add_all([creditor, debtor])
    db_session.flush()
    berlin = timezone(timedelta(hours=2))
    claim = Claim(
        reference="M1",
        creditor_id="c",
        debtor_id=debtor.id,
        subject="Test",
        due_date=datetime(2026, 5, 1).date(),
        principal=Decimal("4374.1"),
        interest=Decimal("0.1"),
        fees=Decimal("12"),
        created_at=datetime(2026, 5, 1, 12, 0, tzinfo=berlin),
    )
    db_session.add(claim)
    db_session.flush()
    db_session.expire_all()
    stored = db_session.get(Claim, "M1")
    assert stored is not None
    assert (str(stored.principal), str(stored.interest), str(stored.fees)) == (
        "4374.10",
        "0.10",
        "12.00",
    )
    assert str(stored.total) == "4386.20"
    assert stored.created_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert stored.created_at.tzinfo is not None


def test_naive_timestamps_are_refused(db_session: Session) -> None:
    db_session.add(AuditEvent(kind="x", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        db_session.flush()


def test_session_scope_commits_and_rolls_back(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/scope.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.add(Creditor(id="kept", name="K", address="A"))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(Creditor(id="dropped", name="D", address="A"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert session.get(Creditor, "kept") is not None
        assert session.get(Creditor, "dropped") is None
    engine.dispose()


def test_models_import_without_a_database() -> None:
    import importlib
    import subprocess
    import sys

    code = (
        "import os; os.environ['QUITT_DATABASE_URL']='postgresql+psycopg://nobody@256.0.0.1/x';"
        "import domain.tables, api.main; api.main.create_app(); print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
    assert importlib.import_module("domain.tables")
