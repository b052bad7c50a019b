"""Rasa's REST channel, served by the gateway so every message passes through it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator

from api.dialogue.service import MAX_MESSAGE_CHARS, Inbound, clean_text, handle_inbound

router = APIRouter(tags=["channels"])


class RestMessage(BaseModel):
    """A debtor message in Rasa's REST-channel shape."""

    sender: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w.:+@-]+$")]
    message: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("message")
    @classmethod
    def _clean(cls, value: str) -> str:
        return clean_text(value)


class BotMessage(BaseModel):
    """One bot turn in Rasa's REST-channel shape."""

    recipient_id: str
    text: str | None = None
    buttons: list[dict[str, Any]] | None = None
    custom: dict[str, Any] | None = None
    image: str | None = None


@router.post(
    "/webhooks/rest/webhook", response_model=list[BotMessage], response_model_exclude_none=True
)
async def rest_webhook(body: RestMessage, request: Request) -> list[BotMessage]:
    """Take a debtor message and answer with the bot's turns (none while an agent holds it)."""
    metadata = {k: v for k, v in body.metadata.items() if k in ("language",) and v in ("de", "en")}
    if not body.message:
        return []
    replies = await handle_inbound(
        Inbound(sender=body.sender, channel="rest", text=body.message, metadata=metadata),
        gateway=request.app.state.gateway,
    )
    return [BotMessage.model_validate({"recipient_id": body.sender, **r}) for r in replies]
