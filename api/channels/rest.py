"""Rasa's REST channel, served by the gateway so every message passes through it.

Each message is processed once (`api.channels.dedup`): a client may name its
message with `metadata.message_id` or an `Idempotency-Key` header, and a repeat
gets the first answer again (409 while the first is still being answered).
Unnamed, the same text from the same sender while the first copy is being
answered is a double click: answered `[]`.

The channel trusts its caller to speak for `sender`, so it is for a website's
backend and for tests, not for browsers (the public website uses the socket.io
channel, whose session ids cannot be guessed). With `QUITT_REST_TOKEN` set, a
call must carry `Authorization: Bearer <token>`; unset, the channel is open, as
in development and tests (production refuses to start so unless
`QUITT_REST_PUBLIC=true`, see `Settings.rest_channel_problem`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, field_validator

from api.channels import dedup
from api.dialogue.service import MAX_MESSAGE_CHARS, Inbound, clean_text, handle_inbound
from domain.config import get_settings
from domain.db import session_scope
from domain.errors import Conflict, Unauthorized
from domain.ratelimit import METADATA_KEY, ip_key

router = APIRouter(tags=["channels"])
CHANNEL: Final = "rest"
# Lone UTF-16 surrogates ("\ud800" in JSON) cannot be stored or sent on as UTF-8.
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")


# Its own scheme in the OpenAPI document: agents' bearer tokens are another matter.
_rest_token = HTTPBearer(
    auto_error=False,
    scheme_name="RestToken",
    description="QUITT_REST_TOKEN; required when the gateway sets one.",
)


def trusted_caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_rest_token)],
) -> None:
    """Let a call through when no token is set or it carries the token; refuse it otherwise."""
    token = get_settings().rest_token
    if token is None:
        return
    if credentials is None:
        raise Unauthorized("the REST channel needs an 'Authorization: Bearer <token>' header")
    # In constant time, so the answer's timing tells nothing about the token.
    given = credentials.credentials.encode()
    if not hmac.compare_digest(given, token.get_secret_value().encode()):
        raise Unauthorized("wrong REST channel token")


class RestMessage(BaseModel):
    """A debtor message in Rasa's REST-channel shape."""

    sender: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w.:+@-]+$")]
    message: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("message")
    @classmethod
    def _clean(cls, value: str) -> str:
        return clean_text(_SURROGATE.sub("", value))

    @field_validator("metadata")
    @classmethod
    def _message_id(cls, value: dict[str, Any]) -> dict[str, Any]:
        given = value.get("message_id")
        if given is not None and (
            not isinstance(given, str | int)
            or isinstance(given, bool)
            or not 0 < len(str(given)) <= dedup.MAX_MESSAGE_ID_CHARS
        ):
            raise ValueError(
                f"message_id must be a string of 1 to {dedup.MAX_MESSAGE_ID_CHARS} characters"
            )
        return value

    def message_id(self, header: str | None) -> str | None:
        """Return the client's name for this message (the header first), if it gave one."""
        given = header if header is not None else self.metadata.get("message_id")
        return None if given is None else str(given)


class BotMessage(BaseModel):
    """One bot turn in Rasa's REST-channel shape."""

    recipient_id: str
    text: str | None = None
    buttons: list[dict[str, Any]] | None = None
    custom: dict[str, Any] | None = None
    image: str | None = None


def _claim(delivery: dedup.Delivery) -> tuple[bool, str | None]:
    """Take the delivery; for a duplicate, return the first answer if there is one."""
    with session_scope() as db_session:
        if dedup.claim(db_session=db_session, delivery=delivery):
            return True, None
        return False, dedup.answer_of(db_session=db_session, delivery=delivery)


def _answered(delivery: dedup.Delivery, answer: str) -> None:
    with session_scope() as db_session:
        dedup.answered(db_session=db_session, delivery=delivery, response=answer)


def _release(delivery: dedup.Delivery) -> None:
    with session_scope() as db_session:
        dedup.release(db_session=db_session, delivery=delivery)


@router.post(
    "/webhooks/rest/webhook",
    response_model=list[BotMessage],
    response_model_exclude_none=True,
    dependencies=[Depends(trusted_caller)],
    responses={
        409: {"description": "A message with this id is still being answered."},
        503: {"description": "The dialogue engine or the database is unavailable."},
    },
)
async def rest_webhook(
    body: RestMessage,
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=dedup.MAX_MESSAGE_ID_CHARS)
    ] = None,
) -> list[BotMessage]:
    """Take a debtor message and answer with the bot's turns (none while an agent holds it)."""
    metadata: dict[str, Any] = {
        k: v for k, v in body.metadata.items() if k in ("language",) and v in ("de", "en")
    }
    message_id = body.message_id(idempotency_key)
    if not body.message:
        return []
    client = ip_key(request.client.host if request.client else None)
    if client:
        # The verification rate limit counts per client; only a keyed hash travels.
        metadata[METADATA_KEY] = client
    inbound = Inbound(sender=body.sender, channel=CHANNEL, text=body.message, metadata=metadata)
    if message_id is None:
        with dedup.IN_FLIGHT_MESSAGES.hold(body.sender, body.message) as first:
            if not first:
                return []  # a double click: the first copy's request gets the answer
            replies = await handle_inbound(inbound, gateway=request.app.state.gateway)
        return _turns(body.sender, replies)
    delivery = dedup.Delivery.of(channel=CHANNEL, sender=body.sender, message_id=message_id)
    new, answer = await asyncio.to_thread(_claim, delivery)
    if not new:
        if answer is None:
            raise Conflict("message_id: this message is still being answered; retry shortly")
        return [BotMessage.model_validate(r) for r in json.loads(answer)]
    try:
        replies = await handle_inbound(inbound, gateway=request.app.state.gateway)
    except BaseException:
        await asyncio.to_thread(_release, delivery)
        raise
    turns = _turns(body.sender, replies)
    stored = json.dumps([t.model_dump(exclude_none=True) for t in turns])
    await asyncio.to_thread(_answered, delivery, stored)
    return turns


def _turns(sender: str, replies: list[dict[str, Any]]) -> list[BotMessage]:
    """Return the gateway's answer in the channel's shape."""
    return [BotMessage.model_validate({"recipient_id": sender, **r}) for r in replies]
