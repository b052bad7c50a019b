"""Rasa's endpoints for one replica: the tracker store, the lock store, the action server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url


def tracker_store(database_url: str, root: Path) -> dict[str, Any]:
    """Return Rasa's tracker store settings for the configured database."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        store: dict[str, Any] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": url.host or "127.0.0.1",
            "port": url.port or 5432,
            "db": url.database,
            "username": url.username or "postgres",
        }
        if url.password:
            store["password"] = url.password
        return store
    # Embedded default: a SQLite file next to the app database.
    database = Path(url.database or root / "var" / "quitt.db")
    return {"type": "SQL", "dialect": "sqlite", "db": str(database.with_name("rasa-tracker.db"))}


def lock_store(redis_url: str | None) -> dict[str, Any] | None:
    """Return Rasa's Redis lock store settings, or None for the in-memory default."""
    if not redis_url:
        return None
    url = make_url(redis_url.replace("redis://", "redis+x://", 1))
    store: dict[str, Any] = {
        "type": "redis",
        "url": url.host or "127.0.0.1",
        "port": url.port or 6379,
        "db": int(url.database or 0),
    }
    if url.password:
        store["password"] = url.password
    return store


def write_endpoints(
    path: Path, *, action_url: str, database_url: str, redis_url: str | None, root: Path
) -> Path:
    """Write one replica's `endpoints.yml` to `path` and return it."""
    endpoints: dict[str, Any] = {
        "action_endpoint": {"url": action_url},
        "tracker_store": tracker_store(database_url, root),
    }
    locks = lock_store(redis_url)
    if locks:
        endpoints["lock_store"] = locks
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return path
