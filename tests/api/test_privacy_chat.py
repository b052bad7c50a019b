"""A debtor asks in chat what Quitt holds about them, or to erase it.

The action on a real database (the rasa-sdk way), then whole conversations through
the real stack: the request is recorded for an agent, who lists it, opens the masked
export (audited) and, once the claim is settled, erases the person; a scan of the
stack's database and Rasa's tracker finds nothing of them afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from actions import store
from actions.privacy import ActionPrivacyRequest, request_kinds
from domain.audit.models import AuditEvent
from domain.claims import service as claims_service
from domain.claims.models import Claim
from domain.config import get_settings
from domain.conversations import service as conversations_service
from domain.db import make_engine, session_scope
from domain.db.columns import utcnow
from domain.privacy import erase
from domain.privacy.models import PrivacyRequest
from domain.privacy.person import find_person, holdings
from domain.privacy.scan import scan
from tests.actions.conftest import (  # noqa: F401  (fixtures)
    database,
    debtor_id,
    domain,
    make_tracker,
    rows,
    run,
    template_db,
)
from tests.support.stack import Gateway

CONTROLLER = get_settings().data_controller
PRIVACY_URL = get_settings().privacy_url


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Welche Daten habt ihr über mich gespeichert?", ("access",)),
        ("ich möchte auskunft nach dsgvo", ("access",)),
        ("löscht alles über mich", ("erasure",)),
        ("Bitte meine Daten nach Abschluss loeschen", ("erasure",)),
        ("I want my data erased", ("erasure",)),
        ("right to be forgotten", ("erasure",)),
        ("subject access request", ("access",)),
        ("what data do you have on me? and then delete it", ("access", "erasure")),
        ("gdpr request please", ("access",)),
    ],
)
def test_a_request_is_read_as_access_erasure_or_both(text: str, kinds: tuple[str, ...]) -> None:
    assert request_kinds(text) == kinds


async def test_the_action_records_the_request_once_and_names_the_controller(
    database: str,  # noqa: F811
    domain: dict[str, Any],  # noqa: F811
) -> None:
    sender = f"unit-{uuid.uuid4().hex[:8]}"
    tracker = make_tracker(
        text="Welche Daten habt ihr über mich gespeichert?",
        intent="privacy_request",
        slots={"disclosed": True, "language": "de"},
        sender_id=sender,
    )
    first = await run(ActionPrivacyRequest(), tracker, domain)
    again = await run(ActionPrivacyRequest(), tracker, domain)
    for result in (first, again):
        assert CONTROLLER in result.text and PRIVACY_URL in result.text
        assert "Art. 15" in result.text
        assert result.events == []
    (request,) = rows(PrivacyRequest, conversation_id=sender)
    assert (request.kind, request.status, request.channel, request.language) == (
        "access", "open", "rest", "de",
    )  # fmt: skip
    assert request.debtor_id is None  # nobody verified who asks
    assert (request.due_at - request.created_at).days == 30
    (audited,) = rows(AuditEvent, conversation_id=sender)
    assert audited.kind == "privacy_request_recorded"


async def test_a_verified_debtors_request_names_them_for_the_agent(
    database: str,  # noqa: F811
    domain: dict[str, Any],  # noqa: F811
) -> None:
    sender = f"unit-{uuid.uuid4().hex[:8]}"
    jana = int(debtor_id("260000117"))
    with session_scope() as db_session:
        conversations_service.get_or_create(db_session=db_session, sender_id=sender, channel="rest")
        conversations_service.mark_verified(
            db_session=db_session, sender_id=sender, claim_reference="260000117", debtor_id=jana
        )
    tracker = make_tracker(
        text="Please delete all my personal data",
        intent="privacy_request",
        slots={"disclosed": True, "language": "en", "verified": True},
        sender_id=sender,
    )
    result = await run(ActionPrivacyRequest(), tracker, domain)
    assert "Art. 17 GDPR" in result.text and CONTROLLER in result.text
    (request,) = rows(PrivacyRequest, conversation_id=sender)
    assert (request.kind, request.debtor_id, request.claim_reference) == (
        "erasure", jana, "260000117",
    )  # fmt: skip


async def test_an_erased_person_can_no_longer_pass_the_identity_check(
    database: str,  # noqa: F811
) -> None:
    # (The erased date of birth is 0001-01-01, which "01.01.01" would otherwise match.)
    assert await store.identity_record("260000117") is not None
    with session_scope() as db_session:
        debtor = find_person(db_session=db_session, reference="260000117")
        erase.erase_person(
            db_session=db_session,
            holdings=holdings(db_session=db_session, debtor=debtor),
            actor="cli",
            now=utcnow(),
            force=True,
        )
    assert await store.identity_record("260000117") is None


# --- the real stack -----------------------------------------------------------------------


def _requests(database_url: str, sender: str) -> list[tuple[str, int | None]]:
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            found = db_session.scalars(
                select(PrivacyRequest).where(PrivacyRequest.conversation_id == sender)
            )
            return [(r.kind, r.debtor_id) for r in found]
    finally:
        engine.dispose()


@pytest.mark.integration
def test_a_german_debtor_asks_what_is_held_and_gets_the_controller(
    gateway: Gateway, database_url: str
) -> None:
    sender = f"privacy-{uuid.uuid4().hex[:10]}"
    answer = gateway.texts(sender, "Welche Daten habt ihr über mich gespeichert?")
    assert CONTROLLER in answer and PRIVACY_URL in answer
    assert "Art. 15" in answer
    assert _requests(database_url, sender) == [("access", None)]


@pytest.mark.integration
def test_an_erasure_request_during_the_identity_check_lets_the_check_go_on(
    gateway: Gateway, database_url: str
) -> None:
    sender = f"privacy-{uuid.uuid4().hex[:10]}"
    gateway.texts(sender, "Hello")
    answer = gateway.texts(sender, "Please delete all my personal data")
    assert "Art. 17 GDPR" in answer and CONTROLLER in answer
    assert "reference" in answer.lower()  # the check goes on
    assert _requests(database_url, sender) == [("erasure", None)]


CLONE = {
    "name": "Hanna Vergessen",
    "date_of_birth": "1979-05-06",
    "postcode": "24103",
    "phone": "+4915799911122",
    "email": "hanna.vergessen@example.org",
    "language": "de",
}


def _import_clone(database_url: str, reference: str) -> None:
    """Give the stack one claim of a person no other test knows."""
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            claim = db_session.get(Claim, "260000117")
            assert claim is not None
            claims_service.import_claims(
                db_session=db_session,
                data={
                    "format": "quitt-claims/1",
                    "creditors": [
                        {"id": claim.creditor.id, "name": claim.creditor.name,
                         "address": claim.creditor.address}
                    ],
                    "claims": [
                        {
                            "reference": reference, "creditor": claim.creditor.id,
                            "subject": "Stromabrechnung Q2", "due_date": "2026-06-30",
                            "currency": "EUR", "principal": "120.00", "interest": "0.00",
                            "fees": "5.00", "status": "open", "debtor": CLONE,
                        }
                    ],
                },
            )  # fmt: skip
    finally:
        engine.dispose()


@pytest.mark.integration
def test_a_verified_erasure_request_reaches_an_agent_who_erases_the_person(
    gateway: Gateway, database_url: str
) -> None:
    reference = f"79{uuid.uuid4().int % 10**7:07d}"
    _import_clone(database_url, reference)
    sender = f"privacy-{uuid.uuid4().hex[:10]}"
    said = [
        "Hallo",
        reference,
        "06.05.1979",
        "Ich heiße Hanna Vergessen, bitte löschen Sie alle meine Daten",
    ]
    answers = [gateway.texts(sender, text) for text in said]
    assert "Art. 17" in answers[-1] and CONTROLLER in answers[-1]

    # The agent finds the request, names the person by it and opens the masked export.
    auth = {"Authorization": f"Bearer {gateway.token}"}
    listed = gateway.http.get("/api/privacy/requests", params={"status": "open"}, headers=auth)
    (request,) = [r for r in listed.json() if r["conversation_id"] == sender]
    assert (request["kind"], request["claim_reference"]) == ("erasure", reference)
    export = gateway.http.get(
        "/api/privacy/export", params={"debtor_id": request["debtor_id"]}, headers=auth
    )
    assert export.status_code == 200, export.text
    document = export.json()
    assert document["debtor"]["date_of_birth"] == "**.**.1979"
    (conversation,) = [c for c in document["conversations"] if c["id"] == sender]
    assert said[-1] in [m["text"] for m in conversation["messages"]]

    # The claim is open: refused. Once paid, the erasure goes through and leaves nothing.
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            debtor = find_person(db_session=db_session, reference=reference)
            with pytest.raises(erase.ErasureRefused):
                erase.erase_person(
                    db_session=db_session,
                    holdings=holdings(db_session=db_session, debtor=debtor),
                    actor="agent:test",
                    now=utcnow(),
                )
            db_session.get(Claim, reference).status = "paid"  # type: ignore[union-attr]
            db_session.flush()
            report = erase.erase_person(
                db_session=db_session,
                holdings=holdings(db_session=db_session, debtor=debtor),
                actor="agent:test",
                now=utcnow(),
            )
        assert report.counts["tracker_events"] > 0
        needles = {
            "name": [CLONE["name"], "Vergessen"],
            "phone": [CLONE["phone"]],
            "e-mail": [CLONE["email"]],
            "date of birth": [CLONE["date_of_birth"], "06.05.1979"],
            "message": [said[-1]],
            "conversation": [sender],
        }
        with engine.connect() as connection:
            traces = scan(connection, needles)
        assert traces == [], "\n".join(map(str, traces))
    finally:
        engine.dispose()
