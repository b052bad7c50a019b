"""WhatsApp channel fixtures: the real app on a migrated SQLite file, a Twilio stand-in.

No Rasa here: these tests drive the paths that never reach the dialogue
(signatures, retries, opt-out, attachments, agent replies); whole conversations
run against the real stack in `test_whatsapp_stack.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.support.databases import app_database, sqlite_copy, sqlite_template
from tests.support.stack import twilio_env
from tests.support.twilio_standin import TwilioStandIn, running_standin
from tests.whatsapp.helpers import PUBLIC_URL


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate a SQLite file once per session."""
    return sqlite_template(tmp_path_factory.mktemp("whatsapp-template"), seed=None)


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
    url = sqlite_copy(template_db, tmp_path / "quitt.db")
    env = {"QUITT_SENTIMENT_BACKEND": "off", **twilio_env(standin, PUBLIC_URL)}
    with app_database(monkeypatch, url, env, without_redis=True):
        yield url


@pytest.fixture
def client(database: str) -> Iterator[TestClient]:
    """Run the real gateway app (lifespan included: the forwarder runs)."""
    with TestClient(create_app()) as test_client:
        yield test_client
