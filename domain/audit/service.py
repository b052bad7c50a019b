"""The audit log: every policy decision with its reason codes and policy version."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit.models import AuditEvent


def record(
    *,
    db_session: Session,
    kind: str,
    conversation_id: str | None = None,
    claim_reference: str | None = None,
    reasons: Iterable[str] = (),
    policy_version: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log."""
    event = AuditEvent(
        kind=kind,
        conversation_id=conversation_id,
        claim_reference=claim_reference,
        reasons=list(reasons),
        policy_version=policy_version,
        data=data,
    )
    db_session.add(event)
    db_session.flush()
    return event


def list_events(
    *,
    db_session: Session,
    conversation_id: str | None = None,
    claim_reference: str | None = None,
    kind: str | None = None,
) -> list[AuditEvent]:
    """List audit events in the order they were written, optionally filtered."""
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if conversation_id is not None:
        stmt = stmt.where(AuditEvent.conversation_id == conversation_id)
    if claim_reference is not None:
        stmt = stmt.where(AuditEvent.claim_reference == claim_reference)
    if kind is not None:
        stmt = stmt.where(AuditEvent.kind == kind)
    return list(db_session.scalars(stmt))
