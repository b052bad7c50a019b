"""WhatsApp channel fixtures: the real app on a migrated SQLite file, a Twilio stand-in.

No Rasa here: these tests drive the paths that never reach the dialogue
(signatures, retries, opt-out, attachments, agent replies); whole conversations
run against the real stack in `test_whatsapp_stack.py`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.config import get_settings
from api.db.core import get_engine
from api.db.migrate import upgrade
from api.main import create_app
from tests.support.twilio_standin import TwilioStandIn, running_standin
from tests.whatsapp.helpers import PUBLIC_URL


def _clear_caches() -> None:
    """Forget the cached settings and engine, so the next use reads the test's."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate a SQLite file once per session."""
    path = tmp_path_factory.mktemp("whatsapp-template") / "quitt.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    """Run a Twilio stand-in for one test."""
    with running_standin() as running:
        yield running


@pytest.fixture
def database(
    template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin: TwilioStandIn
) -> Iterator[str]:
    """Point the app at a fresh migrated database and at the stand-in."""
    path = tmp_path / "quitt.db"
    shutil.copyfile(template_db, path)
    url = f"sqlite:///{path}"
    for key, value in {
        "QUITT_DATABASE_URL": url,
        "QUITT_ENVIRONMENT": "test",
        "QUITT_SENTIMENT_BACKEND": "off",
        "QUITT_PUBLIC_URL": PUBLIC_URL,
        "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
        "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
        "QUITT_TWILIO_API_BASE": standin.base_url,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
    _clear_caches()
    yield url
    _clear_caches()


@pytest.fixture
def client(database: str) -> Iterator[TestClient]:
    """Run the real gateway app (lifespan included: the forwarder runs)."""
    with TestClient(create_app()) as test_client:
        yield test_client
