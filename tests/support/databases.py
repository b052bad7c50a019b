"""SQLite databases for tests: a migrated template made once, a fresh copy per test.

Tests that commit (the app, the actions, the outbox) cannot use the rolled-back
`db_session`; they point the app's settings at a copy of a template instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.db.migrate import upgrade
from domain.claims import service as claims_service
from domain.config import ROOT, get_settings
from domain.db import make_engine, session_scope
from domain.db.core import get_engine

DEMO_CLAIMS = ROOT / "data" / "demo_claims.json"


def import_demo_claims(engine: Engine) -> None:
    """Import the demo claims file, as `quitt claims import` would."""
    with session_scope(engine) as db_session:
        claims_service.import_file(db_session=db_session, path=DEMO_CLAIMS)


def sqlite_template(
    folder: Path, seed: Callable[[Engine], None] | None = import_demo_claims
) -> Path:
    """Migrate a SQLite file in `folder` and seed it (the demo claims unless told otherwise)."""
    path = folder / "quitt.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    if seed is not None:
        engine = make_engine(url)
        try:
            seed(engine)
        finally:
            engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


def sqlite_copy(template: Path, path: Path) -> str:
    """Copy the template to `path` and return the copy's URL."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def clear_app_caches() -> None:
    """Forget the cached settings and engine, so the next use reads the test's."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@contextmanager
def app_database(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    env: Mapping[str, str] | None = None,
    *,
    without_redis: bool = False,
    clear: Callable[[], None] = clear_app_caches,
) -> Iterator[str]:
    """Point the app's settings at `url` (and `env`) for one test, caches cleared around it."""
    monkeypatch.setenv("QUITT_DATABASE_URL", url)
    monkeypatch.setenv("QUITT_ENVIRONMENT", "test")
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    if without_redis:
        monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
    clear()
    yield url
    clear()
