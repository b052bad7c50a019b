"""Dispute answers for the console API."""

from __future__ import annotations

from datetime import datetime

from domain.db.schemas import ORMModel


class DisputeOut(ORMModel):
    """A dispute raised against a claim."""

    id: int
    reason_text: str
    status: str
    conversation_id: str | None
    created_at: datetime
