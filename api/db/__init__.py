"""The gateway's side of the database: the request-scoped session and `quitt db`.

The engine, the sessions and the tables are the domain's (`domain.db`); a route
takes its session as `SessionDep`, and `migrate` / `migrations` run Alembic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from domain.db import session_scope


def get_session() -> Iterator[Session]:
    """Yield a request-scoped session (a FastAPI dependency); deferred on SQLite."""
    with session_scope(immediate=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

__all__ = ["SessionDep", "get_session"]
