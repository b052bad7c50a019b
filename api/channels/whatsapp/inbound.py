"""One WhatsApp message on its way in: opt-out, attachments, numbered options, the pipeline."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from api.dialogue.agents import message_view
from api.dialogue.service import MAX_MESSAGE_CHARS, Gateway, Inbound, handle_inbound
from api.events.bus import CONSOLE, EventBus
from api.twilio.client import Media, TwilioClient, TwilioError
from domain.db import session_scope
from domain.whatsapp import service as whatsapp_service
from policy.masking import mask_phone

from . import formatting
from .speech import Transcriber

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaItem:
    """One media file of an inbound message, as Twilio announces it."""

    url: str
    content_type: str

    @property
    def audio(self) -> bool:
        """Tell whether it is a voice note."""
        return self.content_type.startswith("audio/")


@dataclass(frozen=True)
class WhatsAppMessage:
    """An inbound WhatsApp message from Twilio's webhook."""

    sid: str
    address: str
    our_address: str
    body: str
    media: list[MediaItem] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """The bot turns to answer with; whether they replace the numbered options."""

    replies: list[dict[str, Any]]
    new_options: bool


# Renders the answer to an event and keeps it (views.py), in the message's last unit of work.
Answer = Callable[[Session, Outcome], str]


@dataclass(frozen=True)
class State:
    """What the channel knows of the contact when a message arrives."""

    opted_out: bool
    options: list[dict[str, Any]] | None
    language: str | None


def begin(db_session: Session, message: WhatsAppMessage) -> State:
    """Open (or keep open) the service window and read the contact's state."""
    contact = whatsapp_service.touch_contact(
        db_session=db_session, address=message.address, our_address=message.our_address
    )
    return State(
        contact.opted_out_at is not None,
        contact.options,
        whatsapp_service.conversation_language(db_session=db_session, address=message.address),
    )


def _answer_alone(answer: Answer, outcome: Outcome) -> str:
    """Render and keep the answer in a unit of work of its own (the pipeline was not asked)."""
    with session_scope() as db_session:
        return answer(db_session, outcome)


async def _publish(bus: EventBus, views: list[dict[str, Any]]) -> None:
    """Show transcript lines in the console."""
    for view in views:
        await bus.publish(CONSOLE, {"type": "message", **view})


def _bot(address: str, text: str) -> dict[str, Any]:
    """Return a channel answer in the pipeline's reply shape."""
    return {"recipient_id": address, "text": text}


async def _record(
    bus: EventBus, address: str, turns: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Store (author, text) turns the pipeline does not see, and show them in the console."""

    def store() -> list[dict[str, Any]]:
        with session_scope() as db_session:
            return [
                message_view(
                    whatsapp_service.record_message(
                        db_session=db_session, address=address, author=author, text=text
                    )
                )
                for author, text in turns
            ]

    views = await asyncio.to_thread(store)
    await _publish(bus, views)
    return views


async def _keyword(
    bus: EventBus, message: WhatsAppMessage, state: State, word: str
) -> Outcome | None:
    """Handle STOP/START; return None when the word means nothing here (START while in)."""
    language = formatting.keyword_language(message.body, state.language)

    def change() -> bool:
        with session_scope() as db_session:
            if word == "opt_out":
                return whatsapp_service.opt_out(db_session=db_session, address=message.address)
            return whatsapp_service.opt_in(db_session=db_session, address=message.address)

    if word == "opt_in" and not state.opted_out:
        return None
    changed = await asyncio.to_thread(change)
    if not changed:
        # Confirmed once: a second STOP is stored and gets no answer.
        await _record(bus, message.address, [("debtor", message.body)])
        return Outcome([], new_options=False)
    confirmation = formatting.text("opted_out" if word == "opt_out" else "opted_in", language)
    await _record(bus, message.address, [("debtor", message.body), ("bot", confirmation)])
    logger.info("WhatsApp %s for %s", word, mask_phone(message.address))
    return Outcome([_bot(message.address, confirmation)], new_options=False)


async def _download(client: TwilioClient, item: MediaItem) -> Media | None:
    """Fetch a voice note with the account's credentials; None when Twilio refuses."""
    try:
        return await client.download(item.url)
    except TwilioError as exc:
        logger.warning("voice note download failed: %s (HTTP %s)", exc.message, exc.status)
        return None


async def _attachments(
    message: WhatsAppMessage,
    state: State,
    *,
    bus: EventBus,
    client: TwilioClient,
    transcriber: Transcriber,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Keep the files for an agent and acknowledge them; return (acks, transcripts)."""
    rows: list[dict[str, Any]] = []
    transcripts: list[str] = []
    for item in message.media:
        row: dict[str, Any] = {"media_url": item.url, "content_type": item.content_type}
        if item.audio:
            media = await _download(client, item)
            if media is not None:
                row["size_bytes"] = len(media.content)
                row["sha256"] = hashlib.sha256(media.content).hexdigest()
                heard = await transcriber(
                    media.content, content_type=media.content_type, language=state.language
                )
                if heard and heard.strip():
                    row["transcript"] = heard.strip()
                    transcripts.append(heard.strip())
        rows.append(row)

    language = state.language

    def store() -> tuple[dict[str, Any], list[int]]:
        with session_scope() as db_session:
            ids = [
                whatsapp_service.add_attachment(
                    db_session=db_session,
                    address=message.address,
                    external_id=message.sid,
                    **row,
                ).id
                for row in rows
            ]
            line = " ".join(
                formatting.text("voice_line", language)
                if item.audio
                else formatting.text("attachment_line", language, content_type=item.content_type)
                for item in message.media
            )
            announced = whatsapp_service.record_message(
                db_session=db_session,
                address=message.address,
                author="debtor",
                text=line,
                data={"attachments": ids},
            )
            whatsapp_service.link_attachments(
                db_session=db_session, attachment_ids=ids, message_id=announced.id
            )
            return message_view(announced), ids

    view, ids = await asyncio.to_thread(store)
    await _publish(bus, [view])
    await bus.publish(
        CONSOLE,
        {
            "type": "alert",
            "reason": "whatsapp_attachment",
            "conversation_id": message.address,
            "attachment_ids": ids,
            "content_types": [item.content_type for item in message.media],
        },
    )
    acks: list[str] = []
    if any(not item.audio for item in message.media):
        acks.append(formatting.text("document_received", language))
    if any(item.audio for item in message.media) and not transcripts:
        acks.append(formatting.text("voice_received", language))
    await _record(bus, message.address, [("bot", ack) for ack in acks])
    return [_bot(message.address, ack) for ack in acks], transcripts


async def process(
    message: WhatsAppMessage,
    state: State,
    *,
    gateway: Gateway,
    client: TwilioClient,
    transcriber: Transcriber,
    answer: Answer,
) -> str:
    """Take one WhatsApp message through opt-out, attachments and the dialogue pipeline.

    `state` was read when the event was claimed; `answer` renders and keeps the
    reply, in the pipeline's last unit of work when the pipeline answers.
    """
    bus = gateway.bus
    word = formatting.keyword(message.body) if not message.media else None
    if word is not None:
        outcome = await _keyword(bus, message, state, word)
        if outcome is not None:
            return await asyncio.to_thread(_answer_alone, answer, outcome)
    if state.opted_out:
        # Stored for the record and the agents, but nothing more goes out.
        await _record(bus, message.address, [("debtor", message.body or "[…]")])
        return await asyncio.to_thread(_answer_alone, answer, Outcome([], new_options=False))
    acks: list[dict[str, Any]] = []
    texts = [message.body] if message.body else []
    if message.media:
        acks, transcripts = await _attachments(
            message, state, bus=bus, client=client, transcriber=transcriber
        )
        texts += transcripts
    text = " ".join(texts)[:MAX_MESSAGE_CHARS]
    if not text:
        return await asyncio.to_thread(_answer_alone, answer, Outcome(acks, new_options=False))
    chosen = formatting.resolve_choice(text, state.options)
    answered: list[str] = []

    def settle(db_session: Session, replies: list[dict[str, Any]]) -> None:
        answered.append(answer(db_session, Outcome(acks + replies, new_options=True)))

    await handle_inbound(
        Inbound(sender=message.address, channel="whatsapp", text=chosen or text, metadata={}),
        gateway=gateway,
        settle=settle,
    )
    return answered[0]
