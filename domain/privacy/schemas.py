"""Answers of the privacy API."""

from __future__ import annotations

from datetime import datetime

from domain.db.schemas import ORMModel


class PrivacyRequestOut(ORMModel):
    """A debtor's request to see or erase their data, as agents list it."""

    id: int
    kind: str
    status: str
    conversation_id: str | None
    channel: str
    language: str
    debtor_id: int | None
    claim_reference: str | None
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
