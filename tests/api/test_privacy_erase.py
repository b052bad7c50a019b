"""`quitt privacy erase`: nothing of the person left (by a scan of every table), books intact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.privacy import commands
from domain.audit import service as audit_service
from domain.audit.models import AuditEvent
from domain.claims.models import Claim, Debtor
from domain.conversations import service as conversations_service
from domain.conversations.models import Conversation, Message
from domain.handoffs.models import Handoff
from domain.payments.models import Payment
from domain.privacy import erase
from domain.privacy.errors import ErasureRefused
from domain.privacy.models import PrivacyErasure
from domain.privacy.person import find_person, holdings
from domain.privacy.scan import scan
from domain.promises.models import Instalment, Promise
from domain.whatsapp import service as whatsapp_service
from domain.whatsapp.models import WhatsAppContact, WhatsAppSuppression
from tests.api.privacy_people import (
    OTTO_ABOUT_ERIKA,
    People,
    otto_writes_erikas_contact,
    seed,
    seed_other_payments,
    share_the_household_phone,
)

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


@pytest.fixture
def people(db_session: Session) -> People:
    """Seed Erika and Otto in the test transaction."""
    return seed(db_session)


def _erase(db_session: Session, debtor_id: int, *, force: bool = False) -> erase.ErasureReport:
    debtor = find_person(db_session=db_session, debtor_id=debtor_id)
    return erase.erase_person(
        db_session=db_session,
        holdings=holdings(db_session=db_session, debtor=debtor),
        actor="cli",
        now=NOW,
        force=force,
    )


def _settle(db_session: Session, *references: str) -> None:
    for reference in references:
        db_session.get(Claim, reference).status = "paid"  # type: ignore[union-attr]
    db_session.flush()


def _books(db_session: Session) -> dict[str, object]:
    """Return what the creditor's books show: claim totals, promises and instalments."""
    claims = {
        c.reference: (c.principal, c.interest, c.fees, c.status)
        for c in db_session.scalars(select(Claim).where(Claim.reference.like("PRIV-%")))
    }
    promises = {
        p.id: (p.amount, p.status, len(p.parts)) for p in db_session.scalars(select(Promise))
    }
    instalments = db_session.scalar(select(func.sum(Instalment.amount)))
    payments = {
        p.transaction_id: (
            p.amount,
            p.booked_on,
            p.claim_reference,
            [a.amount for a in p.allocations],
        )
        for p in db_session.scalars(select(Payment))
    }
    return {
        "claims": claims, "promises": promises, "instalments": instalments, "payments": payments,
    }  # fmt: skip


def test_an_open_claim_refuses_the_erasure_and_changes_nothing(
    db_session: Session, people: People
) -> None:
    with pytest.raises(ErasureRefused) as refused:
        _erase(db_session, people.erika.debtor_id)
    assert refused.value.blockers == ["claim PRIV-A-2 is open, not paid"]
    assert db_session.get(Debtor, people.erika.debtor_id).name == people.erika.name  # type: ignore[union-attr]
    assert scan(db_session.connection(), people.erika.identity)  # all still there


def test_an_erasure_leaves_no_trace_of_the_person_and_the_books_still_add_up(
    db_session: Session, people: People
) -> None:
    _settle(db_session, "PRIV-A-2")
    books = _books(db_session)
    audit_entries = db_session.scalar(select(func.count()).select_from(AuditEvent))
    erika, otto = people.erika, people.otto

    report = _erase(db_session, erika.debtor_id)

    assert not report.forced
    assert report.counts["conversations"] == 3
    assert report.counts["messages"] == 6  # five of hers and an agent's reply
    assert report.counts["attachments"] == 1
    assert report.counts["payments"] == 1
    traces = scan(db_session.connection(), erika.needles)
    assert traces == [], "\n".join(map(str, traces))
    # What must stay is there, with the same amounts.
    assert _books(db_session) == books
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == audit_entries + 1
    debtor = db_session.get(Debtor, erika.debtor_id)
    assert debtor is not None and debtor.name == report.pseudonym
    assert (debtor.phone, debtor.email, debtor.postcode) == (None, None, "")
    assert {
        c.debtor_id
        for c in db_session.scalars(select(Claim).where(Claim.reference.in_(erika.references)))
    } == {erika.debtor_id}
    ids = set(
        db_session.scalars(
            select(Conversation.sender_id).where(Conversation.debtor_id == erika.debtor_id)
        )
    )
    assert ids and all(i.startswith(f"{report.pseudonym}:") for i in ids)
    promise = db_session.get(Promise, people.promise_id)
    assert promise is not None and promise.conversation_id.startswith(report.pseudonym)  # type: ignore[union-attr]
    handoff = db_session.get(Handoff, people.handoff_id)
    assert handoff is not None and handoff.conversation_id.startswith(report.pseudonym)
    assert handoff.statement is None  # her income and outgoings go with the texts
    # The transcript keeps who wrote when, not what.
    kept = list(db_session.scalars(select(Message).where(Message.conversation_id.in_(ids))))
    assert kept and all(m.text == "" and m.data is None for m in kept)
    # Otto is untouched.
    assert scan(db_session.connection(), {"otto": [otto.name, otto.messages[0], otto.email]})
    # Audited, without personal data.
    (entry,) = audit_service.list_events(db_session=db_session, kind="privacy_erased")
    assert entry.reasons == ["art17_erasure"]
    assert entry.data["debtor_id"] == erika.debtor_id  # type: ignore[index]
    assert entry.data["pseudonym"] == report.pseudonym  # type: ignore[index]
    record = db_session.scalar(select(PrivacyErasure))
    assert record is not None and (record.forced, record.actor) == (False, "cli")


def test_force_erases_an_open_claim_and_says_so(db_session: Session, people: People) -> None:
    report = _erase(db_session, people.erika.debtor_id, force=True)
    assert report.forced
    assert report.blockers == ("claim PRIV-A-2 is open, not paid",)
    (entry,) = audit_service.list_events(db_session=db_session, kind="privacy_erased")
    assert entry.reasons == ["art17_erasure", "forced"]
    assert scan(db_session.connection(), people.erika.needles) == []
    # The erased person can no longer be named by what they were.
    with pytest.raises(ErasureRefused, match="was erased on 2026-12-08"):
        _erase(db_session, people.erika.debtor_id, force=True)


def test_a_person_handling_the_conversation_blocks_the_erasure(
    db_session: Session, people: People
) -> None:
    _settle(db_session, "PRIV-A-2")
    handoff = db_session.get(Handoff, people.handoff_id)
    assert handoff is not None
    handoff.state = "assigned"
    db_session.flush()
    with pytest.raises(ErasureRefused) as refused:
        _erase(db_session, people.erika.debtor_id)
    assert refused.value.blockers == [
        f"handoff {people.handoff_id} is assigned: a person is handling it"
    ]


def test_the_audit_log_lets_only_a_pseudonymisation_through(
    db_session: Session, people: People
) -> None:
    connection = db_session.connection()
    entry_id = connection.execute(
        text("SELECT id FROM audit_events WHERE conversation_id = 'web-erika-1' ORDER BY id")
    ).scalar()
    refused = [
        "UPDATE audit_events SET kind = 'changed' WHERE id = :id",
        "UPDATE audit_events SET conversation_id = 'someone-else' WHERE id = :id",
        "UPDATE audit_events SET conversation_id = 'erased:x', kind = 'changed' WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ]
    for statement in refused:
        with pytest.raises(DBAPIError), db_session.begin_nested():
            db_session.execute(text(statement), {"id": entry_id})
    db_session.execute(
        text("UPDATE audit_events SET conversation_id = 'erased:x:1', data = NULL WHERE id = :id"),
        {"id": entry_id},
    )
    assert db_session.get(AuditEvent, entry_id).conversation_id == "erased:x:1"  # type: ignore[union-attr]


def test_the_instalments_still_sum_to_the_promise(db_session: Session, people: People) -> None:
    _settle(db_session, "PRIV-A-2")
    _erase(db_session, people.erika.debtor_id)
    promise = db_session.get(Promise, people.promise_id)
    assert promise is not None
    assert sum(i.amount for i in promise.instalments) == promise.amount == Decimal("256.10")


def test_a_reimport_of_the_old_file_does_not_bring_the_erased_person_back(
    db_session: Session, people: People
) -> None:
    from domain.claims import service as claim_service
    from tests.api.privacy_people import CREDITOR, ERIKA, _claim

    _settle(db_session, "PRIV-A-2")
    report = _erase(db_session, people.erika.debtor_id)
    again = claim_service.import_claims(
        db_session=db_session,
        data={
            "format": "quitt-claims/1",
            "creditors": [CREDITOR],
            "claims": [_claim("PRIV-A-1", ERIKA, "paid", "240.00")],
        },
    )
    assert any("erased on request" in w for w in again.warnings)
    claim = db_session.get(Claim, "PRIV-A-1")
    assert claim is not None and claim.debtor_id == people.erika.debtor_id
    assert db_session.get(Debtor, people.erika.debtor_id).name == report.pseudonym  # type: ignore[union-attr]
    assert scan(db_session.connection(), people.erika.needles) == []


# --- review of issue 15 -------------------------------------------------------------------


def _messages(db_session: Session, conversation_id: str) -> list[str]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(Message.text)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id)
        )
    )


def test_erasing_a_household_phone_leaves_the_other_persons_whatsapp_chat_alone(
    db_session: Session, people: People
) -> None:
    share_the_household_phone(db_session, people)
    _settle(db_session, "PRIV-B-1")
    whatsapp = people.erika.conversations[0]
    before = _messages(db_session, whatsapp)
    held = holdings(
        db_session=db_session, debtor=find_person(db_session=db_session, reference="PRIV-B-1")
    )
    planned = erase.plan(db_session=db_session, holdings=held)
    assert planned.not_touched == (whatsapp,)
    assert "not touched, another debtor's conversations: 1 (whatsapp:+49******66)" in (
        commands._plan_text(planned)
    )

    report = _erase(db_session, people.otto.debtor_id)

    assert report.counts["conversations_not_touched"] == 1
    assert _messages(db_session, whatsapp) == before and all(before)
    conversation = db_session.get(Conversation, whatsapp)
    assert conversation is not None and conversation.anonymised_at is None
    assert db_session.get(WhatsAppContact, whatsapp) is not None
    kinds = [
        e.kind for e in audit_service.list_events(db_session=db_session, conversation_id=whatsapp)
    ]
    assert "whatsapp_opt_out" in kinds


def test_erasing_her_leaves_the_chat_in_which_another_debtor_typed_her_details(
    db_session: Session, people: People
) -> None:
    otto_writes_erikas_contact(db_session)
    _settle(db_session, "PRIV-A-2")
    report = _erase(db_session, people.erika.debtor_id)
    assert report.counts["conversations"] == 3
    assert _messages(db_session, "web-otto-1") == [people.otto.messages[0], OTTO_ABOUT_ERIKA]
    assert db_session.get(Conversation, "web-otto-1") is not None


def test_the_audit_log_refuses_a_cover_up_and_erasure_still_works(
    db_session: Session, people: People
) -> None:
    connection = db_session.connection()

    def entry(kind: str) -> int:
        found = connection.execute(
            text("SELECT id FROM audit_events WHERE kind = :kind ORDER BY id"), {"kind": kind}
        ).scalar()
        assert found is not None, kind
        return int(found)

    verified = entry("verification_succeeded")
    request = entry("privacy_request_recorded")
    audit_service.record(
        db_session=db_session, kind="privacy_export_opened", reasons=("art15_access",),
        data={"debtor_id": people.erika.debtor_id, "actor": "agent:1", "masked": True},
    )  # fmt: skip
    opened = entry("privacy_export_opened")
    db_session.execute(
        text("UPDATE audit_events SET conversation_id = 'erased:x:1', data = NULL WHERE id = :id"),
        {"id": verified},
    )
    refused = [
        # Pseudonymised once: never rewritten after.
        ("UPDATE audit_events SET conversation_id = 'erased:y:1' WHERE id = :id", verified),
        ("UPDATE audit_events SET data = '{\"x\": 1}' WHERE id = :id", verified),
        # A row that names no conversation is never rewritten.
        ("UPDATE audit_events SET conversation_id = 'erased:z:1', data = NULL WHERE id = :id",
         opened),
        ("UPDATE audit_events SET conversation_id = NULL, data = NULL WHERE id = :id", opened),
        ("UPDATE audit_events SET conversation_id = NULL, data = NULL WHERE id = :id", request),
        # The privacy domain's own entries keep their data.
        ("UPDATE audit_events SET conversation_id = 'erased:p:1', data = NULL WHERE id = :id",
         request),
    ]  # fmt: skip
    for statement, entry_id in refused:
        with pytest.raises(DBAPIError), db_session.begin_nested():
            db_session.execute(text(statement), {"id": entry_id})
    data = connection.execute(
        text("SELECT data FROM audit_events WHERE id = :id"), {"id": opened}
    ).scalar()
    assert data is not None

    # The erasure still pseudonymises every entry of her conversations, once.
    _settle(db_session, "PRIV-A-2")
    report = _erase(db_session, people.erika.debtor_id)
    assert report.counts["audit_events"] > 0
    db_session.expire_all()
    renamed = db_session.get(AuditEvent, request)
    assert renamed is not None and renamed.conversation_id.startswith(f"{report.pseudonym}:")  # type: ignore[union-attr]
    assert renamed.data is not None and renamed.data["kind"] == "access"
    assert scan(db_session.connection(), people.erika.needles) == []


def test_her_unmatched_and_misallocated_payments_are_pseudonymised_and_ottos_name_stays(
    db_session: Session, people: People
) -> None:
    ids = seed_other_payments(db_session)
    _settle(db_session, "PRIV-A-2")
    books = _books(db_session)

    report = _erase(db_session, people.erika.debtor_id)

    assert report.counts["payments"] == 4  # her booked one, two unmatched, the misallocated
    assert report.counts["payments_of_others"] == 1  # Otto's split payment
    assert _books(db_session) == books
    payments = {p.transaction_id: p for p in db_session.scalars(select(Payment))}
    for transaction_id in (ids.by_name, ids.by_reference, ids.misallocated):
        assert payments[transaction_id].payer == report.pseudonym, transaction_id
    assert payments[ids.by_reference].remittance == "PRIV-A-2"  # still bookable
    assert payments[ids.by_name].remittance == ""
    assert payments[ids.misallocated].remittance == "PRIV-B-1"
    split = payments[ids.split]
    assert split.payer == people.otto.name
    assert split.remittance == "PRIV-A-1 PRIV-B-1 fuer Erika und mich [erased]"
    assert payments["TX-PRIV-2"].payer == people.otto.name
    traces = scan(db_session.connection(), people.erika.needles)
    assert traces == [], "\n".join(map(str, traces))


def test_her_whatsapp_stop_outlives_the_erasure(db_session: Session, people: People) -> None:
    whatsapp = people.erika.conversations[0]
    _settle(db_session, "PRIV-A-2")
    _erase(db_session, people.erika.debtor_id)
    assert db_session.get(WhatsAppContact, whatsapp) is None
    (kept,) = db_session.scalars(select(WhatsAppSuppression))
    assert people.erika.phone[1:] not in kept.number_hash
    assert scan(db_session.connection(), people.erika.needles) == []

    # The number writes again (a new claim, a new owner): nothing goes out to it.
    contact = whatsapp_service.touch_contact(
        db_session=db_session, address=whatsapp, our_address="whatsapp:+4930123"
    )
    assert contact.opted_out_at is not None
    conversations_service.get_or_create(
        db_session=db_session, sender_id=whatsapp, channel="whatsapp"
    )
    message = conversations_service.add_message(
        db_session=db_session, sender_id=whatsapp, direction="out", author="agent",
        text="Guten Tag, hier ist Quitt.",
    )  # fmt: skip
    delivery = whatsapp_service.claim_agent_message(
        db_session=db_session, message_id=message.id, address=whatsapp
    )
    assert delivery is not None and delivery.refused == "whatsapp_opted_out"
    # Another number is not held back.
    other = whatsapp_service.touch_contact(
        db_session=db_session, address="whatsapp:+4915111122233", our_address="whatsapp:+4930123"
    )
    assert other.opted_out_at is None
