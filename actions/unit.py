"""One unit of work for an action: the blocking SQLAlchemy work in a worker thread.

The action server's event loop never waits on the database: each call opens a session
(`domain.db.session_scope`), runs `work` in it and commits, off the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from domain.db import session_scope

T = TypeVar("T")


async def run_unit(work: Callable[[Session], T]) -> T:
    """Run `work` in its own session, in a worker thread, and return its result."""

    def unit() -> T:
        with session_scope() as db_session:
            return work(db_session)

    return await asyncio.to_thread(unit)
