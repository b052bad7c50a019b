"""Run Quitt's custom actions the rasa-sdk way, on a real migrated and seeded SQLite file.

A template database is migrated and loaded with the demo claims once per session; every
test gets its own copy, so counters, promises and handoffs never leak between tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import actions.context
from domain.claims.models import Claim
from domain.config import ROOT
from domain.db import session_scope
from tests.support.databases import app_database, clear_app_caches, sqlite_copy, sqlite_template

DOMAIN_DIR = ROOT / "bot" / "domain"
DEMO_CLAIMS = ROOT / "data" / "demo_claims.json"


@lru_cache(maxsize=1)
def load_domain() -> dict[str, Any]:
    """Merge every bot/domain/*.yml file into one domain dict, as Rasa does."""
    merged: dict[str, Any] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """Return the merged domain."""
    return load_domain()


def plain(text: str) -> str:
    """Normalise the non-breaking spaces Babel puts into money."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _clear_caches() -> None:
    clear_app_caches()
    actions.context.policies.cache_clear()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate a SQLite file and import the demo claims, once."""
    return sqlite_template(tmp_path_factory.mktemp("actions-template"))


@pytest.fixture
def database(template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the actions at a fresh copy of the seeded database."""
    url = sqlite_copy(template_db, tmp_path / "quitt.db")
    with app_database(monkeypatch, url, clear=_clear_caches):
        yield url


def rows(model: Any, **where: Any) -> list[Any]:
    """Return the rows of a model matching column values (detached, loaded)."""
    with session_scope() as db_session:
        statement = select(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        found = list(db_session.scalars(statement))
        for row in found:
            db_session.expunge(row)
        return found


def debtor_id(reference: str) -> float:
    """Return the debtor id behind a claim reference, as the float slot holds it."""
    with session_scope() as db_session:
        claim = db_session.get(Claim, reference)
        assert claim is not None, reference
        return float(claim.debtor_id)


INITIAL_SLOTS = {
    "verified": False,
    "counter_offers": 0.0,
    "disclosed": False,
    "handed_off": False,
}


def user_event(text: str, intent: str | None) -> dict[str, Any]:
    """Return a user event as the tracker store holds it."""
    return {
        "event": "user",
        "timestamp": None,
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": []},
    }


def make_tracker(
    *,
    text: str = "",
    intent: str | None = None,
    entities: Iterable[dict[str, Any]] = (),
    metadata: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender_id: str | None = None,
    active_loop: dict[str, Any] | None = None,
    confidence: float = 1.0,
) -> Tracker:
    """Build a tracker for one turn; the latest message is also the last user event."""
    entities = list(entities)
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": entities,
        "metadata": metadata or {},
    }
    if events is None:
        events = [{**user_event(text, intent), "metadata": metadata or {}}]
    return Tracker(
        sender_id=sender_id or f"unit-{uuid.uuid4().hex[:12]}",
        slots={**INITIAL_SLOTS, **(slots or {})},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


@dataclass
class Result:
    """What an action returned and said."""

    events: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    tracker: Tracker
    slots: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.slots = {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    @property
    def texts(self) -> list[str]:
        """Return every dispatched text, spaces normalised."""
        return [plain(m.get("text") or "") for m in self.messages]

    @property
    def text(self) -> str:
        """Return all dispatched text as one string."""
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Return every dispatched button."""
        return [b for m in self.messages for b in m.get("buttons") or []]

    def followups(self) -> list[str]:
        """Return the names of FollowupAction events."""
        return [e["name"] for e in self.events if e.get("event") == "followup"]


async def run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> Result:
    """Run an action and collect its events and messages."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return Result(events=list(events), messages=list(dispatcher.messages), tracker=tracker)


def verified_slots(reference: str, *, selected: bool = True, **extra: Any) -> dict[str, Any]:
    """Return the slots of a conversation verified for `reference` (and that claim chosen)."""
    slots: dict[str, Any] = {
        "disclosed": True,
        "verified": True,
        "claim_reference": reference,
        "debtor_id": debtor_id(reference),
    }
    if selected:
        slots["selected_claims"] = [reference]
    return {**slots, **extra}


def amount(value: str) -> dict[str, Any]:
    """Return an `amount` entity."""
    return {"entity": "amount", "value": value}


def on(value: Any) -> dict[str, Any]:
    """Return a `date` entity (ISO text)."""
    return {"entity": "date", "value": str(value)}
