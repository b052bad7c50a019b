"""`quitt privacy erase`: nothing of the person left (by a scan of every table), books intact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.claims.models import Claim, Debtor
from api.conversations.models import Conversation, Message
from api.handoffs.models import Handoff
from api.payments.models import Payment
from api.privacy import erase
from api.privacy.errors import ErasureRefused
from api.privacy.models import PrivacyErasure
from api.privacy.person import find_person, holdings
from api.privacy.scan import scan
from api.promises.models import Instalment, Promise
from tests.api.privacy_people import People, seed

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
    from api.claims import service as claim_service
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
