"""Engine, sessions and the declarative base; nothing connects at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from domain.config import get_settings

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 5
# Execution option that makes SQLite transactions BEGIN IMMEDIATE (ignored elsewhere).
IMMEDIATE_OPTION = "quitt_sqlite_immediate"


class Base(DeclarativeBase):
    """Declarative base of every Quitt table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _normalise_url(url: str | URL) -> URL:
    """Return the URL with PostgreSQL pointed at psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    """Turn on foreign keys, WAL and a busy timeout, and let SQLAlchemy own BEGIN."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT and transactional
        # DDL; switch it off and emit BEGIN ourselves (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A unit of work (`session_scope`) takes the write lock up front (IMMEDIATE),
        # waiting up to the busy timeout: a deferred transaction that read first and
        # then writes after another process committed fails at once with "database is
        # locked" (no busy wait can help a stale snapshot), which concurrent debtors hit.
        # Request-scoped sessions stay deferred: they live as long as the request, and
        # holding the write lock that long would block the units of work it starts.
        immediate = connection.get_execution_options().get(IMMEDIATE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for SQLite or PostgreSQL with Quitt's connection settings."""
    parsed = _normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A connection the server (or a restart, or a network cut) dropped is found by the
        # ping and replaced, so the gateway recovers from an outage without a restart;
        # an unreachable server fails fast (a clear 503) instead of hanging the request.
        kwargs.setdefault("pool_pre_ping", True)
        if parsed.get_backend_name() == "postgresql":
            connect_args = dict(kwargs.pop("connect_args", {}))
            connect_args.setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT_S)
            kwargs["connect_args"] = connect_args
        return create_engine(parsed, **kwargs)

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(parsed)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    if in_memory:
        kwargs.setdefault("poolclass", StaticPool)
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    _configure_sqlite(engine, in_memory=in_memory)
    return engine


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """Return the process-wide engine for the configured database."""
    return make_engine(get_settings().database_url)


# Unbound: the engine is attached when a session is opened, never at import time.
SessionLocal: sessionmaker[Session] = sessionmaker(expire_on_commit=False)


def open_session(engine: Engine | None = None, *, immediate: bool = False) -> Session:
    """Open a session on the given engine or the configured one."""
    bind = engine or get_engine()
    if immediate:
        bind = bind.execution_options(**{IMMEDIATE_OPTION: True})
    return SessionLocal(bind=bind)


@contextmanager
def session_scope(engine: Engine | None = None, *, immediate: bool = True) -> Iterator[Session]:
    """Run a unit of work: commit on success, roll back on error, always close.

    On SQLite a unit of work takes the write lock when it begins (`immediate`).
    """
    session = open_session(engine, immediate=immediate)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
