"""The data layer: declarative base, engine, sessions and migrations."""

from api.db.core import (
    Base,
    SessionDep,
    SessionLocal,
    get_engine,
    get_session,
    make_engine,
    session_scope,
)

__all__ = [
    "Base",
    "SessionDep",
    "SessionLocal",
    "get_engine",
    "get_session",
    "make_engine",
    "session_scope",
]
