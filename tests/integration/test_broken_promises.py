"""Broken promises on the real stack (CONTRACT §4): the re-plan over REST, then a person.

A claim of its own (so no other test's claim changes) gets a plan whose instalment was
due three weeks ago; the payments sweep breaks it. The debtor writes again, passes the
identity check, is welcomed back with a new plan on the balance and agrees it. When
that plan breaks too, the next conversation is handed to an agent (`broken_promise`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from domain.claims.models import Claim, Debtor
from domain.db import make_engine, session_scope
from domain.payments.sweep import sweep
from domain.promises import service as promise_service
from domain.promises.models import Promise
from policy.config import DEFAULT_POLICY, default_book
from tests.integration.conftest import Gateway

REFERENCE = "290000011"
BIRTHDAY = "01.02.1970"


def plain(text: str) -> str:
    """Normalise the non-breaking spaces of locale formatting."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def berlin_today() -> date:
    """Return today in the stack's time zone."""
    return datetime.now(ZoneInfo("Europe/Berlin")).date()


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    """Open the stack's database from the test process."""
    made = make_engine(database_url)
    yield made
    made.dispose()


def seed_claim(engine: Engine) -> None:
    """Store Tessa Brock's claim of 300.00 at Stadtwerke Musterstadt."""
    with session_scope(engine) as db_session:
        debtor = Debtor(
            name="Tessa Brock", date_of_birth=date(1970, 2, 1), postcode="20095", language="de"
        )
        db_session.add(debtor)
        db_session.flush()
        db_session.add(
            Claim(
                reference=REFERENCE,
                creditor_id="stadtwerke-musterstadt",
                debtor_id=debtor.id,
                subject="Stromabrechnung 2025",
                due_date=date(2026, 1, 15),
                principal=Decimal("270.00"),
                interest=Decimal("5.00"),
                fees=Decimal("25.00"),
            )
        )


def broken_plan(engine: Engine) -> None:
    """Record a plan due three weeks ago and let the daily sweep break it."""
    first = berlin_today() - timedelta(days=21)
    with session_scope(engine) as db_session:
        promise_service.create(
            db_session=db_session,
            claim_references=[REFERENCE],
            kind="instalment_plan",
            amount=Decimal("300.00"),
            due_date=first,
            instalments=[
                (1, Decimal("150.00"), first),
                (2, Decimal("150.00"), first + timedelta(days=30)),
            ],
            channel="rest",
            conversation_id=None,
            policy_version=DEFAULT_POLICY.version,
            idempotency_key=None,
        )
        sweep(db_session=db_session, today=berlin_today(), policies=default_book())


def statuses(engine: Engine) -> list[str]:
    """Return the claim's promises' statuses, oldest first."""
    with session_scope(engine) as db_session:
        found = promise_service.list_for_claim(db_session=db_session, claim_reference=REFERENCE)
        return [p.status for p in reversed(found)]


def come_back(gateway: Gateway) -> tuple[str, str]:
    """Write again as a new conversation and pass the identity check; return who and the answer."""
    who = f"it-broken-{uuid.uuid4().hex[:10]}"
    gateway.texts(who, "Hallo")
    gateway.texts(who, REFERENCE)
    return who, plain(gateway.texts(who, BIRTHDAY))


def test_a_broken_plan_is_planned_anew_and_a_second_break_goes_to_a_person(
    gateway: Gateway, engine: Engine
) -> None:
    seed_claim(engine)
    broken_plan(engine)
    assert statuses(engine) == ["broken"]

    who, answer = come_back(gateway)
    assert "Ihre letzte Rate zu Forderung 290000011 ist leider offen geblieben" in answer, answer
    assert "kein Problem, lassen Sie uns einen Plan finden, der passt" in answer
    assert "Offen sind noch 300,00 €." in answer
    assert "12 Raten à 25,00 €" in answer, answer  # the policy's longest plan
    confirmation = plain(gateway.texts(who, "ja"))
    assert "festgehalten" in confirmation, confirmation
    assert statuses(engine) == ["broken", "pending"]

    # The new plan breaks as well: its first instalment is moved into the past and swept.
    with session_scope(engine) as db_session:
        [latest] = promise_service.list_for_claim(db_session=db_session, claim_reference=REFERENCE)[
            :1
        ]
        promise = db_session.get(Promise, latest.id)
        assert promise is not None
        promise.instalments[0].due_date = berlin_today() - timedelta(days=10)
        db_session.flush()
        sweep(db_session=db_session, today=berlin_today(), policies=default_book())
    assert statuses(engine) == ["broken", "broken"]

    who, answer = come_back(gateway)
    assert "schon zum zweiten Mal offen geblieben" in answer, answer
    [handoff] = [h for h in gateway.handoffs("queued") if h["sender"] == who]
    assert (handoff["reason"], handoff["claim_reference"]) == ("broken_promise", REFERENCE)
    claim = gateway.claim(REFERENCE)
    assert [p["status"] for p in claim["promises"]] == ["broken", "broken"]
    assert any(h["reason"] == "broken_promise" for h in claim["handoffs"])
