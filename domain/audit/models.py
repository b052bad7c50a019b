"""AuditEvent table; rows can be added, never changed or removed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from domain.db import Base
from domain.db.columns import JSONType, UTCDateTime, utcnow


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


class AuditEvent(Base):
    """One decision: what happened, why (reason codes) and under which policy version."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    # No foreign keys: the log must outlive whatever it refers to.
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    claim_reference: Mapped[str | None] = mapped_column(String(32), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    policy_version: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper: Mapper[AuditEvent], _connection: object, target: AuditEvent) -> None:
    """Refuse to flush a change to an audit event."""
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper: Mapper[AuditEvent], _connection: object, target: AuditEvent) -> None:
    """Refuse to flush the deletion of an audit event."""
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """Refuse ORM-enabled bulk UPDATE/DELETE statements against the audit log."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEvent:
        raise AuditLogIsAppendOnly("the audit log is append-only")
