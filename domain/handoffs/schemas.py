"""Handoff answers for the console API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from domain.db.schemas import ORMModel


class HandoffOut(ORMModel):
    """A handoff as listed in the console; `sender` is the conversation's sender id."""

    id: int
    sender: str = Field(validation_alias="conversation_id")
    channel: str
    reason: str
    state: str
    claim_reference: str | None
    language: str | None
    created_at: datetime
    sentiment_trail: list[Any]
    # The bot's statement for the agent (an affordability check), or null.
    statement: dict[str, Any] | None = None
