"""The audit log is append-only: the ORM and the database both refuse changes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.audit.models import AuditEvent, AuditLogIsAppendOnly


@pytest.fixture
def event(db_session: Session) -> AuditEvent:
    return audit_service.record(
        db_session=db_session,
        kind="offer_made",
        conversation_id="web-1",
        claim_reference="260000117",
        reasons=["settlement_within_limit"],
        policy_version="default@1",
        data={"amount": "428.11"},
    )


def test_record_and_list(db_session: Session, event: AuditEvent) -> None:
    audit_service.record(db_session=db_session, kind="handoff", reasons=("crisis",))
    events = audit_service.list_events(db_session=db_session)
    assert [e.kind for e in events] == ["offer_made", "handoff"]
    assert events[0].reasons == ["settlement_within_limit"]
    assert events[0].data == {"amount": "428.11"}
    assert events[0].created_at.tzinfo is not None
    assert audit_service.list_events(db_session=db_session, conversation_id="web-1") == [event]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET kind = 'rewritten'",
        "DELETE FROM audit_events",
    ],
)
def test_database_refuses_update_and_delete(
    db_session: Session, event: AuditEvent, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text(statement))
    db_session.expire_all()
    assert [e.kind for e in audit_service.list_events(db_session=db_session)] == ["offer_made"]


def test_orm_refuses_changes(db_session: Session, event: AuditEvent) -> None:
    event.kind = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()


def test_orm_refuses_deletes(db_session: Session, event: AuditEvent) -> None:
    db_session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()
    db_session.rollback()


def test_orm_refuses_bulk_statements(db_session: Session, event: AuditEvent) -> None:
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.execute(update(AuditEvent).values(kind="x"))
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.execute(delete(AuditEvent))
