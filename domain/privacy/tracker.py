"""Rasa's copy of a conversation: the tracker store's `events` rows of a sender.

Rasa keeps every turn (the debtor's words, the slots with a typed date of birth) in
its SQL tracker store. `quitt run` puts that store in the same PostgreSQL database
as ours, or in `rasa-tracker.db` beside our SQLite file (api/launcher.tracker_store);
the same rule finds it here. Forgetting a sender removes its rows: Rasa starts an
empty tracker if that sender ever writes again.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from sqlalchemy import Engine, column, delete, inspect, table
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from domain.db import make_engine

TABLE = "events"  # rasa.core.tracker_store.SQLTrackerStore.SQLEvent
SQLITE_FILE = "rasa-tracker.db"

_events = table(TABLE, column("sender_id"))


def sqlite_tracker_path(database_url: str) -> Path | None:
    """Return where Rasa keeps its tracker beside a SQLite database (None elsewhere)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).with_name(SQLITE_FILE)


def forget(*, db_session: Session, sender_ids: Collection[str]) -> int:
    """Delete the tracker rows of these senders; return how many went.

    On PostgreSQL the rows go in the caller's transaction; the SQLite tracker file is
    another database, changed (and committed) at once.
    """
    if not sender_ids:
        return 0
    bind = db_session.get_bind()
    if bind.dialect.name != "sqlite":
        if not inspect(db_session.connection()).has_table(TABLE):
            return 0
        result = db_session.execute(delete(_events).where(_events.c.sender_id.in_(sender_ids)))
        return int(getattr(result, "rowcount", 0) or 0)
    path = sqlite_tracker_path(str(bind.engine.url))
    if path is None or not path.exists():
        return 0
    engine: Engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table(TABLE):
                return 0
            result = connection.execute(delete(_events).where(_events.c.sender_id.in_(sender_ids)))
            return int(result.rowcount or 0)
    finally:
        engine.dispose()
