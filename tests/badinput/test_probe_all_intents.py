"""Every intent of the domain, sent unverified, reveals nothing about a claim.

Each intent is probed as a Rasa intent payload (`/intent`) in a fresh
conversation, and again after the claim reference was given (the verification
form waits for the proof, the reference sits in a slot): the most tempting
moment for a leak. German and English conversations alternate.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from domain.config import ROOT
from domain.conversations.models import Conversation
from domain.db import make_engine, session_scope
from tests.support.stack import Gateway

pytestmark = pytest.mark.integration

REFERENCE = "260000117"
# Jana Becker's claim: amounts (both number formats), creditor, subject, name, town.
CLAIM_DATA = [
    "412",
    "475",
    "9,18",
    "9.18",
    "54,00",
    "54.00",
    "Stadtwerke",
    "Strom",
    "electricity",
    "Becker",
    "Jana",
    "Hamburg",
    "1987",
]


def domain_intents() -> list[str]:
    """Return every intent declared in bot/domain."""
    intents: list[str] = []
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for intent in data.get("intents", []):
            intents.append(intent if isinstance(intent, str) else next(iter(intent)))
    return intents


INTENTS = domain_intents()


def _probe(gateway: Gateway, intent: str, language: str) -> tuple[str, str, str]:
    """Send the intent fresh, then the reference, then the intent again; return the answers."""
    who = f"probe-{intent[:12]}-{uuid.uuid4().hex[:8]}"
    meta: dict[str, Any] = {"language": language}
    fresh = gateway.texts(who, f"/{intent}", **meta)
    gateway.texts(who, REFERENCE, **meta)
    mid_form = gateway.texts(who, f"/{intent}", **meta)
    return who, fresh, mid_form


def test_the_domain_has_the_intents_we_probe() -> None:
    assert len(INTENTS) >= 20 and "human_request" in INTENTS and "pay_full" in INTENTS


def test_no_intent_reveals_a_claim_before_verification(gateway: Gateway, database_url: str) -> None:
    languages = ["de" if i % 2 == 0 else "en" for i in range(len(INTENTS))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda a: _probe(gateway, *a), zip(INTENTS, languages, strict=True))
        )
    leaks = [
        (intent, secret, answer)
        for intent, (_, fresh, mid_form) in zip(INTENTS, results, strict=True)
        for answer in (fresh, mid_form)
        for secret in CLAIM_DATA
        if secret in answer
    ]
    assert leaks == []
    # Every probe was answered by the bot (or held by a human), none was verified.
    assert any(fresh for _, fresh, _ in results)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            verified = db_session.scalars(
                select(Conversation.sender_id).where(
                    Conversation.sender_id.in_([who for who, _, _ in results]),
                    Conversation.verified_claim_reference.is_not(None),
                )
            ).all()
    finally:
        engine.dispose()
    assert verified == []
