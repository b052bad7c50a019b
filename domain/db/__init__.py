"""The data layer: declarative base, engine and sessions (the tables: `models`)."""

from domain.db.core import (
    Base,
    SessionLocal,
    get_engine,
    make_engine,
    session_scope,
)

__all__ = [
    "Base",
    "SessionLocal",
    "get_engine",
    "make_engine",
    "session_scope",
]
